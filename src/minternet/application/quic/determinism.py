"""Seeded, virtual-time aioquic: same seed, same QUIC bytes on the wire.

aioquic draws randomness and wall time from module globals; this module replaces those globals,
once, by dispatchers. Outside :func:`deterministic` they call the real thing (``os.urandom``, the
wall clock, fresh keys), so aioquic used anywhere else in the process is unaffected. Inside, they
draw from a seeded ``random.Random`` and a virtual clock. No aioquic source is changed.

What is replaced, and why:

==============================  =============================================================
aioquic.tls                     ``os.urandom`` (client/server random, ticket, ticket_age_add),
                                ``utcnow()`` (certificate validity, ticket age), x25519/x448/EC
                                key generation (key shares), ``ec.ECDSA`` (the signing nonce:
                                RFC 6979 deterministic signatures for ECDSA certificates)
aioquic.quic.connection         ``os.urandom`` (connection IDs, stateless reset tokens,
                                PATH_CHALLENGE data)
aioquic.quic.packet             ``os.urandom`` (the version negotiation packet's first byte)
aioquic.quic.retry              ``os.urandom`` (the retry token's nonce)
aioquic.quic.logger             ``time.time()`` (qlog timestamps)
aioquic.quic.stream.QuicStream  ``__hash__``: aioquic re-queues the streams it sent on with
                                ``queue.extend(sent)``, ``sent`` being a *set* of stream
                                objects hashed by ``id()``; which stream's data goes first in
                                a packet then follows memory addresses, and differed between
                                runs. Hashed by stream id it follows the ids. (Always on.)
==============================  =============================================================

Ed25519 certificates are recommended in a simulation (see :mod:`..tls`-style helpers): their
signatures are deterministic and always 64 bytes, whereas an ECDSA signature's DER length varies by
a byte or two and shifts every later packet's size and timestamp.

What is *not* deterministic: OpenSSL's own randomness (Python's ``ssl`` for TLS over TCP) cannot
be seeded; this module concerns aioquic only.
"""

from __future__ import annotations

import contextlib
import datetime
import os as _os
import random
import time as _time
import types
from typing import Callable, Iterator

from cryptography.hazmat.primitives.asymmetric import ec as _ec
from cryptography.hazmat.primitives.asymmetric import x448 as _x448
from cryptography.hazmat.primitives.asymmetric import x25519 as _x25519

# Virtual time 0 is this moment, as for the HTTP server's Date header (server.SIM_EPOCH).
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

_CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                     "581a0db248b0a77aecec196accc52973", 16),
    "secp521r1": int("01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                     "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409", 16),
}


class Source:
    """Where aioquic's randomness and time come from while it is active: a seeded generator and
    a clock in seconds since :data:`EPOCH` (the simulation's ``now``)."""

    __slots__ = ("rng", "seconds")

    def __init__(self, seed: int | str | bytes, seconds: Callable[[], float]) -> None:
        self.rng = random.Random(seed)
        self.seconds = seconds

    def urandom(self, n: int) -> bytes:
        return self.rng.randbytes(n)


_active: Source | None = None
_installed = False


def _urandom(n: int) -> bytes:
    return _active.urandom(n) if _active is not None else _os.urandom(n)


def _utcnow() -> datetime.datetime:
    if _active is not None:
        return EPOCH + datetime.timedelta(seconds=_active.seconds())
    return datetime.datetime.now(datetime.timezone.utc)


def _wall_time() -> float:
    if _active is not None:
        return EPOCH.timestamp() + _active.seconds()
    return _time.time()


class _X25519PrivateKey:  # aioquic calls only .generate() on the class
    @staticmethod
    def generate() -> _x25519.X25519PrivateKey:
        if _active is None:
            return _x25519.X25519PrivateKey.generate()
        return _x25519.X25519PrivateKey.from_private_bytes(_active.urandom(32))


class _X448PrivateKey:
    @staticmethod
    def generate() -> _x448.X448PrivateKey:
        if _active is None:
            return _x448.X448PrivateKey.generate()
        return _x448.X448PrivateKey.from_private_bytes(_active.urandom(56))


def _generate_ec_key(curve: _ec.EllipticCurve, backend: object = None) -> _ec.EllipticCurvePrivateKey:
    if _active is None:
        return _ec.generate_private_key(curve)
    order = _CURVE_ORDERS[curve.name]
    # 80 random bytes reduced mod the order: bias below 2**-64 for every curve above.
    return _ec.derive_private_key(1 + int.from_bytes(_active.urandom(80), "big") % (order - 1), curve)


def _ecdsa(algorithm: object) -> _ec.ECDSA:
    if _active is None:
        return _ec.ECDSA(algorithm)
    return _ec.ECDSA(algorithm, deterministic_signing=True)  # RFC 6979


def _module(real: types.ModuleType, **overrides: object) -> types.ModuleType:
    """A stand-in for ``real``: the overrides, and everything else from the real module."""
    m = types.ModuleType(real.__name__)
    m.__dict__.update(real.__dict__)
    m.__dict__.update(overrides)
    return m


def install() -> None:
    """Put the dispatchers into aioquic's modules (once; idempotent). Until :func:`deterministic`
    activates a source, they behave exactly like what they replace."""
    global _installed
    if _installed:
        return
    import aioquic.quic.connection as connection
    import aioquic.quic.logger as logger
    import aioquic.quic.packet as packet
    import aioquic.quic.retry as retry
    import aioquic.quic.stream as stream
    import aioquic.tls as tls

    fake_os = types.SimpleNamespace(urandom=_urandom)
    for mod in (tls, connection, packet, retry):
        mod.os = fake_os  # type: ignore[attr-defined]
    tls.utcnow = _utcnow  # type: ignore[assignment]
    logger.time = types.SimpleNamespace(time=_wall_time)  # type: ignore[attr-defined]
    tls.x25519 = _module(_x25519, X25519PrivateKey=_X25519PrivateKey)  # type: ignore[attr-defined]
    tls.x448 = _module(_x448, X448PrivateKey=_X448PrivateKey)  # type: ignore[attr-defined]
    tls.ec = _module(_ec, generate_private_key=_generate_ec_key, ECDSA=_ecdsa)  # type: ignore[attr-defined]
    stream.QuicStream.__hash__ = lambda self: self.stream_id  # type: ignore[method-assign]
    _installed = True


@contextlib.contextmanager
def deterministic(source: Source | None) -> Iterator[None]:
    """Run the block with aioquic drawing from ``source`` (None: the real randomness and time).
    Nests: the previous source is restored on the way out."""
    global _active
    install()
    previous, _active = _active, source
    try:
        yield
    finally:
        _active = previous


def call(source: Source | None, fn: Callable[..., object], *args: object, **kw: object) -> object:
    """``fn(*args, **kw)`` with aioquic drawing from ``source``: the one-call form of
    :func:`deterministic`, cheaper on the per-datagram path."""
    global _active
    if not _installed:
        install()
    previous, _active = _active, source
    try:
        return fn(*args, **kw)
    finally:
        _active = previous


__all__ = ["EPOCH", "Source", "call", "deterministic", "install"]
