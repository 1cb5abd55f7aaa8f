"""Writers: any generated case with some of its regular files held open for
writing during the exec (files[].open_for_write), so that every file exec
opens -- program, #! and binfmt_misc interpreters, PT_INTERP, an F rule's
interpreter at registration -- meets deny_write_access() (ETXTBSY)."""
from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from contract.case import Case

MAX_WRITERS = 3  # the executor holds at most 64; a few is all a case needs


@st.composite
def with_writers(draw, cases: st.SearchStrategy[Case]) -> Case:
    case = draw(cases)
    regular = [i for i, f in enumerate(case.files) if f.type in ("file", "probe")]
    if not regular:
        return case
    chosen = draw(st.lists(st.sampled_from(regular), min_size=1, max_size=MAX_WRITERS, unique=True))
    files = tuple(replace(f, open_for_write=True) if i in chosen else f for i, f in enumerate(case.files))
    return replace(case, files=files)


def writer_cases() -> st.SearchStrategy[Case]:
    from . import registry
    return registry()["text-busy"]
