"""The model's racy ELOOP near the symlink budget (model/namei.py): the
prediction allows ELOOP where a retried RCU walk can exceed MAXSYMLINKS.  The kernel side of it is exercised by
suites/test_paths.py::test_symlink_limit on every target."""
from __future__ import annotations

import model
from contract.case import Case, Exec, File, diff_outcomes


def chain(n: int, interp_via: int = 0) -> Case:
    files = [File(path=b"/p", type="probe", mode=0o755, tag="END")]
    prev = b"p"
    for i in range(n):
        files.append(File(path=b"/l%d" % i, type="symlink", mode=0o777, data=prev))
        prev = b"l%d" % i
    path = prev
    if interp_via:  # a script whose interpreter is reached through the same links again
        files.append(File(path=b"/s", type="file", mode=0o755, data=b"#!/l%d\n" % (interp_via - 1)))
        path = b"s"
    return Case(files=tuple(files), exec=Exec(path=b"/" + path, argv=(b"l",), envp=()))


def test_fresh_chain_at_the_budget_may_eloop():
    out = model.predict(chain(40), "6.18")
    assert out["outcome"] == "exec" and out["alternatives"] == [{"outcome": "error", "errno": "ELOOP"}]
    assert diff_outcomes(out, {"outcome": "error", "errno": "ELOOP"}) == []
    assert diff_outcomes(out, {"outcome": "error", "errno": "ENOENT"}) != []


def test_racy_from_21_links():
    assert "alternatives" in model.predict(chain(21), "6.18")  # 2 x 21 > 40
    assert "alternatives" not in model.predict(chain(20), "6.18")
    assert model.predict(chain(41), "6.18") == {"outcome": "error", "errno": "ELOOP"}


def test_interpreter_walk():
    # the script's own lookup walks no links, its interpreter's 21
    out = model.predict(chain(21, interp_via=21), "6.18")
    assert out["outcome"] == "exec" and "alternatives" in out
    assert "alternatives" not in model.predict(chain(20, interp_via=20), "6.18")
