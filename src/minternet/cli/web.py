"""``minternet web``: the live view in the browser."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from typing import Any

from .common import add_common, finish_run, load_topology
from .programs import parse_assignment

DEFAULT_PORT = 8765


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add web."""
    p = sub.add_parser("web", help="watch the packets move in your browser (the live view)",
                       description="Serve a page that draws the network and animates every packet as it "
                                   "crosses each link, in virtual time paced to the page's speed: play, pause, "
                                   "step, jump; select a packet to see its layers and bytes; take nodes and "
                                   "links down, change loss and delay, run ping, traceroute, dig, curl or a TCP "
                                   "transfer from any host; export pcap, trace and sequence diagram.")
    p.add_argument("--replay", metavar="TRACE",
                   help="play a recorded trace (JSON lines from --trace or the page's export) instead of a live "
                        "simulation; give the topology it was recorded on with -t")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: only this machine can see the page)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--tour", action="store_true",
                   help="open the guided tour: the demo's stages played on the map, stopping on the packets "
                        "that matter with their narration (the page's Tour button opens it too)")
    p.add_argument("--lang", choices=["en", "ko"], default=None,
                   help="language of the page (default: the browser's language, else English; the page has a "
                        "switch too)")
    p.add_argument("--no-open", action="store_true", help="do not open a browser, only print the address")
    p.add_argument("--exec", metavar="HOST=PROGRAM", action="append", type=parse_assignment, default=[],
                   help="run an asyncio program on a host, as minternet exec does (module:function or "
                        "script.py); may be given more than once")
    add_common(p)
    p.set_defaults(func=cmd_web)


def _warn_host(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        print(f"warning: listening on {host}: anyone who can reach this machine can open the page and "
              f"control the simulation (there is no login)", file=sys.stderr)


def cmd_web(args: argparse.Namespace) -> int:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("minternet: error: the live view needs aiohttp: pip install aiohttp", file=sys.stderr)
        return 1
    from ..web.server import start
    from ..web.session import ReplaySession, Session

    lines: list[str] = []
    holder: dict[str, Session] = {}

    def out(line: str) -> None:
        # Output of the topology's own timeline (pings in [[event]]): into the event list.
        if "s" in holder:
            holder["s"].say("timeline", line)
        else:
            lines.append(line)

    topo = load_topology(args, out=out)
    if args.replay:
        session: Any = ReplaySession.from_file(topo.network, args.replay)
        strangers = session.unknown_nodes()
        if strangers:
            print(f"warning: the trace names nodes this topology does not have ({', '.join(strangers[:5])}"
                  f"{', ...' if len(strangers) > 5 else ''}); give the file it was recorded on with -t FILE",
                  file=sys.stderr)
    else:
        session = holder["s"] = Session(topo)
        if args.exec:
            from .programs import spawn_programs
            session.executor.submit(spawn_programs, topo.network, args.exec).result()
    _warn_host(args.host)

    def tour() -> Any:
        from ..web.tour import TourSession
        return TourSession(seed=getattr(args, "seed", None), lang=args.lang)

    async def main() -> None:
        try:
            runner, url, _ = await start(session, args.host, args.port, lang=args.lang, tour=tour)
        except OSError as exc:
            raise SystemExit(f"minternet: error: cannot listen on {args.host}:{args.port}: {exc.strerror} "
                             f"(try --port 0 to pick a free port)")
        what = f"replay of {args.replay}" if args.replay else topo.network.name
        if args.tour:
            url += "tour"
            print(f"the guided tour is at {url}  (Ctrl-C to stop)", flush=True)
        else:
            print(f"the live view of {what} is at {url}  (Ctrl-C to stop)", flush=True)
        if not args.no_open:
            import webbrowser
            webbrowser.open(url)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        session.close()
        finish_run(args, topo)  # closing twice is harmless; this prints where pcap and trace went
    return 0
