"""The reference model as a target (for `run --target model`)."""
from __future__ import annotations

import model
from harness.case import Case

from .base import Target


class ModelTarget(Target):
    name = "model"

    def __init__(self, kernel: str):
        self.kernel = kernel
        self.profile = model.profile(kernel)

    def run(self, case: Case) -> dict:
        return model.predict(case, self.profile)
