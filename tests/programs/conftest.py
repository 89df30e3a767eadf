"""Fixtures of the programs tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def isolated():
    """run_isolated(snippet): the snippet runs in a network namespace of its own (tests/isolated.py),
    so an experiment that escapes the guard is seen there and never reaches the real network."""
    import isolated as iso
    why = iso.available()
    if why:
        pytest.skip(why)
    return iso.run_isolated
