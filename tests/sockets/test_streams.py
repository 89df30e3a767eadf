"""sockets/streams.py: start_server's first read waits for the handler, as asyncio's does."""

from __future__ import annotations

import asyncio
import socket
import ssl

from minternet.application.tls.ca import CertificateAuthority
from minternet.application.tls.contexts import server_context
from minternet.sim.network import Network
from minternet.wire.ethernet import Ethernet
from minternet.wire.ipv4 import IPv4
from minternet.wire.tcp import TCP, TCPFlags

US, PEER = "10.0.0.1", "10.0.0.2"
PEER_MAC = b"\x02\xaa\x00\x00\x00\x02"


def test_client_hello_with_the_handshakes_last_ack_reaches_start_tls():
    """A TAP driver hands the stack the handshake's last ACK and the ClientHello in one batch:
    the connection is accepted and its first data arrives before the handler has run. asyncio
    reads a new connection's socket no sooner than the loop's next iteration, so a handler that
    calls ``writer.start_tls`` at once (through ``asyncio.wait_for``: one more task step) gets the
    ClientHello; so must ours (the bytes went to the StreamReader, where TLS never saw them)."""
    net = Network(seed=1)
    host = net.add_host("us", {"eth0": f"{US}/24"})
    iface = host.interfaces["eth0"]
    sent: list[TCP] = []

    def capture(frame: bytes) -> None:
        eth = Ethernet.decode(frame)
        if eth.ethertype == 0x0800:
            ip = IPv4.decode(eth.payload)
            if ip.proto == 6:
                sent.append(TCP.decode(ip.payload, ip.src, ip.dst))

    iface.attach(capture)
    host.arp.entry_timeout = 10 ** 15
    host.arp.learn(socket.inet_aton(PEER), PEER_MAC)
    ca = CertificateAuthority()
    ctx = server_context(ca.issue([US]), alpn=("http/1.1",))
    handshakes: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.wait_for(writer.start_tls(ctx), 5)
        handshakes.append(writer.get_extra_info("ssl_object").version())

    def inject(seq: int, ack: int, flags: int, payload: bytes = b"") -> None:
        seg = TCP(40000, 443, seq, ack, flags, 65535, payload, 0, ())
        ip = IPv4(PEER, US, 6, seg.encode(PEER, US), ttl=64)
        iface.receive(iface.mac + PEER_MAC + b"\x08\x00" + ip.encode())

    client = ssl.create_default_context()
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client.wrap_bio(incoming, outgoing)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()

    async def exchange() -> None:
        await host.start_server(handler, port=443)
        inject(1000, 0, TCPFlags.SYN)
        await asyncio.sleep(0.001)
        syn_ack = sent[-1]
        assert syn_ack.flags & TCPFlags.SYN
        # One batch: the ACK that establishes the connection, then the ClientHello.
        inject(1001, syn_ack.seq + 1, TCPFlags.ACK)
        inject(1001, syn_ack.seq + 1, TCPFlags.ACK | TCPFlags.PSH, hello)
        await asyncio.sleep(0.1)
        answered = b"".join(bytes(seg.payload) for seg in sent)
        assert answered[:1] == b"\x16", "no ServerHello: the ClientHello never reached TLS"
        incoming.write(answered)
        tls.do_handshake()  # the client's Finished, to the server
        inject(1001 + len(hello), syn_ack.seq + 1 + len(answered), TCPFlags.ACK | TCPFlags.PSH, outgoing.read())
        await asyncio.sleep(0.1)

    net.run_app(exchange())
    assert tls.version() == "TLSv1.3"
    assert handshakes == ["TLSv1.3"]
