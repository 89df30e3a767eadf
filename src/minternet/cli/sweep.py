"""``minternet sweep``: run one job over a grid of parameters and seeds, on a local process pool
or a Dask cluster; a results table (CSV, Parquet), a summary and plots."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweep import plot, runner, spec, table
    sweep = spec.load(args.file)
    plot_spec = plot.parse_spec(args.plot) if args.plot else None  # a bad spec fails before the run
    if args.check:
        print(f"{args.file}: ok: {len(sweep.cells)} cells ({len(sweep.cells) // len(sweep.seeds)} parameter "
              f"sets x {len(sweep.seeds)} seeds), job {sweep.job['kind']}")
        return 0
    if args.workers is not None and args.workers < 0:
        raise ValueError("--workers: 0 (run in this process) or more")
    out = Path(args.out or f"{Path(args.file).stem}-results")
    plot_out = Path(args.plot_out) if args.plot_out else out / "plot.svg"
    if plot_spec and args.plot_out:  # known before the cells run, not after
        if plot_out.suffix.lower() not in (".svg", ".png"):
            raise ValueError(f"--plot-out {plot_out}: write .svg or .png")
        if not plot_out.parent.is_dir():
            raise ValueError(f"--plot-out {plot_out}: no directory {plot_out.parent}")
    for directory in (out, out / "cache"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"{directory}: cannot make the directory: {exc.strerror}") from None
    cache = runner.Cache(out / "cache")
    result = runner.run_cells(sweep.cells, workers=args.workers, dask=args.dask, cache=cache, force=args.force,
                              progress=not args.no_progress)
    meta = {"sweep": sweep.name, "job": sweep.job["kind"], "code": runner.code_hash()}
    try:
        table.write_csv(out / "results.csv", result.rows, sweep.axes)
        table.write_parquet(out / "results.parquet", result.rows, sweep.axes, meta)
    except OSError as exc:
        raise ValueError(f"{out}: cannot write the results there: {exc.strerror or exc}") from None
    print(f"sweep {sweep.name}: {len(sweep.cells)} cells, {result.ran} run on {result.where}, {result.cached} "
          f"from the cache, {result.failed} failed, in {result.wall_s:.1f}s")
    for line in table.summary(result.rows, sweep.axes):
        print(line)
    for error in result.errors[:10]:
        print(f"failed: {error}", file=sys.stderr)
    if len(result.errors) > 10:
        print(f"failed: ... and {len(result.errors) - 10} more (the error column of the table)", file=sys.stderr)
    print(f"results: {out / 'results.csv'} and {out / 'results.parquet'} (cache: {out / 'cache'}/)")
    if plot_spec:
        rows = table.normalise(result.rows, sweep.axes)[1]  # every row with every column, as the table has
        try:
            written = plot.save(rows, sweep.axes, plot_spec, plot_out, title=sweep.name)
        except OSError as exc:
            raise ValueError(f"{plot_out}: cannot write the plot: {exc.strerror or exc}") from None
        print(f"plot: {written}")
    return 1 if result.failed else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help="run a job over a grid of link and TCP parameters and seeds, in parallel; a table and plots",
        description="Run the job of the sweep FILE (a transfer, ping, DNS lookup, curl or your programs) once per "
                    "cell: every combination of its [grid] values and [[set]]s, for each seed. Cells run on a "
                    "local process pool (one worker per core) or on a Dask cluster (--dask); a cell already "
                    "done (same inputs, same minternet) comes from the cache. Writes OUT/results.csv and "
                    "OUT/results.parquet, prints the median and spread over seeds of each parameter set.",
        epilog="Example: minternet sweep examples/sweep-loss.toml --plot x=loss y=goodput hue=label")
    p.add_argument("file", metavar="FILE", help="the sweep file (TOML)")
    p.add_argument("-o", "--out", metavar="DIR", help="where the table, cache and plot go (default: FILE's name "
                   "with -results, in the current directory)")
    p.add_argument("-j", "--workers", type=int, default=None, metavar="N",
                   help=f"processes of the local pool, or Dask workers with --dask local (default: one per core, "
                        f"{os.cpu_count()} here); 0 runs the cells in this process")
    p.add_argument("--dask", metavar="ADDRESS", help="run the cells on the Dask scheduler at ADDRESS "
                   "(tcp://host:8786), or `local` to start a Dask LocalCluster here")
    p.add_argument("--force", action="store_true", help="run every cell again, cached or not")
    p.add_argument("--plot", nargs="+", metavar="KEY=VALUE",
                   help="also draw x=COLUMN y=COLUMN [hue=COLUMN] [COLUMN=VALUE ...] (like x=loss y=goodput "
                        "hue=label) to OUT/plot.svg")
    p.add_argument("--plot-out", metavar="FILE", help="where the plot goes (.svg or .png; default OUT/plot.svg)")
    p.add_argument("--check", action="store_true", help="only read the sweep file and say how many cells it has")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)
