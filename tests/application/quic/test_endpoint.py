"""The QUIC endpoint's own parts: the float-deadline wake-up, what a server does with datagrams
that open nothing, and the seeded-aioquic switch (on inside, off outside)."""


from h3util import rtt100

from minternet.application.quic import determinism
from minternet.application.quic.endpoint import QuicEndpoint, ns_at_or_after
from minternet.observe.keylog import KeyLog

from aioquic.h3.connection import H3_ALPN
from aioquic.quic.configuration import QuicConfiguration


def test_ns_at_or_after_is_the_first_nanosecond_aioquic_sees_as_due():
    for t in (0.1, 0.30000000000000004, 1.2084362, 123.456789123, 1e-9, 7.0):
        ns = ns_at_or_after(t)
        assert ns / 1e9 >= t and (ns - 1) / 1e9 < t
    # The case that spins: ceil(t * 1e9) / 1e9 is a hair below t.
    t = 464.90332275000003  # found by search: ceil(t * 1e9) = 464903322750, and that / 1e9 < t
    import math
    naive = math.ceil(t * 1e9)
    assert naive / 1e9 < t and ns_at_or_after(t) == naive + 1


def test_server_drops_and_counts_datagrams_that_open_no_connection():
    net = rtt100()
    config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)

    async def main():
        endpoint = QuicEndpoint(net["server"], server_configuration=config)
        await net["server"].create_datagram_endpoint(lambda: endpoint, local_addr=("0.0.0.0", 443))
        sock = net["client"].socket(2, 2)
        sock.sendto(b"", ("10.0.2.10", 443))  # not even a header
        sock.sendto(b"\x40" + bytes(30), ("10.0.2.10", 443))  # a short-header packet for no connection
        # A long-header Initial (version 1) that is too small to open a connection (RFC 9000 14.1).
        sock.sendto(b"\xc0\x00\x00\x00\x01\x08" + bytes(8) + b"\x00" + bytes(40), ("10.0.2.10", 443))
        # An unknown version: answered with Version Negotiation (RFC 9000 6.1).
        sock.sendto(b"\xc0\x1a\x2a\x3a\x4a\x08" + bytes(8) + b"\x08" + bytes(8) + bytes(1200), ("10.0.2.10", 443))
        sock.settimeout(1)
        reply, _ = await sock.recvfrom(2000)
        return endpoint, reply

    endpoint, reply = net.run_app(main(), timeout="5s")
    assert endpoint.peers == [] and endpoint.dropped == 3
    stats = net["server"].stats
    assert stats["drop.quic-malformed"] == 1 and stats["drop.quic-unknown-connection"] == 2
    assert reply[0] & 0x80 and reply[1:5] == b"\x00\x00\x00\x00"  # version 0: Version Negotiation


def test_deterministic_draws_from_the_source_only_inside():
    import aioquic.quic.connection as qc
    import aioquic.tls as tls

    determinism.install()
    a = determinism.Source(7, lambda: 1.5)
    b = determinism.Source(7, lambda: 1.5)
    with determinism.deterministic(a):
        x = qc.os.urandom(16)
        when = tls.utcnow()
        with determinism.deterministic(None):  # nested: the real thing again
            real = qc.os.urandom(16)
        key = tls.x25519.X25519PrivateKey.generate()
    with determinism.deterministic(b):
        assert qc.os.urandom(16) == x
        assert tls.x25519.X25519PrivateKey.generate().private_bytes_raw() == key.private_bytes_raw()
    assert when == determinism.EPOCH + __import__("datetime").timedelta(seconds=1.5)
    assert real != x and qc.os.urandom(16) != qc.os.urandom(16)
    assert tls.utcnow().year >= 2026 and tls.utcnow() != when  # wall time outside


def test_keylog_keeps_each_line_once_and_writes_through(tmp_path):
    log = KeyLog(str(tmp_path / "k.txt"))
    log.write("CLIENT_RANDOM aa bb\n")
    log.write("CLIENT_RANDOM aa bb\nSERVER_TRAFFIC_SECRET_0 aa cc\n")
    assert (tmp_path / "k.txt").read_text() == "CLIENT_RANDOM aa bb\nSERVER_TRAFFIC_SECRET_0 aa cc\n"
    log.close()
    assert log.text() == (tmp_path / "k.txt").read_text()




def test_keylog_makes_its_file_only_at_the_first_secret(tmp_path):
    log = KeyLog(str(tmp_path / "k.txt"))
    log.flush()
    assert not (tmp_path / "k.txt").exists()
    log.write("CLIENT_RANDOM aa bb\n")
    assert (tmp_path / "k.txt").exists()


def test_keylog_starts_a_new_file_and_shares_it_with_other_writers(tmp_path):
    path = tmp_path / "k.txt"
    path.write_text("OLD stale line\n")
    log = KeyLog(str(path))
    assert not path.exists()  # the earlier run's secrets are gone
    with open(path, "a") as other:  # as ssl's keylog_filename would append
        other.write("CLIENT_RANDOM 11 22\n")
    log.write("SERVER_TRAFFIC_SECRET_0 aa cc\n")
    log.close()
    assert path.read_text() == "CLIENT_RANDOM 11 22\nSERVER_TRAFFIC_SECRET_0 aa cc\n"
