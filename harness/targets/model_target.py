"""The reference model as a target (for `run --target model`)."""
from __future__ import annotations

import model
from contract.case import Case
from model.errors import InvalidCase

from .base import EXECUTOR_EXTENSIONS, EXECUTOR_FIELDS, Target


class ModelTarget(Target):
    name = "model"
    observable = EXECUTOR_FIELDS
    extensions = EXECUTOR_EXTENSIONS

    def __init__(self, kernel: str):
        self.kernel = kernel
        self.profile = model.profile(kernel)

    def callers_missing(self) -> str | None:
        return None  # model/userspace.py predicts them

    def run(self, case: Case) -> dict:
        try:
            return model.predict(case, self.profile)
        except InvalidCase as e:  # a case no kernel could be asked: name its field
            msg = str(e)
            where = msg.split(" ", 1)[0] if msg.startswith("exec.") else "files"
            return {"outcome": "case-error", "field": where, "error": msg}
