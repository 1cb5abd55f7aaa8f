"""Pinned exec-core examples (the cases are data: generators/pinned/exec_core.py):
the shapes of the kernel's own selftests (tools/testing/selftests/exec/execveat.c,
null-argv.c, recursion-depth.c) and the rules found while building the
model, each compared in full with the model (argv, comm, AT_EXECFN included),
not only pass/fail."""
from __future__ import annotations

import pytest
from hypothesis import given

from generators.pinned.exec_core import EXECVEAT, NULL_ARGV, RECURSION, SCRIPT_RULES, TEXT_BUSY
from generators.writers import writer_cases


@pytest.mark.parametrize("name", EXECVEAT)
def test_execveat_selftest_shape(conform, name):
    conform(EXECVEAT[name].case, pinned=True)


@pytest.mark.parametrize("name", NULL_ARGV)
def test_null_argv(conform, name):
    conform(NULL_ARGV[name].case, pinned=True)


@pytest.mark.parametrize("name", RECURSION)
def test_recursion_depth(conform, name):
    conform(RECURSION[name].case, pinned=True)


@pytest.mark.parametrize("name", SCRIPT_RULES)
def test_script_rule(conform, name):
    conform(SCRIPT_RULES[name].case, pinned=True)


@pytest.mark.parametrize("name", TEXT_BUSY)
def test_text_busy(conform, name):
    conform(TEXT_BUSY[name].case, pinned=True)


@given(writer_cases())
def test_text_busy_generated(conform, case):
    conform(case)
