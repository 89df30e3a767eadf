"""``minternet plot FILE``: pictures of a run, chosen by the file's kind.

- a trace (``.jsonl``, from ``--trace``): the TCP time-sequence graph of a connection, with its
  cwnd and RTT (:mod:`minternet.observe.tcpplot`);
- sweep results (``.parquet`` or ``.csv``): handed to :mod:`minternet.sweep.plot`.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap


def cmd_plot(args: argparse.Namespace) -> int:
    path = args.file
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".parquet", ".csv"):
        try:
            from ..sweep import plot as sweep_plot  # type: ignore[attr-defined]
        except ImportError:
            print(f"minternet: error: {path}: plotting sweep results needs minternet.sweep.plot, which this "
                  "version does not have (plot a trace instead: minternet plot trace.jsonl)", file=sys.stderr)
            return 2
        try:
            written = sweep_plot.plot_table(path, args.spec, args.out)
        except ValueError as exc:
            print(f"minternet: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"minternet: error: {exc.filename or args.out}: cannot write it: {exc.strerror or exc}",
                  file=sys.stderr)
            return 2
        print(f"plot: {written}")
        return 0
    if suffix not in (".jsonl", ".json", ".ndjson"):
        print(f"minternet: error: {path}: plot reads a trace (.jsonl, written by --trace FILE) or sweep "
              f"results (.parquet, .csv), not {suffix or 'a file without a suffix'}", file=sys.stderr)
        return 2
    if args.spec:
        print(f"minternet: error: {path}: KEY=VALUE ({' '.join(args.spec)}) is for sweep results "
              "(.parquet, .csv); a trace takes --conn, --list, --all", file=sys.stderr)
        return 2
    return _plot_trace(args)


def _plot_trace(args: argparse.Namespace) -> int:
    from ..observe.tcpplot import build_series, connections, events_of, file_name, pick, scan
    from ..observe.tcpplot_svg import to_svg
    from ..demo.story import choose_language  # the demo's rule: --lang, then the locale
    lang = choose_language(args.lang)
    try:
        s = scan(events_of(args.file))
    except OSError as exc:
        print(f"minternet: error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    conns = connections(s)
    if not conns:
        print(f"minternet: error: {args.file} has no TCP packets (trace a run that uses TCP, like "
              "minternet transfer client server --trace tcp.jsonl)", file=sys.stderr)
        return 2
    if args.list or (len(conns) > 1 and args.conn is None and not args.all):
        print(f"{len(conns)} TCP connection{'s' if len(conns) > 1 else ''} in {args.file}:")
        for i, c in enumerate(conns, 1):
            sender = c.sender
            print(f"  {i:3}  {c.label:<44} {c.first / 1e9:10.6f}s .. {c.last / 1e9:.6f}s  "
                  f"{max(c.bytes_ab, c.bytes_ba) or max(c.fwd_ab, c.fwd_ba):>10,} bytes sent by {sender[0]}:{sender[1]} (resends included)")
        if args.list:
            return 0
        print("plot one with --conn N (or --conn 'a:p-b:q', --conn PORT), or all of them with --all -o FOLDER",
              file=sys.stderr)
        return 2
    if args.all:
        outdir = args.out or os.path.splitext(args.file)[0] + "-tcp"
        os.makedirs(outdir, exist_ok=True)
        for c in conns:
            _write(os.path.join(outdir, file_name(c)), to_svg(build_series(s, c), lang=lang), c)
        return 0
    try:
        conn = pick(conns, args.conn)
    except ValueError as exc:
        print(f"minternet: error: {exc}", file=sys.stderr)
        return 2
    out = args.out or os.path.splitext(args.file)[0] + "-tcp.svg"
    if os.path.isdir(out):
        out = os.path.join(out, file_name(conn))
    series = build_series(s, conn)
    text = to_svg(series, lang=lang)
    if out == "-":
        sys.stdout.write(text)
        return 0
    return _write(out, text, conn, series)


def _write(out: str, text: str, conn, series=None) -> int:
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        print(f"minternet: error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    extra = ""
    if series is not None:
        retx = sum(1 for x in series.segments if x["retransmission"])
        extra = (f": {len(series.segments)} segments ({retx} retransmitted, {len(series.lost)} lost), "
                 f"{len(series.acks)} ACKs, {len(series.cc)} cwnd changes, {len(series.rtt)} RTT samples, "
                 f"seen at {series.vantage}")
    print(f"TCP plot of {conn.label} written to {out}{extra}", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add plot (it runs no network, so it takes none of the common options)."""
    p = sub.add_parser(
        "plot", help="draw a TCP connection of a trace: time-sequence graph, cwnd and RTT (SVG)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Draw a TCP connection of a JSON-lines trace (from --trace FILE) the way Wireshark's "
            "tcptrace (Stevens) graph does: every data segment as a bar from its first to its last "
            "sequence number at the time it was sent (retransmissions in red), the cumulative ACK, the "
            "receive window (ACK plus the advertised window, scaled by the handshake's window scale), "
            "SACK blocks, and where segments were lost. Below it, cwnd and ssthresh as the sender's "
            "stack traced them, and RTT: samples measured from the packets (Karn's rule), srtt and RTO. "
            "A file of sweep results (.parquet, .csv) is plotted by the sweep module instead.",
            78, break_on_hyphens=False),
        epilog="examples:\n"
               "  minternet plot sweep-loss-results/results.parquet x=loss y=goodput hue=label -o loss.svg\n"
               "  minternet transfer client server --bytes 300KB --loss 0.02 --trace tcp.jsonl\n"
               "  minternet plot tcp.jsonl -o tcp.svg\n"
               "  minternet plot trace.jsonl --list\n"
               "  minternet plot trace.jsonl --conn 2 --lang ko\n"
               "  minternet plot trace.jsonl --conn 10.0.1.10:40001-10.0.2.10:80\n"
               "  minternet plot trace.jsonl --all -o plots/")
    p.add_argument("file", metavar="FILE", help="a JSON-lines trace (.jsonl, from --trace FILE), or sweep results")
    p.add_argument("spec", metavar="KEY=VALUE", nargs="*",
                   help="for sweep results: x=COLUMN y=COLUMN [hue=COLUMN] [COLUMN=VALUE ...] (keep only rows "
                        "with that value); a column may be named by a unique prefix (goodput)")
    p.add_argument("--conn", metavar="N|A:P-B:Q|PORT",
                   help="which connection: its number in --list, its two ends, or a port of either end "
                        "(needed when the trace has several)")
    p.add_argument("--list", action="store_true", help="list the trace's TCP connections and stop")
    p.add_argument("--all", action="store_true", help="plot every connection, one SVG each, into the folder -o")
    p.add_argument("-o", "--out", metavar="FILE",
                   help="where to write (default: TRACE-tcp.svg; with --all a folder, default TRACE-tcp/); - for stdout")
    p.add_argument("--lang", choices=["en", "ko"], default=None,
                   help="language of the labels (default: from the locale, else English)")
    p.set_defaults(func=cmd_plot)
