"""Errors travelling up: an ICMP error or a failed link resolution, as one transport error for the
flow it concerns, with the errno a socket reports (Linux's icmp_err_convert table)."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from enum import Enum, unique
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..wire.icmp import ICMP


@unique
class ErrorKind(Enum):
    """What went wrong. ``errno`` and ``fatal`` are those of the ICMP code it usually comes from
    (Linux's ``icmp_err_convert``; RFC 1122 4.2.3.9 calls the non-fatal ones soft); the error
    itself carries the errno and fatality of its exact code.

    Fatality is what a UDP socket goes by (``harderr``); TCP has its own rules (tcp_v4_err): a
    connect fails on any error but frag-needed, and a listener's half-open child is dropped for
    net/host unreachable (codes 0 and 1), time exceeded and parameter problem."""

    NET_UNREACHABLE = "net-unreachable"
    HOST_UNREACHABLE = "host-unreachable"
    PROTOCOL_UNREACHABLE = "protocol-unreachable"
    PORT_UNREACHABLE = "port-unreachable"
    FRAG_NEEDED = "frag-needed"  # path MTU discovery: not an error for TCP
    SOURCE_ROUTE_FAILED = "source-route-failed"
    PROHIBITED = "prohibited"  # administratively prohibited (codes 9, 10, 13)
    TTL_EXCEEDED = "ttl-exceeded"
    REASSEMBLY_TIMEOUT = "reassembly-timeout"
    PARAMETER_PROBLEM = "parameter-problem"

    @property
    def errno(self) -> int:
        return _USUAL[self][0]

    @property
    def fatal(self) -> bool:
        return _USUAL[self][1]


_USUAL = {
    ErrorKind.NET_UNREACHABLE: (errno.ENETUNREACH, False), ErrorKind.HOST_UNREACHABLE: (errno.EHOSTUNREACH, False),
    ErrorKind.PROTOCOL_UNREACHABLE: (errno.ENOPROTOOPT, True), ErrorKind.PORT_UNREACHABLE: (errno.ECONNREFUSED, True),
    ErrorKind.FRAG_NEEDED: (errno.EMSGSIZE, False), ErrorKind.SOURCE_ROUTE_FAILED: (errno.EOPNOTSUPP, False),
    ErrorKind.PROHIBITED: (errno.EHOSTUNREACH, True), ErrorKind.TTL_EXCEEDED: (errno.EHOSTUNREACH, False),
    ErrorKind.REASSEMBLY_TIMEOUT: (errno.EHOSTUNREACH, False), ErrorKind.PARAMETER_PROBLEM: (errno.EPROTO, True),
}


# ICMP destination unreachable codes (RFC 792, 1122, 1812): (kind, errno, fatal), Linux's
# icmp_err_convert table.
_UNREACH = {
    0: (ErrorKind.NET_UNREACHABLE, errno.ENETUNREACH, False),
    1: (ErrorKind.HOST_UNREACHABLE, errno.EHOSTUNREACH, False),
    2: (ErrorKind.PROTOCOL_UNREACHABLE, errno.ENOPROTOOPT, True),
    3: (ErrorKind.PORT_UNREACHABLE, errno.ECONNREFUSED, True),
    4: (ErrorKind.FRAG_NEEDED, errno.EMSGSIZE, False),
    5: (ErrorKind.SOURCE_ROUTE_FAILED, errno.EOPNOTSUPP, False),
    6: (ErrorKind.NET_UNREACHABLE, errno.ENETUNREACH, True),  # net unknown
    7: (ErrorKind.HOST_UNREACHABLE, errno.EHOSTDOWN, True),  # host unknown
    8: (ErrorKind.HOST_UNREACHABLE, errno.ENONET, True),  # host isolated
    9: (ErrorKind.PROHIBITED, errno.ENETUNREACH, True),
    10: (ErrorKind.PROHIBITED, errno.EHOSTUNREACH, True),
    11: (ErrorKind.NET_UNREACHABLE, errno.ENETUNREACH, False),  # for this TOS
    12: (ErrorKind.HOST_UNREACHABLE, errno.EHOSTUNREACH, False),
    13: (ErrorKind.PROHIBITED, errno.EHOSTUNREACH, True),  # communication administratively filtered
    14: (ErrorKind.HOST_UNREACHABLE, errno.EHOSTUNREACH, True),  # precedence violation
    15: (ErrorKind.HOST_UNREACHABLE, errno.EHOSTUNREACH, True),  # precedence cutoff
}


@dataclass(frozen=True, slots=True)
class TransportError:
    """An error about a datagram this node sent, for the transport of its flow.

    ``src, sport, dst, dport`` is the quoted flow as it was sent (from us to the peer);
    ``reporter`` is the address that reported it (a router, the peer), or None when it was found
    here (the link could not resolve the next hop: Linux then sends itself a host unreachable);
    ``mtu`` the next-hop MTU of a frag-needed; ``errno`` and ``fatal`` as Linux converts the code;
    ``quoted`` the first bytes of the transport header the error quotes (RFC 792: at least 8), by
    which TCP checks the sequence number is one it has in flight; ``code`` the ICMP code (0 for
    an error found here)."""

    kind: ErrorKind
    proto: int
    src: str
    sport: int
    dst: str
    dport: int
    reporter: str | None = None
    mtu: int = 0
    icmp: "ICMP | None" = None
    errno: int = 0  # 0: the kind's usual errno
    fatal: bool | None = None  # None: the kind's usual fatality
    quoted: bytes = b""
    code: int = 0

    def __post_init__(self) -> None:
        if not self.errno:
            object.__setattr__(self, "errno", self.kind.errno)
        if self.fatal is None:
            object.__setattr__(self, "fatal", self.kind.fatal)

    @property
    def local(self) -> bool:
        return self.reporter is None

    @staticmethod
    def classify(icmp_type: int, code: int) -> tuple[ErrorKind, int, bool] | None:
        """(kind, errno, fatal) of an ICMP error message; None for a type we do not report
        (source quench, redirects)."""
        if icmp_type == 3:
            return _UNREACH.get(code)  # codes above 15 are ignored, as Linux does (NR_ICMP_UNREACH)
        if icmp_type == 11:
            return (ErrorKind.TTL_EXCEEDED if code == 0 else ErrorKind.REASSEMBLY_TIMEOUT), errno.EHOSTUNREACH, False
        if icmp_type == 12:
            return ErrorKind.PARAMETER_PROBLEM, errno.EPROTO, True
        return None
