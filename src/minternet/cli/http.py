"""The HTTP commands: ``minternet http-serve`` (a folder on this machine's loopback, for real
browsers and curl) and ``minternet curl`` (fetch a URL from a simulated host, like curl(1))."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import ssl
import sys
from typing import Any, Callable

from ..application.http.client import HTTPClient, ProtocolError, split_url, url_scheme
from ..application.http.message import Response
from ..application.http.server import Limits
from ..application.http.where import where_is
from .common import add_common, finish_run, host_first_usage, load_topology

DEFAULT_SERVE_PORT = 8000


def _err(line: str) -> None:
    sys.stdout.flush()  # keep the order of the two streams on a terminal
    print(line, file=sys.stderr, flush=True)


# -- http-serve -----------------------------------------------------------------------------------------
def cmd_http_serve(args: argparse.Namespace) -> int:
    """Serve a folder on the operating system's sockets with the same server the simulation runs."""
    import asyncio
    import ipaddress
    import signal
    import time

    from ..application.http.apps import folder_site
    from ..application.http.server import serve
    from ..real.ossocket import OSHost

    try:
        handler = folder_site(args.dir)
    except ValueError as exc:
        print(f"minternet: error: {exc}", file=sys.stderr)
        return 2
    try:
        loopback = ipaddress.IPv4Address(args.address).is_loopback
    except ValueError:
        print(f"minternet: error: {args.address!r} is not an IPv4 address (try 127.0.0.1)", file=sys.stderr)
        return 2
    if not loopback:
        print(f"warning: serving on {args.address}, which is not a loopback address: other machines may "
              "read this folder", file=sys.stderr)
    limits = Limits(max_body_bytes=args.max_body, idle_timeout=args.idle_timeout)
    log = None if args.quiet else (lambda line: print(line, flush=True))

    async def main() -> None:
        server = await serve(OSHost(), args.port, handler, address=args.address, limits=limits, log=log,
                             unix_time=time.time)
        address, port = server.address
        print(f"serving {args.dir} on http://{address}:{port}/ (HTTP/1.1); Ctrl-C to stop", flush=True)
        task = asyncio.current_task()
        if task is not None:
            # Stop as cleanly on `kill` (SIGTERM) as on Ctrl-C.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await server.serve_forever()

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("stopped", file=sys.stderr)
    except OSError as exc:
        print(f"minternet: error: cannot serve on {args.address}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


# -- curl -------------------------------------------------------------------------------------------------
def _request_body(args: argparse.Namespace) -> bytes | None:
    if args.data is None:
        return None
    if args.data.startswith("@"):
        path = args.data[1:]
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise ValueError(f"cannot read {path} for -d: {exc.strerror}") from None
    return args.data.encode("utf-8")


def _request_headers(args: argparse.Namespace) -> list[tuple[str, str]]:
    headers = []
    for text in args.header or []:
        name, sep, value = text.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"-H {text!r}: a header is 'Name: value'")
        headers.append((name.strip(), value.strip()))
    if args.data is not None and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))  # what curl -d sends
    return headers


def _head_text(response: Response) -> str:
    lines = [f"HTTP/{response.http_version} {response.status} {response.reason}".rstrip()]
    lines += [f"{k}: {v}" for k, v in response.headers]
    return "\n".join(lines) + "\n\n"


def _write_body(data: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(data.decode("utf-8", "replace"))


def cmd_curl(args: argparse.Namespace) -> int:
    """Fetch URLs from a simulated host, over one kept-alive connection per server."""
    from ..application.http.apps import builtin_site
    from ..application.http.server import serve

    show_headers = args.verbose >= 1  # -v is curl's; -vv and up also show the packets
    args.verbose = max(0, args.verbose - 1)
    if args.output and len(args.urls) > 1:
        raise ValueError("-o writes one answer to a file; give one URL with it")
    method = (args.request or ("HEAD" if args.head else "POST" if args.data is not None else "GET")).upper()
    body = _request_body(args)
    headers = _request_headers(args)
    targets = [split_url(url) for url in args.urls]  # bad URLs fail before the network starts
    schemes = [url_scheme(url) for url in args.urls]

    topo = load_topology(args)
    net = topo.network
    client = net.host(args.host)
    for name, *_ in targets:
        node = net.nodes.get(name)
        if node is not None and getattr(node, "address", None):
            client.stub_resolver.add_host(name, node.address)  # a node's name works, as in /etc/hosts
    places: list[tuple[Any, int, bool]] = []
    if not args.no_server:
        for (name, port, *_), scheme in zip(targets, schemes):
            address = where_is(net, client, name)
            node_name = net.name_of(address) if address else None
            if node_name is None:
                continue  # nothing to start: the request will say what is wrong (no name, no host)
            node = net.host(node_name)
            if not node.tcp.listening_on(port) and not any(p[:2] == (node, port) for p in places):
                places.append((node, port, scheme == "https"))
    out: Callable[[str], None] | None = _err if show_headers else None

    async def run() -> int:
        servers = []
        for node, port, https in places:
            # https: HTTPS on TCP and HTTP/3 on UDP, the same port, advertised by Alt-Svc.
            server = await serve(node, port, builtin_site(), tls=True if https else None, http3=https)
            net.spawn(server.serve_forever())
            servers.append(server)
            if out:
                what = f"TCP and UDP port {port} (HTTPS, HTTP/3)" if https else f"port {port}"
                out(f"* (minternet started its built-in web site on {node.name} ({node.address}) {what}; "
                    "--no-server to leave it out)")
        t0 = net.now
        code = 0
        async with HTTPClient(client, timeout=args.max_time, out=out, http_version=args.http_version,
                              verify=not args.insecure, cafile=args.cacert) as http:
            pending = None
            if args.parallel:
                # curl -Z: all the requests at once; over HTTP/2 they share one connection.
                pending = await asyncio.gather(*[http.request(method, url, headers=headers, body=body)
                                                 for url in args.urls], return_exceptions=True)
            for i, (url, (name, port, *_)) in enumerate(zip(args.urls, targets)):
                try:
                    if pending is not None:
                        if isinstance(pending[i], BaseException):
                            raise pending[i]
                        response = pending[i]
                    else:
                        response = await http.request(method, url, headers=headers, body=body)
                except ssl.SSLCertVerificationError as exc:
                    _err(f"curl: (60) SSL certificate problem: {exc.verify_message}")
                    return 60
                except ssl.SSLError as exc:
                    _err(f"curl: (35) TLS connect error: {exc.reason or exc}")
                    return 35
                except OSError as exc:
                    return _failure(exc, name, port, args.no_server)
                except ProtocolError as exc:
                    _err(f"curl: (8) {exc}")
                    return 8
                if args.fail and response.status >= 400:
                    _err(f"curl: (22) The requested URL returned error: {response.status}")
                    code = 22
                    continue
                if args.head or args.include:
                    sys.stdout.write(_head_text(response))
                if args.output:
                    with open(args.output, "wb") as f:
                        f.write(response.body)  # type: ignore[arg-type]
                elif not args.head:
                    _write_body(response.body)  # type: ignore[arg-type]
            if out:
                n = http.requests
                tcp = http.connections_opened - http.quic_connections_opened
                over = " and ".join(f"{k} {kind} connection{'s' * (k != 1)}" for k, kind in
                                    ((tcp, "TCP"), (http.quic_connections_opened, "QUIC"))
                                    if k or (kind == "TCP" and not http.quic_connections_opened))
                out(f"* {n} request{'s' * (n != 1)} over {over} in {(net.now - t0) / 1e9:.3f} s "
                    "of simulated time")
        return code

    code = net.run_app(run())
    finish_run(args, topo)
    if args.pcap and "https" in schemes:
        from ..observe.keylog import FILENAME as KEYLOG_NAME
        keylog = os.path.join(args.pcap, KEYLOG_NAME)
        print(f"TLS secrets written to {keylog}: tshark -r {args.pcap}/FILE.pcap -o tls.keylog_file:{keylog} "
              "(Wireshark: Preferences > Protocols > TLS > (Pre)-Master-Secret log filename)", file=sys.stderr)
    if args.export_cacert:
        net.ca.write_pem(args.export_cacert)
    return code


def _failure(exc: OSError, name: str, port: int, no_server: bool) -> int:
    """Say why a request failed, with curl's exit code for it."""
    if isinstance(exc, socket.gaierror):
        reason = str(exc.args[-1] if exc.args else exc).removesuffix(f": {name}")
        _err(f"curl: (6) Could not resolve host: {name} ({reason})")
        return 6
    if isinstance(exc, TimeoutError):
        _err(f"curl: (28) {exc.strerror or exc}")
        return 28
    if isinstance(exc, ConnectionRefusedError):
        hint = " (--no-server was given)" if no_server else ""
        _err(f"curl: (7) Failed to connect to {name} port {port}: Connection refused: nothing listens there{hint}")
        return 7
    if isinstance(exc, ConnectionResetError):
        _err(f"curl: (52) {exc.strerror or exc}")
        return 52
    _err(f"curl: (7) Failed to connect to {name} port {port}: {exc.strerror or exc}")
    return 7


# -- registration -----------------------------------------------------------------------------------------
def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add http-serve and curl to the ``minternet`` command."""
    p = sub.add_parser(
        "http-serve", help="serve a folder over HTTP on this machine's loopback (for curl and browsers)",
        description="Serve the files of DIR over HTTP/1.1 on this machine's real sockets, with the same "
                    "server code the simulation runs: GET and HEAD read files (index.html for a folder, "
                    "Content-Type from the extension), POST to any path answers with the size and SHA-256 "
                    "of what arrived. Nothing outside DIR is ever served. Each request is logged (Common Log "
                    "Format, with the connection number at the end). Ctrl-C stops it.",
        epilog="example: minternet http-serve ./public --port 8000   then   curl -v http://127.0.0.1:8000/")
    p.add_argument("dir", metavar="DIR", help="the folder to serve")
    p.add_argument("--port", type=int, default=DEFAULT_SERVE_PORT,
                   help=f"TCP port (default {DEFAULT_SERVE_PORT}; 0 picks a free one; 80 needs root)")
    p.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; others warn)")
    p.add_argument("--max-body", type=int, default=Limits.max_body_bytes, metavar="BYTES",
                   help=f"largest request body accepted, larger is 413 (default {Limits.max_body_bytes})")
    p.add_argument("--idle-timeout", type=float, default=Limits.idle_timeout, metavar="SECONDS",
                   help=f"close a kept-alive connection after this long without a request (default {Limits.idle_timeout:g})")
    p.add_argument("-q", "--quiet", action="store_true", help="do not log each request")
    p.set_defaults(func=cmd_http_serve)

    p = sub.add_parser(
        "curl", help="fetch a URL from a simulated host, like curl(1): curl client http://www.example.com/",
        description="Fetch URLs over HTTP/1.1 from HOST, a host of the simulated network (it comes first, "
                    "then curl's own arguments): resolve the name "
                    "through the host's DNS, open a TCP connection, send the request, print the body. "
                    "Several URLs to one server share one kept-alive connection. Unless --no-server is "
                    "given, a web server with a small built-in site is first started on port 80 (or the "
                    "URL's port; 443 with TLS for https://, and HTTP/3 on UDP 443 beside it) of the host the name points to (in the built-in example, www.example.com "
                    "is the host 'server').",
        epilog="examples: minternet curl client http://www.example.com/ -v   |   "
               "minternet curl client http://www.example.com/ http://www.example.com/about.html -v   |   "
               "minternet curl client http://www.example.com/ -I   |   minternet curl client http://www.example.com/ -d hello   |   "
               "minternet curl client https://www.example.com/ https://www.example.com/about.html -Z -v   |   "
               "minternet curl client --http3 https://www.example.com/ -v")
    p.add_argument("host", metavar="HOST", help="the simulated host that runs curl (e.g. client)")
    p.add_argument("urls", metavar="URL", nargs="+",
                   help="http://NAME[:PORT]/PATH; NAME is a DNS name, an address or a node's name")
    p.add_argument("-I", "--head", action="store_true", help="ask with HEAD and print the response headers")
    p.add_argument("-i", "--include", action="store_true", help="print the response headers before the body")
    p.add_argument("-X", "--request", metavar="METHOD", help="the request method (default GET; POST with -d)")
    p.add_argument("-d", "--data", metavar="DATA",
                   help="send DATA as the body of a POST; -d@FILE (or --data=@FILE, written as one word) "
                        "sends a file's bytes as they are")
    p.add_argument("-H", "--header", metavar="'NAME: VALUE'", action="append",
                   help="an extra request header (repeatable); -H 'Transfer-Encoding: chunked' sends the body chunked")
    p.add_argument("-o", "--output", metavar="FILE", help="write the body to FILE instead of the terminal")
    p.add_argument("-f", "--fail", action="store_true", help="exit with 22 and no body when the status is 400 or more")
    p.add_argument("-m", "--max-time", type=float, default=30.0, metavar="SECONDS",
                   help="give up connecting or waiting for an answer after this long (simulated seconds, default 30)")
    p.add_argument("--no-server", action="store_true",
                   help="do not start the built-in web site; talk to whatever the network runs")
    p.add_argument("-k", "--insecure", action="store_true",
                   help="https: do not check the server's certificate or name (curl -k)")
    p.add_argument("--cacert", metavar="FILE",
                   help="https: trust the CA in FILE (PEM) too; the simulated host trusts the network's own CA")
    p.add_argument("--export-cacert", metavar="FILE",
                   help="write the simulated internet's CA certificate (PEM) to FILE after the run")
    p.add_argument("--http1.1", dest="http_version", action="store_const", const="1.1",
                   help="https: offer only HTTP/1.1 by ALPN")
    p.add_argument("--http2", dest="http_version", action="store_const", const="2",
                   help="https: offer HTTP/2, then HTTP/1.1 (the default for https://, as curl)")
    p.add_argument("--http3", dest="http_version", action="store_const", const="3",
                   help="https: HTTP/3 on QUIC (UDP 443); falls back to TCP if QUIC does not get through, as curl")
    p.add_argument("--http3-only", dest="http_version", action="store_const", const="3only",
                   help="https: HTTP/3 on QUIC only, no fallback (curl --http3-only)")
    p.add_argument("-Z", "--parallel", action="store_true",
                   help="send all the requests at once (curl -Z); over HTTP/2 and HTTP/3 they are streams of one connection")
    add_common(p)
    for action in p._actions:  # -v means what it means to curl; the packet timeline moves up one v
        if action.dest == "verbose":
            action.help = ("-v: show the request and response headers, like curl -v (on stderr); "
                           "-vv: also every packet at the IP level; -vvv: also every frame on every link")
    host_first_usage(p, "HOST URL [URL ...]")
    p.set_defaults(func=cmd_curl)
