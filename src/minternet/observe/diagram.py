"""Sequence diagrams of a run: a lane per node, time going down, an arrow per packet per hop.

From a live run (a :class:`~minternet.observe.trace.Recorder`'s events) or a ``--trace`` file::

    diagram = build_diagram(load_trace("trace.jsonl"), hosts=["client", "r1", "server"])
    open("run.svg", "w").write(to_svg(diagram))
    print(to_mermaid(diagram))

or on the command line: ``minternet diagram trace.jsonl --out run.svg``. How hops are found is in
:mod:`.diagram_build`, labels in :mod:`.diagram_labels`, the drawing in :mod:`.diagram_svg` and
:mod:`.diagram_mermaid`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from typing import Callable, Iterable, Iterator, Sequence

from .diagram_build import DEFAULT_MAX_ARROWS, DiagramBuilder
from .diagram_mermaid import to_mermaid
from .diagram_model import Arrow, Diagram, Lane, Marker
from .diagram_svg import to_svg
from .trace import TraceEvent

__all__ = ["Arrow", "Diagram", "Lane", "Marker", "build_diagram", "iter_trace", "load_trace", "to_mermaid",
           "to_svg", "add_commands", "DEFAULT_MAX_ARROWS"]


def _event(d: dict) -> TraceEvent:
    frame = d.get("frame")
    packet = d.get("packet")
    return TraceEvent(int(d["t_ns"]), d["node"], d.get("iface"), d["layer"], d["event"], d.get("reason"),
                      bytes.fromhex(frame) if frame else None, bytes.fromhex(packet) if packet else None,
                      d.get("summary"))


def iter_trace(path: str | os.PathLike) -> Iterator[TraceEvent]:
    """Events of a JSON-lines trace (``--trace FILE``), one at a time, as they are read."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield _event(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{os.fspath(path)}, line {n}: not a trace event ({exc})") from None


def load_trace(path: str | os.PathLike) -> list[TraceEvent]:
    """All events of a JSON-lines trace file."""
    return list(iter_trace(path))


def build_diagram(events: Iterable[TraceEvent] | str | os.PathLike, hosts: Sequence[str] | None = None,
                  start: int | None = None, end: int | None = None,
                  max_arrows: int | None = DEFAULT_MAX_ARROWS, title: str | None = None) -> Diagram:
    """The sequence diagram of trace events (or of a JSON-lines trace file).

    ``hosts``: the lanes, in this order (default: every node, ordered so arrows are short);
    packets through nodes left out are followed to the next shown one. ``start``/``end``: only
    packets sent in this time range (ns). ``max_arrows``: only the first so many arrows (None or 0:
    all); a file is then read only as far as needed.
    """
    if isinstance(events, (str, os.PathLike)):
        title = title or f"minternet sequence diagram of {os.path.basename(os.fspath(events))}"
        events = iter_trace(events)
    builder = DiagramBuilder(hosts, start, end, max_arrows)
    for ev in events:
        if not builder.feed(ev):
            break
    return builder.finish(title)


# -- the command ------------------------------------------------------------------------------------
def _time_arg(text: str) -> int:
    from ..sim.units import parse_time
    try:
        return parse_time(text if any(c.isalpha() for c in text) else f"{text}s")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def add_commands(sub: argparse._SubParsersAction, common: Callable[..., None] | None = None) -> None:
    """Register ``minternet diagram`` (``common`` is not used: this command runs no network)."""
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
    p.add_argument("--from", dest="start", type=_time_arg, metavar="T",
                   help="only packets sent at or after T (like 1.5 or 1500ms; seconds without a unit)")
    p.add_argument("--until", type=_time_arg, metavar="T", help="only packets sent at or before T")
    p.add_argument("--max-arrows", type=int, default=DEFAULT_MAX_ARROWS, metavar="N",
                   help=f"draw at most the first N packet arrows (default {DEFAULT_MAX_ARROWS}; 0: all); "
                        "a big trace is read only as far as needed")
    p.set_defaults(func=cmd_diagram)
