"""QUIC packets (RFC 9000 17, RFC 9369 for version 2) and frames (RFC 9000 19), for display.

The stack never decodes QUIC (aioquic does the protocol): this is what the trace, the diagrams and
the live view read off a UDP datagram. :func:`packets` splits a datagram into its (coalesced)
packets and reads each header as far as it is readable without keys: form, type, version, the
connection IDs, the token and length of long headers. The packet number and everything after it
are protected; :func:`unprotect` removes the protection with a TLS secret (RFC 9001 5: header
protection, then AEAD), using aioquic's packet-protection code, and :func:`frames` reads the
frames of the plaintext. :func:`initial_secrets` derives the keys of Initial packets from the
client's first Destination Connection ID, as anyone on the path can (RFC 9001 5.2).

Nothing here raises on bad input but :func:`unprotect` (``MalformedPacket`` when the key does
not open the packet) and :func:`frames` (``MalformedPacket`` at the first frame it cannot read,
with the frames before it in ``exc.frames``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .errors import MalformedPacket

VERSION_1 = 0x00000001
VERSION_2 = 0x6B3343CF
VERSION_NAMES = {VERSION_1: "1", VERSION_2: "2", 0: "negotiation"}
# RFC 9000 17.2 (v1) and RFC 9369 3.2 (v2): the long header's two type bits.
_LONG_TYPES = {VERSION_1: ("Initial", "0-RTT", "Handshake", "Retry"),
               VERSION_2: ("Retry", "Initial", "0-RTT", "Handshake")}
MAX_CID_LEN = 20


def varint(data: bytes, at: int) -> tuple[int, int]:
    """A variable-length integer (RFC 9000 16) at ``data[at]``: (value, offset after it)."""
    if at >= len(data):
        raise MalformedPacket("quic", "truncated", f"varint at {at}")
    first = data[at]
    n = 1 << (first >> 6)
    if at + n > len(data):
        raise MalformedPacket("quic", "truncated", f"varint at {at}")
    value = first & 0x3F
    for b in data[at + 1:at + n]:
        value = (value << 8) | b
    return value, at + n


class Packet(NamedTuple):
    """One QUIC packet's header as read without keys. Offsets count from the datagram's start:
    the packet is ``datagram[offset:end]``; its protected part begins at ``pn_offset``."""

    offset: int
    end: int
    long: bool
    packet_type: str  # Initial, 0-RTT, Handshake, Retry, Version Negotiation, 1-RTT
    version: int | None  # None for a short header
    dcid: bytes
    scid: bytes | None
    token: bytes = b""
    pn_offset: int = 0  # 0 when there is no packet number (Retry, Version Negotiation)
    length: int | None = None  # the Length field (packet number and payload)

    @property
    def version_text(self) -> str:
        if self.version is None:
            return "-"
        return VERSION_NAMES.get(self.version, f"0x{self.version:08x}")


def looks_like_quic(data: bytes) -> bool:
    """A long header of QUIC version 1 or 2 (or version negotiation) at the datagram's start."""
    return (len(data) >= 7 and data[0] & 0x80 == 0x80
            and int.from_bytes(data[1:5], "big") in (VERSION_1, VERSION_2, 0))


def packets(data: bytes, short_dcid_len: Any = None) -> tuple[list[Packet], str | None]:
    """The packets of one UDP datagram, and why reading stopped early (None: it did not).

    ``short_dcid_len``: the length of the connection ID of a short header, which its header does
    not say (the endpoints know it); a function of the bytes after the first byte may be given
    instead. Without it a short header's DCID is read as empty."""
    out: list[Packet] = []
    at = 0
    n = len(data)
    while at < n:
        first = data[at]
        if not first & 0x80:
            if not first & 0x40:
                return out, f"not a QUIC packet at byte {at} (fixed bit is 0)"
            cid_len = short_dcid_len(data[at + 1:]) if callable(short_dcid_len) else (short_dcid_len or 0)
            if at + 1 + cid_len > n:
                return out, "short header cut short"
            out.append(Packet(at, n, False, "1-RTT", None, bytes(data[at + 1:at + 1 + cid_len]), None,
                              pn_offset=at + 1 + cid_len))
            return out, None
        try:
            packet = _long(data, at)
        except MalformedPacket as exc:
            return out, f"long header at byte {at}: {exc.reason}" + (f" ({exc.detail})" if exc.detail else "")
        out.append(packet)
        at = packet.end
        # RFC 9000 12.2: padding after the last packet of a datagram may be zeros.
        if at < n and not any(data[at:]):
            break
    return out, None


def _long(data: bytes, at: int) -> Packet:
    if at + 7 > len(data):
        raise MalformedPacket("quic", "truncated", "long header")
    version = int.from_bytes(data[at + 1:at + 5], "big")
    p = at + 5
    dlen = data[p]
    if dlen > MAX_CID_LEN and version != 0:
        raise MalformedPacket("quic", "bad-cid-length", str(dlen))
    dcid = bytes(data[p + 1:p + 1 + dlen])
    p += 1 + dlen
    if p >= len(data):
        raise MalformedPacket("quic", "truncated", "SCID length")
    slen = data[p]
    if slen > MAX_CID_LEN and version != 0:
        raise MalformedPacket("quic", "bad-cid-length", str(slen))
    scid = bytes(data[p + 1:p + 1 + slen])
    p += 1 + slen
    if p > len(data) or len(dcid) != dlen or len(scid) != slen:
        raise MalformedPacket("quic", "truncated", "connection IDs")
    if version == 0:
        return Packet(at, len(data), True, "Version Negotiation", 0, dcid, scid)
    types = _LONG_TYPES.get(version)
    if types is None:  # an unknown version: nothing past the CIDs is defined (RFC 8999)
        return Packet(at, len(data), True, "unknown version", version, dcid, scid)
    kind = types[(data[at] >> 4) & 0x03]
    if kind == "Retry":
        return Packet(at, len(data), True, kind, version, dcid, scid, token=bytes(data[p:len(data) - 16]))
    token = b""
    if kind == "Initial":
        tlen, p = varint(data, p)
        token = bytes(data[p:p + tlen])
        p += tlen
    length, p = varint(data, p)
    if p + length > len(data):
        raise MalformedPacket("quic", "truncated", f"Length {length} runs past the datagram")
    return Packet(at, p + length, True, kind, version, dcid, scid, token, p, length)


# -- packet protection ---------------------------------------------------------------------------
class Plain(NamedTuple):
    """A packet with its protection removed."""

    packet_number: int
    key_phase: bool
    payload: bytes  # the frames


def initial_secrets(dcid: bytes, version: int = VERSION_1) -> tuple[bytes, bytes]:
    """(client, server) Initial secrets from the client's first Destination Connection ID
    (RFC 9001 5.2; RFC 9369 3.3.1 for version 2)."""
    from aioquic.quic.crypto import INITIAL_SALT_VERSION_1, INITIAL_SALT_VERSION_2
    from aioquic.tls import CipherSuite, cipher_suite_hash, hkdf_expand_label, hkdf_extract
    algorithm = cipher_suite_hash(CipherSuite.AES_128_GCM_SHA256)
    salt = INITIAL_SALT_VERSION_2 if version == VERSION_2 else INITIAL_SALT_VERSION_1
    initial = hkdf_extract(algorithm, salt, dcid)
    return (hkdf_expand_label(algorithm, initial, b"client in", b"", algorithm.digest_size),
            hkdf_expand_label(algorithm, initial, b"server in", b"", algorithm.digest_size))


# The AEADs a secret of each length may be used with (RFC 8446 B.4): a 48-byte secret is SHA-384's.
_SUITES_BY_LENGTH = {32: (0x1301, 0x1303), 48: (0x1302,)}


def unprotect(datagram: bytes, packet: Packet, secret: bytes, expected_pn: int = 0,
              cipher_suite: int | None = None) -> Plain:
    """Remove header protection and decrypt ``packet`` with a traffic ``secret`` (RFC 9001 5.4,
    5.3). ``expected_pn``: the next packet number the reader expects in that space (to expand the
    truncated one, RFC 9000 A.3). Raises MalformedPacket when the secret does not open it."""
    from aioquic.quic.crypto import CryptoContext, CryptoError
    from aioquic.tls import CipherSuite
    if not packet.pn_offset:
        raise MalformedPacket("quic", "no-payload", f"a {packet.packet_type} packet is not encrypted")
    version = packet.version if packet.version is not None else VERSION_1
    suites = (cipher_suite,) if cipher_suite is not None else _SUITES_BY_LENGTH.get(len(secret), ())
    raw = bytes(datagram[packet.offset:packet.end])
    for suite in suites:
        ctx = CryptoContext()
        try:
            ctx.setup(cipher_suite=CipherSuite(suite), secret=secret, version=version)
            _, payload, pn, phase = ctx.decrypt_packet(raw, packet.pn_offset - packet.offset, expected_pn)
        except (CryptoError, ValueError, IndexError):
            continue
        return Plain(pn, bool(phase), payload)
    raise MalformedPacket("quic", "undecryptable", f"the key does not open this {packet.packet_type} packet")


def opened_suite(datagram: bytes, packet: Packet, secret: bytes, expected_pn: int = 0) -> tuple[int, Plain] | None:
    """Like :func:`unprotect`, but says which cipher suite opened it; None when none did."""
    for suite in _SUITES_BY_LENGTH.get(len(secret), ()):
        try:
            return suite, unprotect(datagram, packet, secret, expected_pn, suite)
        except MalformedPacket:
            continue
    return None


# -- frames ----------------------------------------------------------------------------------------
FRAME_NAMES = {0x00: "PADDING", 0x01: "PING", 0x02: "ACK", 0x03: "ACK", 0x04: "RESET_STREAM", 0x05: "STOP_SENDING",
               0x06: "CRYPTO", 0x07: "NEW_TOKEN", 0x10: "MAX_DATA", 0x11: "MAX_STREAM_DATA", 0x12: "MAX_STREAMS",
               0x13: "MAX_STREAMS", 0x14: "DATA_BLOCKED", 0x15: "STREAM_DATA_BLOCKED", 0x16: "STREAMS_BLOCKED",
               0x17: "STREAMS_BLOCKED", 0x18: "NEW_CONNECTION_ID", 0x19: "RETIRE_CONNECTION_ID",
               0x1A: "PATH_CHALLENGE", 0x1B: "PATH_RESPONSE", 0x1C: "CONNECTION_CLOSE", 0x1D: "CONNECTION_CLOSE",
               0x1E: "HANDSHAKE_DONE", 0x30: "DATAGRAM", 0x31: "DATAGRAM"}
for _t in range(0x08, 0x10):
    FRAME_NAMES[_t] = "STREAM"


class Frame(NamedTuple):
    """One frame of a decrypted payload. ``fields``: (name, value) pairs in wire order; ``data``:
    the bytes a CRYPTO, STREAM, NEW_TOKEN or DATAGRAM frame carries. Offsets are in the payload."""

    type: int
    offset: int
    end: int
    fields: tuple[tuple[str, Any], ...] = ()
    data: bytes = b""

    @property
    def name(self) -> str:
        return FRAME_NAMES.get(self.type, f"frame 0x{self.type:x}")

    def get(self, name: str, default: Any = None) -> Any:
        for k, v in self.fields:
            if k == name:
                return v
        return default

    def summary(self) -> str:
        """``CRYPTO off=0 len=281``, ``STREAM id=0 off=0 len=40 fin``, ``ACK 0-3``, ``PADDING x900``."""
        name = self.name
        if self.type == 0x00:
            return f"PADDING x{self.end - self.offset}"
        if self.type in (0x02, 0x03):
            return "ACK " + ",".join(f"{lo}-{hi}" if lo != hi else str(lo) for lo, hi in self.get("ranges", ()))
        if self.type == 0x06:
            return f"CRYPTO off={self.get('offset')} len={len(self.data)}"
        if name == "STREAM":
            fin = " fin" if self.get("fin") else ""
            return f"STREAM id={self.get('stream id')} off={self.get('offset')} len={len(self.data)}{fin}"
        if self.type in (0x1C, 0x1D):
            reason = self.get("reason")
            return f"CONNECTION_CLOSE error=0x{self.get('error code'):x}" + (f" {reason!r}" if reason else "")
        shown = [f"{k}={v.hex() if isinstance(v, bytes) else v}" for k, v in self.fields if k != "type"]
        return " ".join([name, *shown])


class FramesError(MalformedPacket):
    def __init__(self, reason: str, detail: str, frames: list[Frame]) -> None:
        super().__init__("quic", reason, detail)
        self.frames = frames


def frames(payload: bytes) -> list[Frame]:
    """The frames of a decrypted packet payload, runs of PADDING as one."""
    out: list[Frame] = []
    at = 0
    n = len(payload)
    try:
        while at < n:
            start = at
            kind, at = varint(payload, at)
            if kind == 0x00:
                while at < n and payload[at] == 0:
                    at += 1
                out.append(Frame(0, start, at))
                continue
            fields, data, at = _frame_body(kind, payload, at)
            out.append(Frame(kind, start, at, fields, data))
    except MalformedPacket as exc:
        raise FramesError(exc.reason, exc.detail, out) from None
    return out


def _frame_body(kind: int, p: bytes, at: int) -> tuple[tuple[tuple[str, Any], ...], bytes, int]:
    def v() -> int:
        nonlocal at
        value, at = varint(p, at)
        return value

    def take(count: int) -> bytes:
        nonlocal at
        if at + count > len(p):
            raise MalformedPacket("quic", "truncated", f"frame 0x{kind:x} wants {count} bytes")
        out = bytes(p[at:at + count])
        at += count
        return out

    if kind == 0x01 or kind == 0x1E:
        return (), b"", at
    if kind in (0x02, 0x03):
        largest, delay, count, first = v(), v(), v(), v()
        ranges = [(largest - first, largest)]
        low = largest - first
        for _ in range(count):
            gap, length = v(), v()
            high = low - gap - 2
            ranges.append((high - length, high))
            low = high - length
        fields: list[tuple[str, Any]] = [("largest", largest), ("delay", delay), ("ranges", tuple(ranges))]
        if kind == 0x03:
            fields += [("ect0", v()), ("ect1", v()), ("ce", v())]
        return tuple(fields), b"", at
    if kind == 0x04:
        return (("stream id", v()), ("error code", v()), ("final size", v())), b"", at
    if kind == 0x05:
        return (("stream id", v()), ("error code", v())), b"", at
    if kind == 0x06:
        offset, length = v(), v()
        return (("offset", offset), ("length", length)), take(length), at
    if kind == 0x07:
        return (("length", (length := v())),), take(length), at
    if 0x08 <= kind <= 0x0F:
        sid = v()
        offset = v() if kind & 0x04 else 0
        length = v() if kind & 0x02 else len(p) - at
        data = take(length)
        return (("stream id", sid), ("offset", offset), ("length", length), ("fin", bool(kind & 0x01))), data, at
    if kind == 0x10:
        return (("maximum", v()),), b"", at
    if kind == 0x11:
        return (("stream id", v()), ("maximum", v())), b"", at
    if kind in (0x12, 0x13):
        return (("direction", "bidi" if kind == 0x12 else "uni"), ("maximum", v())), b"", at
    if kind == 0x14:
        return (("limit", v()),), b"", at
    if kind == 0x15:
        return (("stream id", v()), ("limit", v())), b"", at
    if kind in (0x16, 0x17):
        return (("direction", "bidi" if kind == 0x16 else "uni"), ("limit", v())), b"", at
    if kind == 0x18:
        seq, retire = v(), v()
        cid = take(take(1)[0])
        token = take(16)
        return (("sequence", seq), ("retire prior to", retire), ("connection id", cid),
                ("reset token", token)), b"", at
    if kind == 0x19:
        return (("sequence", v()),), b"", at
    if kind in (0x1A, 0x1B):
        return (("data", take(8)),), b"", at
    if kind in (0x1C, 0x1D):
        code = v()
        fields = [("error code", code)]
        if kind == 0x1C:
            fields.append(("frame type", v()))
        reason = take(v()).decode("utf-8", "replace")
        fields.append(("reason", reason))
        return tuple(fields), b"", at
    if kind in (0x30, 0x31):
        length = v() if kind == 0x31 else len(p) - at
        return (("length", length),), take(length), at
    raise MalformedPacket("quic", "unknown-frame", f"frame type 0x{kind:x}")
