"""TCP segments (RFC 9293) and their options: EOL, NOP, MSS, window scale and timestamps (RFC 7323),
SACK-permitted and SACK blocks (RFC 2018). Unknown options are kept as they came.

Bad options do not make a segment malformed; the option list is read as Linux's
tcp_parse_options reads it (RFC 9293 MUST-7 allows either): a known option with the wrong length
is not interpreted (kept as an UnknownOption, byte for byte), and an option whose length byte is
missing, below 2 or past the end stops the parsing there: the options before it count, the rest
is kept as an OptionsCutShort."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import NamedTuple, Union

from . import _addr
from .checksum import sum_mod_ffff
from .errors import MalformedPacket

_HDR = struct.Struct("!HHIIBBHHH")
# The header with NOP, NOP, Timestamps (RFC 7323 Appendix A), packed in one go.
_HDR_TS = struct.Struct("!HHIIBBHHHBBBBII")
MIN_HEADER_LEN = 20
MAX_OPTIONS_LEN = 40
_II = struct.Struct("!II")
_III = struct.Struct("!III")
_from_bytes = int.from_bytes
_tuple_new = tuple.__new__
_TO_INT = _addr.TO_INT
_addr_int = _addr.addr_int
# The sum of the words 0x0101 (NOP, NOP) and 0x080a (kind 8, length 10) of that layout.
_TS_PREFIX_SUM = 0x0101 + 0x080A


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


@dataclass(frozen=True, slots=True)
class OptionsCutShort:
    """The rest of an option list that cannot be parsed (an option without a length byte, with
    a length below 2 or running past the end), byte for byte; always the last option decoded."""
    data: bytes
    kind = -1

    def encode(self) -> bytes:
        return self.data


TCPOption = Union[EOL, NOP, MSS, WindowScale, SackPermitted, Sack, Timestamps, UnknownOption, OptionsCutShort]
_NOP = NOP()
_EOL = EOL()


def encode_options(options: tuple[TCPOption, ...]) -> bytes:
    raw = b"".join(o.encode() for o in options)
    if len(raw) & 3:
        raw += b"\x00" * (4 - (len(raw) & 3))
    if len(raw) > MAX_OPTIONS_LEN:
        raise ValueError(f"TCP options take {len(raw)} bytes (at most {MAX_OPTIONS_LEN})")
    return raw


_ALIGNED_TS = b"\x01\x01\x08\x0a"
_new_object = object.__new__
_set_tsval = Timestamps.tsval.__set__  # type: ignore[attr-defined]
_set_tsecr = Timestamps.tsecr.__set__  # type: ignore[attr-defined]


def _timestamps(tsval: int, tsecr: int) -> Timestamps:
    """``Timestamps(tsval, tsecr)`` for the decoder, which sees one per segment: writing the slots
    directly skips the frozen dataclass's ``__init__`` (its generic ``object.__setattr__`` calls)."""
    ts = _new_object(Timestamps)
    _set_tsval(ts, tsval)
    _set_tsecr(ts, tsecr)
    return ts


def decode_options(raw: bytes | memoryview) -> tuple[TCPOption, ...]:
    if len(raw) == 12 and raw[:4] == _ALIGNED_TS:
        # The layout nearly every segment of a timestamped connection carries (RFC 7323
        # Appendix A); Linux's tcp_parse_aligned_timestamp() takes the same shortcut.
        return (_NOP, _NOP, _timestamps(*_II.unpack_from(raw, 4)))
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
        length = raw[i + 1] if i + 1 < n else 0
        if length < 2 or i + length > n:
            # Linux's tcp_parse_options returns here ("silly options", "don't parse partial
            # options"): what came before stands.
            out.append(OptionsCutShort(bytes(raw[i:])))
            break
        if kind == 2 and length == 4:
            out.append(MSS(int.from_bytes(raw[i + 2:i + 4], "big")))
        elif kind == 8 and length == 10:
            out.append(Timestamps(*_II.unpack_from(raw, i + 2)))
        elif kind == 3 and length == 3:
            out.append(WindowScale(raw[i + 2]))
        elif kind == 4 and length == 2:
            out.append(SackPermitted())
        elif kind == 5 and length > 2 and not (length - 2) % 8:
            out.append(Sack(tuple(_II.unpack_from(raw, j) for j in range(i + 2, i + length, 8))))
        else:
            # Unknown, or a known kind with the wrong length, which Linux skips uninterpreted.
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
        # One unpacking instead of ten attribute lookups.
        sport, dport, seq, ack, flags, window, payload, urgent, options, reserved, _ = self
        aligned_ts = (len(options) == 3 and type(options[2]) is Timestamps and type(options[0]) is NOP
                      and type(options[1]) is NOP)
        if aligned_ts:
            tsval, tsecr = options[2].tsval, options[2].tsecr  # type: ignore[union-attr]
            hl = 32
            n = _TS_PREFIX_SUM + tsval + tsecr
        elif options:
            opts = encode_options(options)
            hl = MIN_HEADER_LEN + len(opts)
            n = _from_bytes(opts, "big")
        else:
            hl, n = MIN_HEADER_LEN, 0
        size = len(payload)
        length = hl + size
        offset_byte = (hl << 2) | reserved
        s = _TO_INT.get(src)
        if s is None:
            s = _addr_int(src)
        d = _TO_INT.get(dst)
        if d is None:
            d = _addr_int(dst)
        # The checksum from the field values and the payload as one big integer, before packing
        # once: words sum mod 0xFFFF, and 32-bit fields count whole since 2**16 == 1 mod 0xFFFF.
        # Pseudo-header (RFC 9293 3.1): src, dst, protocol 6, TCP length.
        n += (sport + dport + seq + ack + (offset_byte << 8) + flags + window + urgent + s + d + 6 + length)
        if size:
            n += sum_mod_ffff(payload)
        r = n % 0xFFFF
        # ~ones_sum & 0xFFFF. The header is never all zeros (data offset >= 5), so a sum that is a
        # multiple of 0xFFFF is "negative zero", 0xFFFF, and the checksum 0.
        csum = 0xFFFF - r if r else 0
        if aligned_ts:
            header = _HDR_TS.pack(sport, dport, seq, ack, offset_byte, flags, window, csum, urgent,
                                  1, 1, 8, 10, tsval, tsecr)
            return header + payload
        header = _HDR.pack(sport, dport, seq, ack, offset_byte, flags, window, csum, urgent)
        if options:
            return b"".join((header, opts, payload))
        return header + payload

    @classmethod
    def decode(cls, data: bytes | memoryview, src: str, dst: str, verify: bool = True) -> "TCP":
        n = len(data)
        if n < MIN_HEADER_LEN:
            raise MalformedPacket("tcp", "truncated", f"{n} bytes, header needs {MIN_HEADER_LEN}")
        sport, dport, seq, ack, off, flags, window, csum, urgent = _HDR.unpack_from(data)
        hl = (off >> 4) << 2
        if hl < MIN_HEADER_LEN or hl > n:
            raise MalformedPacket("tcp", "bad-data-offset", f"data offset {off >> 4}, have {n} bytes")
        if verify:
            s = _TO_INT.get(src)
            if s is None:
                s = _addr_int(src)
            d = _TO_INT.get(dst)
            if d is None:
                d = _addr_int(dst)
            # The segment and the pseudo-header verify when their words sum to all ones: to 0 mod
            # 0xFFFF, the segment not being all zeros (its data offset is at least 5).
            if (sum_mod_ffff(data) + s + d + 6 + n) % 0xFFFF:
                raise MalformedPacket("tcp", "bad-checksum", f"checksum 0x{csum:04x}")
        options: tuple[TCPOption, ...] = ()
        if hl > MIN_HEADER_LEN:
            if hl == 32:
                lead, tsval, tsecr = _III.unpack_from(data, MIN_HEADER_LEN)
                if lead == 0x0101080A:  # NOP, NOP, Timestamps: see decode_options
                    options = (_NOP, _NOP, _timestamps(tsval, tsecr))
            if not options:
                options = decode_options(data[MIN_HEADER_LEN:hl])
        return _tuple_new(cls, (sport, dport, seq, ack, flags, window, bytes(data[hl:]), urgent, options,
                                off & 0x0F, csum))

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
