"""Errors travelling up: an ICMP error or a failed link resolution, as one transport error for the
flow it concerns, with the errno a socket reports (Linux's icmp_err_convert table)."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..wire.icmp import ICMP


class ErrorKind(Enum):
    """What went wrong, and (value) the errno and whether Linux treats it as fatal for a connecting
    socket (``icmp_err_convert[].fatal``; RFC 1122 4.2.3.9 calls the others soft)."""

    NET_UNREACHABLE = (errno.ENETUNREACH, True)
    HOST_UNREACHABLE = (errno.EHOSTUNREACH, True)
    PROTOCOL_UNREACHABLE = (errno.ENOPROTOOPT, True)
    PORT_UNREACHABLE = (errno.ECONNREFUSED, True)
    FRAG_NEEDED = (errno.EMSGSIZE, False)  # path MTU discovery: not an error for TCP
    SOURCE_ROUTE_FAILED = (errno.EOPNOTSUPP, False)
    PROHIBITED = (errno.EHOSTUNREACH, True)  # administratively prohibited (codes 9, 10, 13)
    TTL_EXCEEDED = (errno.EHOSTUNREACH, False)
    REASSEMBLY_TIMEOUT = (errno.EHOSTUNREACH, False)
    PARAMETER_PROBLEM = (errno.EPROTO, True)

    @property
    def errno(self) -> int:
        return self.value[0]

    @property
    def fatal(self) -> bool:
        return self.value[1]


# ICMP destination unreachable codes (RFC 792, 1122, 1812) to kinds, as Linux maps them.
_UNREACH = {0: ErrorKind.NET_UNREACHABLE, 1: ErrorKind.HOST_UNREACHABLE, 2: ErrorKind.PROTOCOL_UNREACHABLE,
            3: ErrorKind.PORT_UNREACHABLE, 4: ErrorKind.FRAG_NEEDED, 5: ErrorKind.SOURCE_ROUTE_FAILED,
            6: ErrorKind.NET_UNREACHABLE, 7: ErrorKind.HOST_UNREACHABLE, 8: ErrorKind.NET_UNREACHABLE,
            9: ErrorKind.PROHIBITED, 10: ErrorKind.PROHIBITED, 11: ErrorKind.NET_UNREACHABLE,
            12: ErrorKind.HOST_UNREACHABLE, 13: ErrorKind.PROHIBITED, 14: ErrorKind.HOST_UNREACHABLE,
            15: ErrorKind.HOST_UNREACHABLE}


@dataclass(frozen=True, slots=True)
class TransportError:
    """An error about a datagram this host sent, for the transport of its flow.

    ``src, sport, dst, dport`` is the quoted flow as it was sent (from us to the peer);
    ``reporter`` is the address that reported it (a router, the peer), or None when it was found
    here (the link could not resolve the next hop); ``mtu`` the next-hop MTU of a frag-needed."""

    kind: ErrorKind
    proto: int
    src: str
    sport: int
    dst: str
    dport: int
    reporter: str | None = None
    mtu: int = 0
    icmp: "ICMP | None" = None

    @property
    def errno(self) -> int:
        return self.kind.errno

    @property
    def local(self) -> bool:
        return self.reporter is None

    @staticmethod
    def kind_of(icmp_type: int, code: int) -> ErrorKind | None:
        """The kind of an ICMP error message, None for a type that is not an error we report."""
        if icmp_type == 3:
            return _UNREACH.get(code, ErrorKind.HOST_UNREACHABLE)
        if icmp_type == 11:
            return ErrorKind.TTL_EXCEEDED if code == 0 else ErrorKind.REASSEMBLY_TIMEOUT
        if icmp_type == 12:
            return ErrorKind.PARAMETER_PROBLEM
        return None
