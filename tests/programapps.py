"""Unmodified asyncio programs (nothing here knows of minternet) and the worlds tests run them in."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import os
import ssl
import tempfile

from aiohttp import web

from minternet.sim.example import example_text
from minternet.sim.topology import loads

BLOB = bytes(range(256)) * 4096  # 1 MiB
BLOB_SHA = hashlib.sha256(BLOB).hexdigest()


def example(seed: int = 1, loss: float = 0.0, fail: str | None = None, trace: str | None = None):
    """The built-in example internet; ``loss`` on the server's link and ``fail`` a router at 0.5 s
    (r3 carries the answers to the client; routes reconverge around it 1 s later)."""
    net = loads(example_text(), seed=seed).network
    if trace:
        net.trace_to(trace)
    if loss:
        net.set_link("server:eth0", loss=loss)
    if fail:
        net.at("0.5s", net.node_down, fail)
    return net


def web_app(static_dir: str | None = None) -> web.Application:
    app = web.Application()

    async def blob(request: web.Request) -> web.Response:
        return web.Response(body=BLOB, content_type="application/octet-stream")

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"remote": request.remote, "host": request.host})

    app.router.add_get("/blob", blob)
    app.router.add_get("/hello", hello)
    if static_dir:
        app.router.add_static("/static/", static_dir)
    return app


async def aiohttp_server(port: int = 80, ssl_context: ssl.SSLContext | None = None,
                         static_dir: str | None = None, keepalive_timeout: float = 75.0) -> None:
    runner = web.AppRunner(web_app(static_dir), keepalive_timeout=keepalive_timeout)
    await runner.setup()
    await web.TCPSite(runner, port=port, ssl_context=ssl_context).start()
    await asyncio.Event().wait()


async def echo_server(port: int = 7000) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
    server = await asyncio.start_server(handle, port=port)
    async with server:
        await server.serve_forever()


class UDPEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.DatagramTransport) -> None:  # type: ignore[override]
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(data.upper(), addr)


async def udp_echo_server(port: int = 9000) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(UDPEcho, local_addr=("0.0.0.0", port))
    await asyncio.Event().wait()


class UDPClient(asyncio.DatagramProtocol):
    """Sends numbered requests, retrying each every 200 ms until its answer comes."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.answers: dict[int, bytes] = {}
        self.done = asyncio.get_running_loop().create_future()
        self.sent = 0

    def connection_made(self, transport: asyncio.DatagramTransport) -> None:  # type: ignore[override]
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        i = int(data.split(b" ")[1])
        self.answers[i] = data
        if len(self.answers) == self.n and not self.done.done():
            self.done.set_result(None)


async def udp_client(host: str, n: int = 20, port: int = 9000) -> dict[int, bytes]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(lambda: UDPClient(n), remote_addr=(host, port))
    for i in range(n):
        while i not in proto.answers:
            transport.sendto(b"req %d" % i)
            proto.sent += 1
            try:
                await asyncio.wait_for(asyncio.shield(_answered(proto, i)), 0.2)
            except asyncio.TimeoutError:
                pass
    transport.close()
    return proto.answers


async def _answered(proto: UDPClient, i: int) -> None:
    while i not in proto.answers:
        await asyncio.sleep(0.01)


def make_certs(name: str = "www.example.com") -> tuple[str, str, str]:
    """A CA and a certificate for ``name`` signed by it, made now: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    start, end = datetime.datetime(2020, 1, 1), datetime.datetime(2040, 1, 1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder = tempfile.mkdtemp(prefix="minternet-certs-")
    paths = [os.path.join(folder, n) for n in ("ca.pem", "cert.pem", "key.pem")]
    pem = serialization.Encoding.PEM
    for path, data in zip(paths, (ca.public_bytes(pem), leaf.public_bytes(pem),
                                  key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))):
        with open(path, "wb") as f:
            f.write(data)
    return paths[0], paths[1], paths[2]


def tls_contexts(certs: tuple[str, str, str]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca, cert, key = certs
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=ca)
    return server, client
