"""``minternet demo``: the whole story on the built-in example (the story is :mod:`minternet.demo`)."""

from __future__ import annotations

import argparse


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    return run_demo(args)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add demo (its own few options: it always runs the built-in example)."""
    p = sub.add_parser("demo", help="the whole story: from a URL to a page, packet by packet",
                       description="On the built-in example internet, narrates with the real packets of a run: "
                                   "DNS finding www.example.com (UDP), TCP's 3-way handshake, HTTP inside TCP "
                                   "inside IP inside Ethernet hop by hop, a lossy link and retransmission, a "
                                   "router failing and TCP recovering over another path, the close with FIN and "
                                   "TIME-WAIT, UDP beside TCP, and the same page over HTTPS (TLS 1.3, HTTP/2) "
                                   "and HTTP/3 on QUIC: round trips to the first byte, fresh and 0-RTT, and "
                                   "one lost packet stalling every HTTP/2 stream but one HTTP/3 stream. Writes pcap files, the trace and a sequence "
                                   "diagram.")
    p.add_argument("--lang", choices=["en", "ko"], default=None,
                   help="language of the narration (default: from the locale, else English)")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same story)")
    p.add_argument("--pcap", metavar="DIR", help="where to write pcap files, trace and diagram (default: a new temporary folder)")
    p.add_argument("--trace", metavar="FILE", help="write every event as JSON lines to FILE")
    p.add_argument("--step", action="store_true", help="pause after each stage")
    p.add_argument("--stage", action="append", metavar="N|KEY",
                   help="tell only this stage (its number or key from --list; repeat for several); the "
                        "stages it builds on run first, silently")
    p.add_argument("--list", action="store_true", help="list the stages (number, key, title) and exit")
    p.set_defaults(func=cmd_demo)
