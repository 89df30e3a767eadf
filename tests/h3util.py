"""Helpers for the QUIC and HTTP/3 tests: Ed25519 certificates made from a seed (the same bytes
every run, so the handshake -- and every packet after it -- is the same), a 100 ms RTT path, and
a way to lose chosen frames."""

from __future__ import annotations

import asyncio
import datetime
import random

from minternet.sim.network import Network

START, END = datetime.datetime(2020, 1, 1), datetime.datetime(2040, 1, 1)


def ed25519_certs(name: str = "www.example.com", seed: str = "certs") -> dict:
    """A CA and a leaf for ``name``: {"ca_pem", "cert_pem", "key_pem", "cert", "key"}; Ed25519 keys
    from ``seed``, so the same seed gives the same certificates (Ed25519 signatures are
    deterministic and always 64 bytes)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    rng = random.Random(seed)
    ca_key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "minternet test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(START).not_valid_after(END)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, None))
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(START).not_valid_after(END)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, None))
    pem = serialization.Encoding.PEM
    return {"ca_pem": ca.public_bytes(pem), "cert_pem": leaf.public_bytes(pem),
            "key_pem": key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
            "cert": leaf, "key": key}


def rtt100(seed: int = 1, bandwidth: str = "10Mbps") -> Network:
    """client -- r1 -- server, 25 ms each link: 100 ms round trip."""
    net = Network(seed=seed)
    net.add_host("client", {"eth0": "10.0.1.10/24"}, gateway="10.0.1.1")
    net.add_router("r1", {"eth0": "10.0.1.1/24", "eth1": "10.0.2.1/24"})
    net.add_host("server", {"eth0": "10.0.2.10/24"}, gateway="10.0.2.1")
    net.connect("client:eth0", "r1:eth0", delay="25ms", bandwidth=bandwidth)
    net.connect("r1:eth1", "server:eth0", delay="25ms", bandwidth=bandwidth)
    return net


async def warm_arp(net: Network) -> None:
    """One datagram each way, so that no ARP resolution lands inside a measured handshake."""
    for a, b in (("client", "10.0.2.10"), ("server", "10.0.1.10")):
        sock = net[a].socket(2, 2)
        sock.sendto(b"warm", (b, 9))
        sock.close()
    await asyncio.sleep(1)


class FrameDropper:
    """Loses chosen frames sent by one interface: ``drop(n)`` loses the n-th (0-based) frame that
    ``match(frame)`` accepts. ``seen`` lists (time, UDP payload length) of the matching frames."""

    def __init__(self, net: Network, node: str, iface: str = "eth0", match=None) -> None:
        self.net = net
        self.iface = net[node].interfaces[iface]
        self._send = self.iface._tx
        self.match = match or (lambda frame: True)
        self.targets: set[int] = set()
        self.seen: list[tuple[int, int]] = []
        self.dropped: list[int] = []
        self.iface.attach(self._transmit)

    def drop(self, *indexes: int) -> "FrameDropper":
        self.targets.update(indexes)
        return self

    def _transmit(self, frame: bytes) -> None:
        if self.match(frame):
            index = len(self.seen)
            self.seen.append((self.net.now, len(frame)))
            if index in self.targets:
                self.dropped.append(self.net.now)
                return
        self._send(frame)


def udp_payload_at_least(n: int):
    """A match for FrameDropper: IPv4/UDP frames carrying >= n bytes of payload."""
    def match(frame: bytes) -> bool:
        if frame[12:14] != b"\x08\x00" or frame[23] != 17:
            return False
        ihl = (frame[14] & 15) * 4
        return len(frame) - 14 - ihl - 8 >= n
    return match


def h3_scenario(out_dir: str, seed: int = 1, deterministic: bool = True, loss: float = 0.05) -> dict:
    """A fresh HTTP/3 connection with three requests, then a 0-RTT resumed one, over a lossy
    100 ms path; writes pcaps (one per interface) and the key log beside them (``pcap/``), and
    the trace (JSON lines) into ``out_dir``. Returns {"bodies": [...], "resumed": bool, "keylog": path, "pcap": {name: path}}."""
    import os

    from minternet.application.http.h3 import H3Client, serve_h3
    from minternet.application.http.message import Response

    certs = ed25519_certs()
    net = rtt100(seed=seed)
    net.link("r1:eth1").set_params(loss=loss)
    pcaps = net.capture(os.path.join(out_dir, "pcap"), nanosecond=True)
    net.trace_to(os.path.join(out_dir, "trace.jsonl"))
    bodies = {p: p.encode() * 2000 for p in ("/a", "/b", "/c")}

    async def handler(request):
        return Response(200, {"Content-Type": "text/plain"}, bodies[request.path])

    async def main():
        await warm_arp(net)
        await serve_h3(net["server"], handler, certificate=certs["cert_pem"], private_key=certs["key_pem"],
                       deterministic=deterministic)
        got, ticket, resumed = [], None, False
        for _ in range(2):
            client = H3Client(net["client"], "www.example.com", address="10.0.2.10", cadata=certs["ca_pem"],
                              session_ticket=ticket, deterministic=deterministic)
            await client.connect()
            exchanges = [client.send_request("GET", p) for p in bodies]
            got += [(await client.response(e)).body for e in exchanges]
            await client.aclose(linger=1.0)
            ticket = client.session_ticket
            resumed = bool(client.handshake and client.handshake.early_data_accepted)
        return got, resumed

    got, resumed = net.run_app(main(), timeout="60s")
    net.close()
    return {"ok": got == list(bodies.values()) * 2, "resumed": resumed,
            "keylog": net.keylog.path,
            "pcap": {os.path.basename(p): p for p in pcaps}, "trace": os.path.join(out_dir, "trace.jsonl")}
