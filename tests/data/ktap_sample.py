"""Run only by tests/test_ktap.py (its name keeps it out of collection):
one test of each result kind."""
import pytest


def test_passes():
    assert True


def test_fails():
    assert 1 == 2, "the diff line a developer needs"


def test_skips():
    pytest.skip("the kernel lacks the feature")


@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n
