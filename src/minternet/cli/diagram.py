"""``minternet diagram``: draw a trace as a sequence diagram (the drawing is :mod:`minternet.observe.diagram`)."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from ..observe.diagram import DEFAULT_MAX_ARROWS, build_diagram, to_mermaid, to_svg
from .common import time_arg


def _hosts_arg(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give node names separated by commas, like client,r1,server")
    return names


def cmd_diagram(args: argparse.Namespace) -> int:
    """minternet diagram TRACE --out FILE: draw a trace as SVG or Mermaid."""
    mermaid = args.mermaid or (args.out or "").endswith((".mmd", ".mermaid"))
    out = args.out or os.path.splitext(args.trace_file)[0] + (".mmd" if mermaid else ".svg")
    try:
        diagram = build_diagram(args.trace_file, hosts=args.hosts, start=args.start, end=args.until,
                                max_arrows=args.max_arrows)
    except OSError as exc:
        print(f"minternet: error: cannot read {args.trace_file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    text = to_mermaid(diagram) if mermaid else to_svg(diagram)
    if out == "-":
        sys.stdout.write(text)
        return 0
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        print(f"minternet: error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    lost = sum(1 for a in diagram.arrows if a.drop)
    print(f"{'Mermaid' if mermaid else 'SVG'} sequence diagram written to {out}: {len(diagram.lanes)} lanes, "
          f"{len(diagram.arrows):,} packet arrows ({lost} lost or dropped)", file=sys.stderr)
    for note in diagram.notes:
        print(f"  note: {note}", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add diagram (it runs no network, so it takes none of the common options)."""
    p = sub.add_parser(
        "diagram", help="draw a trace as a sequence diagram (SVG, or Mermaid text)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
                    "Draw a JSON-lines trace (written by any command with --trace FILE) as a sequence "
                    "diagram: a lane per host and router, time going down, one arrow per packet per hop "
                    "from the sender's lane to the receiver's, labelled (ARP who-has, ICMP echo request "
                    "seq=1, DNS query A www.example.com, TCP [S] seq=0 with relative sequence numbers) "
                    "and coloured by protocol. A lost packet's arrow ends in a red X with the reason. "
                    "Time is to scale, except that long idle gaps are squeezed. The SVG is standalone: "
                    "open it in a browser (hover an arrow for the whole packet).", 78, break_on_hyphens=False),
        epilog="examples:\n"
               "  minternet ping client server -c 2 --trace ping.jsonl\n"
               "  minternet diagram ping.jsonl --out ping.svg\n"
               "  minternet diagram ping.jsonl --hosts client,server --out ping.mmd\n"
               "  minternet transfer client server --bytes 1MB --loss 0.01 --trace tcp.jsonl\n"
               "  minternet diagram tcp.jsonl --hosts client,r1,r2,r4,server --from 0.1 --max-arrows 200")
    p.add_argument("trace_file", metavar="TRACE", help="a JSON-lines trace file (from --trace FILE)")
    p.add_argument("-o", "--out", metavar="FILE",
                   help="where to write: FILE.svg (default: TRACE with .svg), FILE.mmd for Mermaid, - for stdout")
    p.add_argument("--mermaid", action="store_true", help="write Mermaid sequenceDiagram text instead of SVG")
    p.add_argument("--hosts", type=_hosts_arg, metavar="A,B,...",
                   help="only these lanes, in this order; a packet through other nodes becomes one arrow "
                        "from the last shown node to the next (default: every host and router)")
    p.add_argument("--from", dest="start", type=time_arg, metavar="T",
                   help="only packets sent at or after T (like 1.5 or 1500ms; seconds without a unit)")
    p.add_argument("--until", type=time_arg, metavar="T", help="only packets sent at or before T")
    p.add_argument("--max-arrows", type=int, default=DEFAULT_MAX_ARROWS, metavar="N",
                   help=f"draw at most the first N packet arrows (default {DEFAULT_MAX_ARROWS}; 0: all); "
                        "a big trace is read only as far as needed")
    p.set_defaults(func=cmd_diagram)
