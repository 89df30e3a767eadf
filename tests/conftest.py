"""Shared fixtures."""

from __future__ import annotations

import pytest
from netutil import chain

from minternet.observe.trace import Recorder


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def chain3():
    return chain(3)
