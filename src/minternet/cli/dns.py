"""The DNS commands: ``minternet dig`` (ask DNS from a simulated host, like dig(1)) and
``minternet dns-serve`` (serve zone files on this machine's loopback, for the real dig)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import UsageError, add_common, finish_run, host_first_usage, load_topology


def _rrtype(text: str) -> int:
    from ..wire.dns import RRType
    try:
        return RRType[text.upper()]
    except KeyError:
        raise UsageError(f"unknown record type {text!r} (try: {', '.join(t.name for t in RRType)})") from None


_EDNS_OPTION_NAMES = {"nsid": 3, "ecs": 8, "subnet": 8, "expire": 9, "cookie": 10, "keepalive": 11, "padding": 12}


def _number(flag: str, text: str, bits: int) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise UsageError(f"{flag}: {text!r} is not a number") from None
    if not 0 <= value < (1 << bits):
        raise UsageError(f"{flag}: {value} is out of range (0 to {(1 << bits) - 1})")
    return value


def _dig_flags(words: list[str]):
    """dig 9.18's EDNS and transport query options among ``words`` (the rest are returned):
    +[no]edns[=N], +bufsize=N, +[no]dnssec, +ednsopt=CODE[:HEX], +ednsflags=N, +[no]ednsneg,
    +[no]nsid, +[no]cookie[=HEX], +[no]tcp (+[no]vc), +[no]ignore."""
    from ..application.dns.dig import DigOptions
    from ..wire.dns import EdnsOption
    opts = DigOptions()
    rest = []
    for word in words:
        if not word.startswith("+"):
            rest.append(word)
            continue
        flag, has_value, value = word[1:].partition("=")
        neg = flag.startswith("no")
        base = flag[2:] if neg else flag
        if base == "edns":
            opts.edns = None if neg else (_number("+edns", value, 8) if has_value else 0)
        elif base == "bufsize" and not neg and has_value:
            opts.bufsize = _number("+bufsize", value, 16)
        elif base in ("dnssec", "do"):
            opts.dnssec = not neg
        elif base == "ednsopt" and not neg and has_value:
            code, _, hexdata = value.partition(":")
            number = _EDNS_OPTION_NAMES.get(code.lower())
            try:
                data = bytes.fromhex(hexdata)
            except ValueError:
                raise UsageError(f"+ednsopt: {hexdata!r} is not hex") from None
            opts.ednsopts += (EdnsOption(number if number is not None else _number("+ednsopt", code, 16), data),)
        elif base == "ednsopt" and neg:
            opts.ednsopts = ()
        elif base == "ednsflags" and not neg and has_value:
            # dig 9.18 keeps DO out of +ednsflags (dighost.c masks it off): DO is +dnssec's alone.
            opts.ednsflags = _number("+ednsflags", value, 16) & 0x7FFF
        elif base in ("ednsneg", "ednsnegotiation"):
            opts.ednsneg = not neg
        elif base == "nsid":
            opts.nsid = not neg
        elif base == "cookie":
            opts.cookie = not neg
            if has_value and not neg:
                try:
                    opts.cookie_value = bytes.fromhex(value)
                except ValueError:
                    raise UsageError(f"+cookie: {value!r} is not hex") from None
        elif base in ("tcp", "vc"):
            opts.tcp = not neg
        elif base == "ignore":
            opts.ignore_tc = not neg
        else:
            raise UsageError(f"unknown dig option {word} (EDNS: +[no]edns[=N] +bufsize=N +[no]dnssec "
                             "+ednsopt=CODE[:HEX] +ednsflags=N +[no]ednsneg +[no]nsid +[no]cookie +[no]tcp)")
        if base in ("bufsize", "dnssec", "do", "ednsopt", "ednsflags", "nsid", "cookie") and not neg \
                and opts.edns is None:
            opts.edns = 0  # as in dig: these ask for EDNS
    return rest, opts


def _question(args: argparse.Namespace) -> None:
    """Split dig's words into HOST, NAME and TYPE (with --os there is no simulated host), and its
    +options into ``args.dig``."""
    words, args.dig = _dig_flags(list(args.words))
    args.dig.rd = not args.norecurse
    if args.os:
        if len(words) > 2:
            raise UsageError(f"with --os there is no simulated host: minternet dig --os NAME [TYPE] @SERVER "
                             f"(unrecognized: {' '.join(words[2:])})")
        args.host = None
    else:
        if len(words) < 2:
            raise UsageError(f"the host comes first: minternet dig client {words[0]}")
        if len(words) > 3:
            raise UsageError(f"unrecognized arguments: {' '.join(words[3:])} "
                             "(minternet dig HOST NAME [TYPE] [@SERVER])")
        args.host = words.pop(0)
    args.name = words[0]
    args.type = _rrtype(words[1] if len(words) > 1 else "A")


def cmd_dig(args: argparse.Namespace) -> int:
    """dig in the simulation: from a host, ask its resolver (or @SERVER), or walk the hierarchy (--trace)."""
    import asyncio
    from ..application.dns.dig import dig_query, trace_output
    from ..application.dns.resolver import RecursiveResolver
    _question(args)
    if args.os:
        from ..real.ossocket import OSHost
        host: Any = OSHost()
        if not args.server:
            raise ValueError("with --os, say which server to ask: @ADDRESS (and -p PORT)")
        topo = None
    else:
        topo = load_topology(args)
        if args.host not in topo.network.nodes and "." in args.host:
            # A DNS name where the host belongs: the old spelling (dig NAME --from HOST).
            topo.network.close()
            raise UsageError(f"{args.host!r} is not a host of this network; the host comes first: "
                             f"minternet dig client {' '.join(args.words)}")
        host = topo.network.host(args.host)
    server = args.server[1:] if args.server else None

    async def run() -> str:
        if args.plus_trace and not args.walk:
            from ..application.dns.trace import trace
            start = server or (host.stub_resolver.nameservers[0] if host.stub_resolver.nameservers else None)
            if start is None:
                raise ValueError(f"{args.host} has no name server configured to ask for the root's: give "
                                 "one as @ADDRESS, or --walk to start from the network's root hints")
            return await trace(host, args.name, args.type, start, args.port, args.timeout)
        if args.walk:
            hints = [("root", server)] if server else topo.network.dns.root_hints  # type: ignore[union-attr]
            if not hints:
                raise ValueError("this network has no root server to start from")
            resolver = RecursiveResolver(host, hints, port=args.port)
            result = await resolver.resolve(args.name, args.type)
            return trace_output(result)
        target = server or (host.stub_resolver.nameservers[0] if host.stub_resolver.nameservers else None)
        if target is None:
            raise ValueError(f"{args.host} has no name server configured; give one as @ADDRESS")
        return await dig_query(host, target, args.port, args.name, args.type, args.dig, args.timeout)

    if topo is None:
        print(asyncio.run(run()))
        return 0
    print(topo.network.run_app(run()))
    finish_run(args, topo)
    return 0


def cmd_dns_serve(args: argparse.Namespace) -> int:
    """Serve zones on the operating system's UDP sockets (loopback by default)."""
    import asyncio
    import ipaddress
    from ..application.dns.server import AuthoritativeServer
    from ..application.dns.zone import ZoneError
    from ..application.dns.zonefile import load_zone
    from ..real.ossocket import OSHost
    zones = []
    for path in args.zone:
        try:
            zones.append(load_zone(path, args.origin))
            for warning in zones[-1].warnings:
                print(f"minternet: warning: {warning}", file=sys.stderr)
        except ZoneError as exc:
            print(f"minternet: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"minternet: error: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
    if not ipaddress.IPv4Address(args.address).is_loopback:
        print(f"warning: serving on {args.address}, which is not a loopback address", file=sys.stderr)
    import os
    import time
    # The real world: cookies keyed from the OS's randomness, stamped with the wall clock (RFC 9018).
    server = AuthoritativeServer(zones, max_udp=args.max_udp, nsid=args.nsid.encode() if args.nsid else None,
                                 cookie_secret=os.urandom(16), now=time.time)
    host = OSHost()

    def log(data: bytes, addr: tuple[str, int]) -> bytes | None:
        reply = server.handle(data, client=addr)
        if not args.quiet:
            from ..wire.dns import DNSMessage
            try:
                text = DNSMessage.decode(reply).summary() if reply else "no answer (malformed)"
            except Exception:  # noqa: BLE001 - a log line must never stop the server
                text = f"{len(reply or b'')} bytes"
            print(f"{addr[0]}#{addr[1]}: {text}", flush=True)
        return reply

    async def main() -> None:
        from ..application.dns.server import serve_tcp, serve_udp
        started = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(serve_udp(host, args.port, args.address, log, started, stats=server.stats,
                                               on_error=lambda text: print(text, file=sys.stderr, flush=True)))
        addr = await started

        async def over_tcp(data: bytes, client: tuple[str, int] | None = None) -> bytes | None:
            return server.handle(data, limit=65535, client=client)
        tcp_server = await serve_tcp(host, addr[1], args.address, over_tcp, idle_timeout=args.tcp_idle_timeout,
                                     max_clients=args.tcp_clients, stats=server.stats)
        names = ", ".join(f"{z.origin or '.'}" for z in zones)
        print(f"serving {names} on {addr[0]}:{addr[1]} (UDP and TCP); Ctrl-C to stop", flush=True)
        try:
            await task
        finally:
            tcp_server.close()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    except OSError as exc:
        print(f"minternet: error: cannot serve on {args.address}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add dig and dns-serve."""
    p = sub.add_parser("dig", prefix_chars="-+",
                       help="ask DNS from a simulated host, like dig(1): dig client www.example.com [@SERVER]",
                       description="Ask a DNS question from HOST, a simulated host (it comes first, then dig's "
                                   "own arguments): to its configured resolver (like /etc/resolv.conf), to "
                                   "@SERVER, or follow the hierarchy from the root with +trace (laid out "
                                   "as dig prints it) or --walk (narrated). With --os, ask a real server on this machine (e.g. one started "
                                   "with minternet dns-serve); there is no HOST then.",
                       epilog="examples: minternet dig client www.example.com   |   "
                              "minternet dig client example.com NS @10.0.2.53   |   "
                              "minternet dig client www.example.com +trace   |   "
                              "minternet dig --os www.example.com @127.0.0.1 -p 5353")
    p.add_argument("words", metavar="HOST NAME [TYPE]", nargs="+",
                   help="HOST: the simulated host that asks (none with --os); NAME: the name to look up, "
                        "e.g. www.example.com; TYPE: A (default), AAAA, NS, CNAME, SOA, MX, TXT, PTR, ANY")
    p.add_argument("-p", "--port", type=int, default=53, help="server port (default 53)")
    p.add_argument("+trace", dest="plus_trace", action="store_true",
                   help="as dig +trace prints it: the root's NS from the resolver, then each referral's NS "
                        "records and the final answer, each with ';; Received N bytes from ...'")
    p.add_argument("--walk", action="store_true",
                   help="walk root -> TLD -> authoritative from the root hints and narrate each step: who "
                        "was asked, what came back, how long it took")
    p.add_argument("--norecurse", "+norecurse", action="store_true",
                   help="RD=0: ask the server only for what it knows itself")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default 5)")
    p.add_argument("--os", action="store_true", help="use this machine's real UDP sockets (needs @SERVER; no HOST)")
    add_common(p)
    host_first_usage(p, "HOST NAME [TYPE] [@SERVER]")
    p.usage += ("\n       minternet dig --os NAME [TYPE] @SERVER [-p PORT] [+trace]")
    p.set_defaults(func=cmd_dig, server=None)

    p = sub.add_parser("dns-serve", help="serve DNS zones on this machine's loopback (for dig)",
                       description="Serve zone files (RFC 1035 master files, or TOML) with the same "
                                   "authoritative server the simulation uses, on real UDP sockets: "
                                   "dig @127.0.0.1 -p 5353 www.example.com")
    p.add_argument("--zone", metavar="FILE", action="append", required=True, help="a zone file (repeatable)")
    p.add_argument("--origin", metavar="NAME",
                   help="the origin of master files that have no $ORIGIN (names relative to it, @ for it), "
                        "as named.conf's zone \"NAME\" gives it: --origin localhost for Debian's "
                        "/etc/bind/db.local")
    p.add_argument("--port", type=int, default=5353, help="UDP port (default 5353; 53 needs root)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not log each query")
    p.add_argument("--nsid", metavar="TEXT", help="answer EDNS NSID requests (dig +nsid) with TEXT (RFC 5001)")
    p.add_argument("--max-udp", type=int, default=1232, metavar="BYTES",
                   help="largest UDP answer offered with EDNS (default 1232, as BIND since DNS Flag Day 2020)")
    p.add_argument("--tcp-idle-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="close a TCP connection idle this long (default 10)")
    p.add_argument("--tcp-clients", type=int, default=150, metavar="N",
                   help="TCP connections held at once (default 150, as BIND's tcp-clients); one more "
                        "closes the longest-held idle one")
    p.set_defaults(func=cmd_dns_serve)
