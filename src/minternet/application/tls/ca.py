"""The certificate authority of the simulated internet, made at run time with ``cryptography``.

Keys are Ed25519: an Ed25519 signature is always 64 bytes, so the certificate and CertificateVerify
messages have the same size on every run, and so do the packets and their times (an ECDSA
signature's DER length varies by a byte or two, which shifts every later timestamp). In a
simulation the keys come from the network's seeded random source, so the certificates are the same
bytes on every run too.

The validity window is fixed (2020-01-01 to 2049-12-31): it covers the simulation's clock (which
starts at 2026-01-01) and the wall clock, which OpenSSL's chain check reads (it cannot be given
virtual time). Dates before 2050 are UTCTime, a fixed 13 bytes, so the window does not change sizes.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import random
from dataclasses import dataclass
from typing import Iterable, Iterator

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# datetime's own class even while a program's loop has put a virtual-clock subclass in its place
# (programs.vtime), which cryptography refuses.
_datetime = type(datetime.datetime.min)
NOT_BEFORE = _datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = _datetime(2049, 12, 31, tzinfo=datetime.timezone.utc)


@contextlib.contextmanager
def _real_datetime() -> Iterator[None]:
    """cryptography checks dates against ``datetime.datetime`` as the module has it at the time
    of signing: put datetime's own class back for that moment (no await in between, so no program
    sees it)."""
    saved = datetime.datetime
    datetime.datetime = _datetime  # type: ignore[misc]
    try:
        yield
    finally:
        datetime.datetime = saved  # type: ignore[misc]
CA_NAME = "minternet root CA"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM text (what ``ssl`` loads)."""

    names: tuple[str, ...]
    cert_pem: str
    key_pem: str
    certificate: x509.Certificate


def _key(rng: random.Random | None) -> ed25519.Ed25519PrivateKey:
    if rng is None:
        return ed25519.Ed25519PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class CertificateAuthority:
    """A root CA that issues server certificates for DNS names (and IPv4 addresses).

    ``rng``: a seeded ``random.Random`` for reproducible keys (simulation); None takes the
    operating system's randomness (a CA for real clients, ``minternet attach``).
    ``keylog_file``: where every TLS context made from here writes its secrets (SSLKEYLOGFILE
    format); set it before the connections start (a pcap run sets it beside its pcaps).
    """

    def __init__(self, rng: random.Random | None = None, name: str = CA_NAME) -> None:
        self.rng = rng
        self.name = name
        self._key = _key(rng)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.subject = subject
        with _real_datetime():
            self.certificate = self._sign_ca(subject)
        self.cert_pem = _pem(self.certificate)
        self.keylog_file: str | None = None
        self._issued: dict[tuple[str, ...], Issued] = {}

    def _sign_ca(self, subject: x509.Name) -> x509.Certificate:
        return (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self._key.public_key()).serial_number(self._serial())
            .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, None))

    def _serial(self) -> int:
        # A positive 63-bit serial: 8 bytes of DER whatever the value (the top bit is set).
        bits = self.rng.getrandbits(62) if self.rng is not None else random.SystemRandom().getrandbits(62)
        return (1 << 62) | bits

    def issue(self, names: Iterable[str]) -> Issued:
        """A server certificate for ``names`` (DNS names or IPv4 addresses; the first is the subject
        CN), signed by this CA. The same names give the same certificate (cached)."""
        key_names = tuple(dict.fromkeys(n.rstrip(".").lower() for n in names if n))
        if not key_names:
            raise ValueError("a certificate needs at least one name")
        issued = self._issued.get(key_names)
        if issued is not None:
            return issued
        key = _key(self.rng)
        alt: list[x509.GeneralName] = []
        for n in key_names:
            try:
                alt.append(x509.IPAddress(ipaddress.IPv4Address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        with _real_datetime():
            cert = self._sign_leaf(key, key_names, alt)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode("ascii")
        issued = self._issued[key_names] = Issued(key_names, _pem(cert), key_pem, cert)
        return issued

    def _sign_leaf(self, key: ed25519.Ed25519PrivateKey, key_names: tuple[str, ...],
                   alt: list[x509.GeneralName]) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, key_names[0])]))
            .issuer_name(self.subject).public_key(key.public_key()).serial_number(self._serial())
            .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._key, None))

    def write_pem(self, path: str) -> str:
        """Write the CA certificate (PEM) for real clients: ``curl --cacert FILE``. Returns ``path``."""
        with open(path, "w", encoding="ascii") as f:
            f.write(self.cert_pem)
        return path


class HostCertificates:
    """What a host's TLS server presents: a certificate for the name the client asks for (SNI),
    if that name is the host's (``owns(name)``: the network's DNS points it at the host), or else
    for the host's own default names (its node name and address).

    The world the host lives in says which names those are and which CA signs: a subclass gives
    ``ca``, ``default_names``, ``owns`` and ``dns_names`` (the simulated network's is
    ``minternet.sim.pki.NodeCertificates``, one small object per host)."""

    __slots__ = ()

    @property
    def ca(self) -> CertificateAuthority:
        raise NotImplementedError

    def default_names(self) -> list[str]:
        raise NotImplementedError

    def owns(self, name: str) -> bool:
        raise NotImplementedError

    def dns_names(self) -> list[str]:
        """Every DNS name the world points at the host."""
        return []

    def for_name(self, server_name: str | None) -> Issued:
        defaults = self.default_names()
        if server_name and server_name.lower() not in (d.lower() for d in defaults) and self.owns(server_name):
            return self.ca.issue([server_name, *defaults])
        return self.ca.issue(defaults)

    def for_all_names(self) -> Issued:
        """One certificate for every DNS name that points at the host and its default names: for
        a server that cannot choose by SNI (aioquic's QUIC server has one certificate)."""
        names = [n for n in self.dns_names() if self.owns(n)]
        return self.ca.issue([*names, *(d for d in self.default_names() if d not in names)])
