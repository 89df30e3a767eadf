"""TLS contexts for minternet's HTTP client and server: TLS 1.3 only, ALPN, the secrets written in
SSLKEYLOGFILE format (for Wireshark), and the handshake told the way ``curl -v`` tells it.

OpenSSL draws its own random numbers (the client and server randoms, the key shares, the
session tickets), and they cannot be seeded from Python: two runs with the same seed send the same
sizes at the same times, but different ciphertext.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from typing import Any, Callable, Sequence

from .ca import HostCertificates, Issued

ALPN = ("h2", "http/1.1")  # what the client offers, in its order of preference (as curl)

# curl's names for handshake messages (lib/vtls/openssl.c, ssl_msg_type), with their numbers.
_HANDSHAKE = {0: "Hello request", 1: "Client hello", 2: "Server hello", 4: "Newsession Ticket",
              5: "End of early data", 8: "Encrypted Extensions", 11: "Certificate", 12: "Server key exchange",
              13: "Request CERT", 14: "Server finished", 15: "CERT verify", 16: "Client key exchange",
              20: "Finished", 24: "Key update"}
_ALERTS = {0: "close notify", 10: "unexpected message", 20: "bad record mac", 40: "handshake failure",
           42: "bad certificate", 45: "certificate expired", 46: "certificate unknown", 48: "unknown CA",
           50: "decode error", 51: "decrypt error", 70: "protocol version", 80: "internal error",
           109: "missing extension", 112: "unrecognized name", 116: "certificate required",
           120: "no application protocol"}
_VERSIONS = {0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}


class HandshakeNotes:
    """Collects what a TLS connection sends and receives, one curl -v line per message:
    ``* TLSv1.3 (OUT), TLS handshake, Client hello (1):``. ``out`` gets each line as it happens;
    ``messages`` keeps (direction, content type, message type, length)."""

    def __init__(self, out: Callable[[str], None] | None = None) -> None:
        self.out = out
        self.lines: list[str] = []
        self.messages: list[tuple[str, int, int, int]] = []

    def __call__(self, conn: Any, direction: str, version: Any, content_type: Any, msg_type: Any,
                 data: bytes) -> None:
        # ssl's (private, documented in its source) _msg_callback: one call per message and per
        # record header; the headers (256) and TLS 1.3's inner content types (257) are left out.
        ct = int(content_type)
        if ct not in (20, 21, 22):
            return
        mt = int(msg_type)
        way = "OUT" if direction == "write" else "IN"
        self.messages.append((way, ct, mt, len(data)))
        name = _VERSIONS.get(int(version), "TLS")
        if ct == 22:
            text = f"TLS handshake, {_HANDSHAKE.get(mt, 'Unknown')} ({mt})"
        elif ct == 20:
            text = "TLS change cipher, Change cipher spec (1)"
        else:
            level, desc = (data[0], data[1]) if len(data) >= 2 else (0, 0)
            text = f"TLS alert, {_ALERTS.get(desc, 'Unknown')} ({level << 8 | desc})"
        self.note(f"* {name} ({way}), {text}:")

    def note(self, line: str) -> None:
        self.lines.append(line)
        if self.out is not None:
            self.out(line)


def _tls13(ctx: ssl.SSLContext, alpn: Sequence[str], keylog: str | None) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(list(alpn))
    if keylog:
        ctx.keylog_filename = keylog
    return ctx


class ResumingContext(ssl.SSLContext):
    """An SSLContext whose connections offer ``resume`` (an ``ssl.SSLSession`` from an earlier
    connection: its session ticket, RFC 8446 2.2): asyncio's ``start_tls`` takes no session, but
    it makes its SSLObject through ``wrap_bio``."""

    resume: ssl.SSLSession | None = None
    minternet_alpn: Any = None  # the protocols it offers, kept for its next connection

    def wrap_bio(self, incoming: Any, outgoing: Any, server_side: bool = False,
                 server_hostname: Any = None, session: Any = None) -> ssl.SSLObject:
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session or self.resume)


def client_context(*, cadata: str | None = None, cafile: str | None = None, verify: bool = True,
                   alpn: Sequence[str] = ALPN, keylog: str | None = None,
                   notes: HandshakeNotes | None = None, session: ssl.SSLSession | None = None) -> ssl.SSLContext:
    """A TLS 1.3 client context that trusts ``cadata`` (PEM text, the simulated CA) and/or
    ``cafile``; ``verify=False`` is curl's ``-k`` (no certificate or name check). ``session``:
    resume that earlier session (TLS 1.3 resumption with its ticket: no certificate sent)."""
    ctx = ResumingContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.resume = session
    if verify:
        if cadata:
            ctx.load_verify_locations(cadata=cadata)
        if cafile:
            ctx.load_verify_locations(cafile=cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if notes is not None:
        ctx._msg_callback = notes  # type: ignore[attr-defined]
    return _tls13(ctx, alpn, keylog)


def _load(ctx: ssl.SSLContext, issued: Issued) -> None:
    # ssl loads a certificate chain only from files: write them for the moment of loading.
    with tempfile.TemporaryDirectory(prefix="minternet-tls-") as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        with open(cert, "w", encoding="ascii") as f:
            f.write(issued.cert_pem)
        with open(key, "w", encoding="ascii") as f:
            f.write(issued.key_pem)
        ctx.load_cert_chain(cert, key)


def server_context(certs: HostCertificates | Issued, *, alpn: Sequence[str] = ALPN,
                   keylog: str | None = None) -> ssl.SSLContext:
    """A TLS 1.3 server context. Given a :class:`HostCertificates`, it picks the certificate for
    the name the client asks for (SNI) when the name is the host's."""
    if isinstance(certs, Issued):
        ctx = _tls13(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), alpn, keylog)
        _load(ctx, certs)
        return ctx
    by_name: dict[tuple[str, ...], ssl.SSLContext] = {}

    def for_issued(issued: Issued) -> ssl.SSLContext:
        ctx = by_name.get(issued.names)
        if ctx is None:
            ctx = by_name[issued.names] = _tls13(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), alpn, keylog)
            _load(ctx, issued)
        return ctx

    default = for_issued(certs.for_name(None))

    def sni(sslobj: Any, server_name: str | None, _ctx: ssl.SSLContext) -> None:
        issued = certs.for_name(server_name)
        if issued.names != certs.for_name(None).names:
            sslobj.context = for_issued(issued)

    default.sni_callback = sni
    return default
