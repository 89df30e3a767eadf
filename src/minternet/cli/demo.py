"""``minternet demo``: the whole story on the built-in example (the story is :mod:`minternet.demo`)."""

from __future__ import annotations

import argparse


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    return run_demo(args)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add demo (its own few options: it always runs the built-in example)."""
    p = sub.add_parser("demo", help="the whole story: from a URL to a page, packet by packet",
                       description="The learner's notes, told with the real packets of runs of the built-in example "
                                   "internet, stage by stage (minternet demo --list): IP is connectionless (a host "
                                   "that is down), out of order, fragmentation; HTTP inside TCP inside IP inside "
                                   "Ethernet, TCP's handshake, a lossy link, discard-and-resend vs buffering, a "
                                   "router failing, the close; ports; DNS and addresses that change; HTTPS and "
                                   "HTTP/3; UDP beside TCP on the same question. Writes pcap files, traces and a "
                                   "sequence diagram.")
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
