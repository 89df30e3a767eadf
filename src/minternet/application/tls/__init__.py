"""TLS 1.3 on minternet: the simulated internet's certificate authority (:mod:`.ca`) and the TLS
contexts clients and servers use, with curl -v style handshake notes and SSLKEYLOGFILE secrets
(:mod:`.contexts`). The protocol itself is OpenSSL's, through Python's ``ssl`` (SSLObject over
memory BIOs, as asyncio's ``start_tls`` does it); the plumbing and the story are ours."""

from .ca import CertificateAuthority, HostCertificates, Issued
from .contexts import ALPN, HandshakeNotes, client_context, server_context

__all__ = ["ALPN", "CertificateAuthority", "HandshakeNotes", "HostCertificates", "Issued", "client_context",
           "server_context"]
