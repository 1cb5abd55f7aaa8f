"""exec core: argv/envp vectors, argc == 0, MAX_ARG_STRLEN and the total
argument space (E2BIG), and which error wins when the file is missing too."""
from __future__ import annotations

from hypothesis import given, settings

from generators.vectors import limit_cases, vector_cases


@given(vector_cases())
def test_vectors(conform, case):
    conform(case)


@settings(max_examples=max(120, settings().max_examples // 4))  # megabyte cases: a share, not the whole budget
@given(limit_cases())
def test_argument_space(conform, case):
    conform(case)
