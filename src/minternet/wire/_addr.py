"""IPv4 address text <-> 32-bit integer, memoized.

Every encode and decode converts addresses (for the header, for the pseudo-header checksum), and a
network has few of them: a dict lookup costs a third of ``inet_aton`` + ``int.from_bytes`` and a
quarter of ``inet_ntoa``. The caches are cleared when full, so random addresses (a fuzzer, a scan)
cannot grow them without bound.
"""

from __future__ import annotations

import ipaddress
import socket

_aton = socket.inet_aton
_ntoa = socket.inet_ntoa
_from_bytes = int.from_bytes
_MAX_ENTRIES = 4096

# Hot paths read these directly: ``TO_INT.get(text)``, falling back to the functions on a miss.
TO_INT: dict[str, int] = {}
TO_STR: dict[int, str] = {}


def addr_int(text: str) -> int:
    """'10.0.0.1' -> 0x0A000001; OSError (from ``inet_aton``) on anything that is not an address."""
    value = TO_INT.get(text)
    if value is None:
        value = _from_bytes(_aton(text), "big")
        if len(TO_INT) >= _MAX_ENTRIES:
            TO_INT.clear()
        TO_INT[text] = value
    return value


def addr_str(value: int) -> str:
    """0x0A000001 -> '10.0.0.1'."""
    text = TO_STR.get(value)
    if text is None:
        text = _ntoa(value.to_bytes(4, "big"))
        if len(TO_STR) >= _MAX_ENTRIES:
            TO_STR.clear()
        TO_STR[value] = text
    return text


def is_ipv4(text: str) -> bool:
    """Whether ``text`` is an IPv4 address in dotted form (a name otherwise, to be resolved)."""
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False
