"""TCP segments (RFC 9293) and their options: EOL, NOP, MSS, window scale and timestamps (RFC 7323),
SACK-permitted and SACK blocks (RFC 2018). Unknown options are kept as they came."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import NamedTuple, Union

from .checksum import ones_sum, ones_sum2, pseudo_header_sum
from .errors import MalformedPacket

_HDR = struct.Struct("!HHIIBBHHH")
MIN_HEADER_LEN = 20
MAX_OPTIONS_LEN = 40
_aton = socket.inet_aton
_II = struct.Struct("!II")


class TCPFlags(IntFlag):
    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


_FLAG_LETTERS = ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x20, "U"), (0x40, "E"), (0x80, "W"))


def flags_str(flags: int) -> str:
    """tcpdump's notation: [S], [S.], [P.], [F.], [R] ('.' for ACK)."""
    text = "".join(letter for bit, letter in _FLAG_LETTERS if flags & bit)
    return text + ("." if flags & 0x10 else "")


# -- options ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EOL:
    """End of option list (kind 0)."""
    kind = 0

    def encode(self) -> bytes:
        return b"\x00"


@dataclass(frozen=True, slots=True)
class NOP:
    """No-operation (kind 1), used to align options."""
    kind = 1

    def encode(self) -> bytes:
        return b"\x01"


@dataclass(frozen=True, slots=True)
class MSS:
    """Maximum segment size (kind 2), only in SYNs."""
    value: int
    kind = 2

    def encode(self) -> bytes:
        return struct.pack("!BBH", 2, 4, self.value)


@dataclass(frozen=True, slots=True)
class WindowScale:
    """Window scale shift count (kind 3, RFC 7323 2)."""
    shift: int
    kind = 3

    def encode(self) -> bytes:
        return struct.pack("!BBB", 3, 3, self.shift)


@dataclass(frozen=True, slots=True)
class SackPermitted:
    """SACK permitted (kind 4, RFC 2018), only in SYNs."""
    kind = 4

    def encode(self) -> bytes:
        return b"\x04\x02"


@dataclass(frozen=True, slots=True)
class Sack:
    """SACK blocks (kind 5, RFC 2018): (left edge, right edge) pairs of received sequence space."""
    blocks: tuple[tuple[int, int], ...]
    kind = 5

    def encode(self) -> bytes:
        return bytes((5, 2 + 8 * len(self.blocks))) + b"".join(_II.pack(l, r) for l, r in self.blocks)


@dataclass(frozen=True, slots=True)
class Timestamps:
    """Timestamps (kind 8, RFC 7323 3): TSval and TSecr."""
    tsval: int
    tsecr: int
    kind = 8

    def encode(self) -> bytes:
        return b"\x08\x0a" + _II.pack(self.tsval, self.tsecr)


@dataclass(frozen=True, slots=True)
class UnknownOption:
    """An option we do not interpret, kept byte for byte."""
    kind: int
    data: bytes = b""

    def encode(self) -> bytes:
        return bytes((self.kind, 2 + len(self.data))) + self.data


TCPOption = Union[EOL, NOP, MSS, WindowScale, SackPermitted, Sack, Timestamps, UnknownOption]
_NOP = NOP()
_EOL = EOL()
_FIXED_LEN = {2: 4, 3: 3, 4: 2, 8: 10}


def encode_options(options: tuple[TCPOption, ...]) -> bytes:
    raw = b"".join(o.encode() for o in options)
    if len(raw) & 3:
        raw += b"\x00" * (4 - (len(raw) & 3))
    if len(raw) > MAX_OPTIONS_LEN:
        raise ValueError(f"TCP options take {len(raw)} bytes (at most {MAX_OPTIONS_LEN})")
    return raw


_ALIGNED_TS = b"\x01\x01\x08\x0a"


def decode_options(raw: bytes | memoryview) -> tuple[TCPOption, ...]:
    if len(raw) == 12 and raw[:4] == _ALIGNED_TS:
        # The layout nearly every segment of a timestamped connection carries (RFC 7323
        # Appendix A); Linux's tcp_parse_aligned_timestamp() takes the same shortcut.
        return (_NOP, _NOP, Timestamps(*_II.unpack_from(raw, 4)))
    out: list[TCPOption] = []
    i, n = 0, len(raw)
    while i < n:
        kind = raw[i]
        if kind == 0:
            out.append(_EOL)
            break  # what follows is padding
        if kind == 1:
            out.append(_NOP)
            i += 1
            continue
        if i + 1 >= n:
            raise MalformedPacket("tcp", "bad-option", f"option kind {kind} has no length byte")
        length = raw[i + 1]
        if length < 2 or i + length > n:
            raise MalformedPacket("tcp", "bad-option", f"option kind {kind} length {length} at offset {i}")
        want = _FIXED_LEN.get(kind)
        if want is not None and length != want:
            raise MalformedPacket("tcp", "bad-option", f"option kind {kind} length {length}, must be {want}")
        if kind == 2:
            out.append(MSS(int.from_bytes(raw[i + 2:i + 4], "big")))
        elif kind == 3:
            out.append(WindowScale(raw[i + 2]))
        elif kind == 4:
            out.append(SackPermitted())
        elif kind == 8:
            out.append(Timestamps(*_II.unpack_from(raw, i + 2)))
        elif kind == 5:
            if (length - 2) % 8 or length == 2:
                raise MalformedPacket("tcp", "bad-option", f"SACK option length {length}")
            out.append(Sack(tuple(_II.unpack_from(raw, j) for j in range(i + 2, i + length, 8))))
        else:
            out.append(UnknownOption(kind, bytes(raw[i + 2:i + length])))
        i += length
    return tuple(out)


# -- the segment ----------------------------------------------------------------------------------
class TCP(NamedTuple):
    """A TCP segment. ``reserved`` holds the 4 bits between data offset and flags (RFC 9293 3.1);
    ``checksum`` is as read off the wire; ``encode`` computes a fresh one."""

    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    payload: bytes = b""
    urgent: int = 0
    options: tuple[TCPOption, ...] = ()
    reserved: int = 0
    checksum: int = 0

    def option(self, kind: type) -> TCPOption | None:
        """The first option of the given class, or None: ``seg.option(MSS)``."""
        for o in self.options:
            if type(o) is kind:
                return o
        return None

    @property
    def header_length(self) -> int:
        return MIN_HEADER_LEN + len(encode_options(self.options)) if self.options else MIN_HEADER_LEN

    def encode(self, src: str, dst: str) -> bytes:
        opts = encode_options(self.options) if self.options else b""
        hl = MIN_HEADER_LEN + len(opts)
        length = hl + len(self.payload)
        offset_byte = (hl << 2) | self.reserved
        header = _HDR.pack(self.sport, self.dport, self.seq, self.ack, offset_byte, self.flags,
                           self.window, 0, self.urgent) + opts
        csum = ~ones_sum2(header, self.payload, pseudo_header_sum(_aton(src), _aton(dst), 6, length)) & 0xFFFF
        return header[:16] + csum.to_bytes(2, "big") + header[18:] + self.payload

    @classmethod
    def decode(cls, data: bytes | memoryview, src: str, dst: str, verify: bool = True) -> "TCP":
        n = len(data)
        if n < MIN_HEADER_LEN:
            raise MalformedPacket("tcp", "truncated", f"{n} bytes, header needs {MIN_HEADER_LEN}")
        sport, dport, seq, ack, off, flags, window, csum, urgent = _HDR.unpack_from(data)
        hl = (off >> 4) << 2
        if hl < MIN_HEADER_LEN or hl > n:
            raise MalformedPacket("tcp", "bad-data-offset", f"data offset {off >> 4}, have {n} bytes")
        if verify and ones_sum(data, pseudo_header_sum(_aton(src), _aton(dst), 6, n)) != 0xFFFF:
            raise MalformedPacket("tcp", "bad-checksum", f"checksum 0x{csum:04x}")
        options = decode_options(data[MIN_HEADER_LEN:hl]) if hl > MIN_HEADER_LEN else ()
        return cls(sport, dport, seq, ack, flags, window, bytes(data[hl:]), urgent, options, off & 0x0F, csum)

    def summary(self) -> str:
        text = f"TCP {self.sport} > {self.dport} [{flags_str(self.flags)}] seq={self.seq}"
        if self.flags & TCPFlags.ACK:
            text += f" ack={self.ack}"
        text += f" win={self.window}"
        if self.payload:
            text += f" len={len(self.payload)}"
        for o in self.options:
            if isinstance(o, MSS):
                text += f" mss={o.value}"
            elif isinstance(o, WindowScale):
                text += f" wscale={o.shift}"
            elif isinstance(o, SackPermitted):
                text += " sackOK"
            elif isinstance(o, Timestamps):
                text += f" TS={o.tsval}/{o.tsecr}"
            elif isinstance(o, Sack):
                text += " sack=" + ",".join(f"{l}-{r}" for l, r in o.blocks)
        return text
