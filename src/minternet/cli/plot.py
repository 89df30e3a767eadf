"""``minternet plot FILE ...``: draw a file minternet wrote, by its kind (its suffix):

- a sweep's results table (``.parquet`` or ``.csv``): y against x with medians and spread over
  seeds (:mod:`minternet.sweep.plot`);
- a trace (``.jsonl``): TCP time-sequence graphs (:mod:`minternet.observe.tcpplot`).
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path


def cmd_plot(args: argparse.Namespace) -> int:
    suffix = Path(args.file).suffix.lower()
    if suffix in (".parquet", ".csv"):
        from ..sweep.plot import plot_table
        written = plot_table(args.file, args.spec, args.output)
        print(f"plot: {written}")
        return 0
    if suffix == ".jsonl":
        try:
            tcpplot = importlib.import_module("minternet.observe.tcpplot")
        except ImportError:
            raise ValueError(f"{args.file}: plotting a trace (.jsonl) needs minternet.observe.tcpplot (TCP "
                             "time-sequence graphs), which this minternet does not have yet") from None
        return tcpplot.cmd_plot(args)
    raise ValueError(f"{args.file}: minternet plot draws a sweep's results (.parquet, .csv) or a trace (.jsonl)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot", help="draw a sweep's results table (.parquet/.csv) or a trace (.jsonl)",
        description="Draw FILE by its kind: a sweep's results (results.parquet or .csv) as y against x, one line "
                    "per hue, medians over seeds with min-max bars (and for TCP goodput against loss, the Mathis "
                    "model); a trace (.jsonl) as TCP time-sequence graphs.",
        epilog="Example: minternet plot sweep-loss-results/results.parquet x=loss y=goodput hue=label -o loss.svg")
    p.add_argument("file", metavar="FILE", help="results.parquet, results.csv or a trace .jsonl")
    p.add_argument("spec", metavar="KEY=VALUE", nargs="*",
                   help="for a results table: x=COLUMN y=COLUMN [hue=COLUMN] [COLUMN=VALUE ...] (keep only rows "
                        "with that value); a column may be named by a unique prefix (goodput)")
    p.add_argument("-o", "--output", metavar="FILE", help="the figure (.svg or .png; default: FILE with .svg)")
    p.set_defaults(func=cmd_plot)
