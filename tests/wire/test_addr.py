"""The memoized IPv4 address conversions the codecs share."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given

from minternet.wire import _addr

from .strategies import examples, u32


@examples(200)
@given(u32)
def test_round_trip_agrees_with_the_socket_module(value: int) -> None:
    text = _addr.addr_str(value)
    assert text == socket.inet_ntoa(value.to_bytes(4, "big"))
    assert _addr.addr_int(text) == value
    assert _addr.TO_INT[text] == value and _addr.TO_STR[value] == text  # served from the cache next


@pytest.mark.parametrize("text", ["", "10.0.0.256", "example.com", "1.2.3.4.5"])
def test_not_an_address(text: str) -> None:
    with pytest.raises(OSError):
        _addr.addr_int(text)
    assert text not in _addr.TO_INT


def test_caches_stay_bounded() -> None:
    for i in range(3 * _addr._MAX_ENTRIES):
        _addr.addr_str(0x0A000000 + i)
        _addr.addr_int(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    assert len(_addr.TO_STR) <= _addr._MAX_ENTRIES and len(_addr.TO_INT) <= _addr._MAX_ENTRIES
    assert _addr.addr_int("192.0.2.1") == 0xC0000201  # still right after clearing
