"""The TLS record layer (RFC 8446 5.1) and the handshake messages sent in the clear (RFC 8446 4).

For display only: the stack never decodes TLS (Python's ``ssl`` and aioquic do the protocol). A
record is a 5-byte header (content type, legacy version, length) and a fragment; in TLS 1.3 only
ClientHello and ServerHello (and a HelloRetryRequest) travel as readable handshake records, then
everything is ``application_data`` (23), encrypted -- even the rest of the handshake. The same
handshake messages are what QUIC's CRYPTO frames carry (RFC 9001 4).

Nothing here raises on bad input except the ``parse_*`` functions, which raise
:class:`~minternet.wire.errors.MalformedPacket`; :func:`records` stops at the first bytes that
are not a record header and says where.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from .errors import MalformedPacket

RECORD_HEADER_LEN = 5
MAX_RECORD_LEN = 16384 + 256  # RFC 8446 5.2: TLSCiphertext.length must not exceed 2^14 + 256


class ContentType(IntEnum):
    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24


class HandshakeType(IntEnum):
    ClientHello = 1
    ServerHello = 2
    NewSessionTicket = 4
    EndOfEarlyData = 5
    EncryptedExtensions = 8
    Certificate = 11
    CertificateRequest = 13
    CertificateVerify = 15
    Finished = 20
    KeyUpdate = 24
    MessageHash = 254


VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
CIPHER_SUITES = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
                 0x1303: "TLS_CHACHA20_POLY1305_SHA256", 0x1304: "TLS_AES_128_CCM_SHA256",
                 0x1305: "TLS_AES_128_CCM_8_SHA256"}
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure",
          42: "bad_certificate", 45: "certificate_expired", 46: "certificate_unknown", 48: "unknown_ca",
          50: "decode_error", 51: "decrypt_error", 70: "protocol_version", 80: "internal_error",
          90: "user_canceled", 109: "missing_extension", 112: "unrecognized_name", 116: "certificate_required",
          120: "no_application_protocol"}
# RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest.
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

EXT_SERVER_NAME = 0
EXT_ALPN = 16
EXT_PRE_SHARED_KEY = 41
EXT_EARLY_DATA = 42
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51
EXT_QUIC_TRANSPORT_PARAMETERS = 57


def version_text(version: int) -> str:
    return VERSIONS.get(version, f"0x{version:04x}")


def name_of(enum: type[IntEnum], value: int) -> str:
    try:
        return enum(value).name
    except ValueError:
        return f"unknown ({value})"


class Record(NamedTuple):
    """One TLS record. ``offset``: where its header starts in the bytes given to :func:`records`;
    ``fragment``: the bytes of it that were there (fewer than ``length`` when it goes on past
    them: ``complete`` is then False)."""

    content_type: int
    version: int
    length: int
    offset: int
    fragment: bytes

    @property
    def complete(self) -> bool:
        return len(self.fragment) == self.length

    @property
    def end(self) -> int:
        """Where the record ends, counted from the same origin as ``offset`` (may be past the data)."""
        return self.offset + RECORD_HEADER_LEN + self.length


def looks_like_record(data: bytes, at: int = 0) -> bool:
    """Whether a TLS record header could start at ``data[at]``: a known content type, a 3.x
    legacy version and a length within the limit."""
    if len(data) < at + RECORD_HEADER_LEN:
        return False
    return (20 <= data[at] <= 24 and data[at + 1] == 3 and data[at + 2] <= 4
            and int.from_bytes(data[at + 3:at + 5], "big") <= MAX_RECORD_LEN)


def records(data: bytes, start: int = 0) -> tuple[list[Record], int]:
    """The records in ``data`` from ``start``, and where decoding stopped: ``len(data)`` when
    every byte belonged to a record, else the offset of bytes that are no record header (or a
    header cut short). The last record may be incomplete."""
    out: list[Record] = []
    at = start
    n = len(data)
    while at < n:
        if not looks_like_record(data, at):
            return out, at
        length = int.from_bytes(data[at + 3:at + 5], "big")
        out.append(Record(data[at], int.from_bytes(data[at + 1:at + 3], "big"), length, at,
                          bytes(data[at + 5:at + 5 + length])))
        at += RECORD_HEADER_LEN + length
    return out, n


class HandshakeMessage(NamedTuple):
    """One handshake message (type, 3-byte length, body); ``body`` may be cut short (the rest is
    in a later record, segment or CRYPTO frame): ``complete`` says."""

    type: int
    length: int
    offset: int  # of its 4-byte header, in the bytes given to handshake_messages
    body: bytes

    @property
    def complete(self) -> bool:
        return len(self.body) == self.length

    @property
    def name(self) -> str:
        return name_of(HandshakeType, self.type)


def handshake_messages(data: bytes) -> list[HandshakeMessage]:
    """The handshake messages that start in ``data`` (the last one may be incomplete)."""
    out = []
    at = 0
    while len(data) - at >= 4:
        length = int.from_bytes(data[at + 1:at + 4], "big")
        out.append(HandshakeMessage(data[at], length, at, bytes(data[at + 4:at + 4 + length])))
        at += 4 + length
    return out


class Hello(NamedTuple):
    """What a ClientHello or ServerHello says that a person wants to see."""

    kind: str  # "ClientHello", "ServerHello" or "HelloRetryRequest"
    legacy_version: int
    random: bytes
    cipher_suites: tuple[int, ...]  # the client's offer, or the server's one choice
    versions: tuple[int, ...]  # supported_versions: offered, or the one selected
    server_name: str | None = None
    alpn: tuple[str, ...] = ()
    key_share: tuple[int, ...] = ()  # named groups
    psk: bool = False  # pre_shared_key: a resumption
    early_data: bool = False
    quic: bool = False  # quic_transport_parameters present

    @property
    def version(self) -> int:
        """The version negotiated (ServerHello) or the best one offered (ClientHello)."""
        return max(self.versions) if self.versions else self.legacy_version

    def describe(self) -> str:
        """``ClientHello sni=www.example.com alpn=h2,http/1.1`` and the like."""
        parts = [self.kind]
        if self.server_name:
            parts.append(f"sni={self.server_name}")
        if self.alpn:
            parts.append("alpn=" + ",".join(self.alpn))
        if self.kind != "ClientHello" and self.cipher_suites:
            parts.append(CIPHER_SUITES.get(self.cipher_suites[0], f"0x{self.cipher_suites[0]:04x}"))
        if self.psk:
            parts.append("psk")
        if self.early_data:
            parts.append("early_data")
        return " ".join(parts)


class _Reader:
    __slots__ = ("data", "at", "end")

    def __init__(self, data: bytes, at: int = 0, end: int | None = None) -> None:
        self.data = data
        self.at = at
        self.end = len(data) if end is None else end

    def take(self, n: int) -> bytes:
        if self.at + n > self.end:
            raise MalformedPacket("tls", "truncated", f"wanted {n} bytes at offset {self.at}")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def int(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, length_bytes: int) -> "_Reader":
        n = self.int(length_bytes)
        r = _Reader(self.data, self.at, self.at + n)
        self.take(n)
        return r

    @property
    def left(self) -> int:
        return self.end - self.at


def _extensions(r: _Reader) -> list[tuple[int, _Reader]]:
    if not r.left:
        return []
    exts = r.vector(2)
    out = []
    while exts.left:
        kind = exts.int(2)
        out.append((kind, exts.vector(2)))
    return out


def _strings(r: _Reader) -> tuple[str, ...]:
    """A list of 1-byte-length strings inside a 2-byte-length vector (ALPN, RFC 7301 3.1)."""
    names = r.vector(2)
    out = []
    while names.left:
        item = names.vector(1)
        out.append(item.take(item.left).decode("ascii", "replace"))
    return tuple(out)


def _server_name(r: _Reader) -> str | None:
    names = r.vector(2)
    while names.left:
        kind = names.int(1)
        name = names.vector(2)
        if kind == 0:  # host_name (RFC 6066 3)
            return name.take(name.left).decode("ascii", "replace")
    return None


def parse_client_hello(body: bytes) -> Hello:
    """A ClientHello's body (after the 4-byte handshake header)."""
    r = _Reader(body)
    legacy = r.int(2)
    random = r.take(32)
    r.vector(1)  # legacy_session_id
    suites_r = r.vector(2)
    suites = tuple(suites_r.int(2) for _ in range(suites_r.left // 2))
    r.vector(1)  # legacy_compression_methods
    sni, alpn, versions, groups = None, (), (), ()
    psk = early = quic = False
    for kind, ext in _extensions(r):
        if kind == EXT_SERVER_NAME:
            sni = _server_name(ext)
        elif kind == EXT_ALPN:
            alpn = _strings(ext)
        elif kind == EXT_SUPPORTED_VERSIONS:
            v = ext.vector(1)
            versions = tuple(v.int(2) for _ in range(v.left // 2))
        elif kind == EXT_KEY_SHARE:
            shares = ext.vector(2)
            found = []
            while shares.left:
                found.append(shares.int(2))
                shares.vector(2)
            groups = tuple(found)
        elif kind == EXT_PRE_SHARED_KEY:
            psk = True
        elif kind == EXT_EARLY_DATA:
            early = True
        elif kind == EXT_QUIC_TRANSPORT_PARAMETERS:
            quic = True
    return Hello("ClientHello", legacy, random, suites, versions, sni, alpn, groups, psk, early, quic)


def parse_server_hello(body: bytes) -> Hello:
    """A ServerHello's body (a HelloRetryRequest is one too, told by its random)."""
    r = _Reader(body)
    legacy = r.int(2)
    random = r.take(32)
    r.vector(1)  # legacy_session_id_echo
    suite = r.int(2)
    r.int(1)  # legacy_compression_method
    versions, groups, psk = (), (), False
    for kind, ext in _extensions(r):
        if kind == EXT_SUPPORTED_VERSIONS:
            versions = (ext.int(2),)
        elif kind == EXT_KEY_SHARE:
            groups = (ext.int(2),)
        elif kind == EXT_PRE_SHARED_KEY:
            psk = True
    kind = "HelloRetryRequest" if random == HRR_RANDOM else "ServerHello"
    return Hello(kind, legacy, random, (suite,), versions, None, (), groups, psk)


def parse_hello(message: HandshakeMessage) -> Hello | None:
    """The Hello a complete ClientHello/ServerHello message carries; None for other messages.
    Raises MalformedPacket when the message is one but does not decode."""
    if not message.complete:
        return None
    if message.type == HandshakeType.ClientHello:
        return parse_client_hello(message.body)
    if message.type == HandshakeType.ServerHello:
        return parse_server_hello(message.body)
    return None


def describe_message(message: HandshakeMessage) -> str:
    """``ClientHello sni=... alpn=...``, ``Finished``, ``Certificate (partial)``; never raises."""
    try:
        hello = parse_hello(message)
    except MalformedPacket:
        return f"{message.name} (malformed)"
    if hello is not None:
        return hello.describe()
    return message.name if message.complete else f"{message.name} (partial)"


def describe_record(record: Record) -> str:
    """What one record holds, in a few words: ``ClientHello sni=... alpn=h2``,
    ``application data (encrypted)``, ``alert close_notify``, ``change cipher spec``."""
    ct = record.content_type
    if ct == ContentType.handshake:
        msgs = handshake_messages(record.fragment)
        return ", ".join(describe_message(m) for m in msgs) if msgs else "handshake (fragment)"
    if ct == ContentType.application_data:
        return "application data (encrypted)"
    if ct == ContentType.change_cipher_spec:
        return "change cipher spec"
    if ct == ContentType.alert:
        if len(record.fragment) >= 2:
            level = "fatal" if record.fragment[0] == 2 else "warning"
            return f"alert {level} {ALERTS.get(record.fragment[1], record.fragment[1])}"
        return "alert"
    return name_of(ContentType, ct)
