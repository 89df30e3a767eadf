"""Sweeps: a 100-cell sweep on 1 and 2 local workers, and on a Dask LocalCluster beside them.

    python bench/sweep.py                # 100 cells: 5 loss rates x 2 congestion controls x 10 seeds
    python bench/sweep.py --bytes 200KB  # shorter cells: the overheads weigh more

Every run is of the same cells with no cache, so each runs every cell. Printed:

- the reference: the cells one after another in this process (``--workers 0``), and the sum of
  the cells' own wall times;
- the local process pool with 1 and 2 workers, and a Dask LocalCluster with 1 and 2 worker
  processes: wall time, the speed-up of 2 workers over 1 (on 2 cores, close to 2x is the aim),
  and the overhead per cell over the reference, (wall x workers - cells' own time) / cells;
- the Dask cluster's start and stop on its own (a run of no cells, after one that imports Dask),
  which the Dask runs include, and the overhead per cell less it;
- whether every run gave the same rows (it must: each cell is deterministic by its seed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself on the path: its http.py would shadow the standard library's, which Dask imports.
sys.path[0] = str(ROOT / "src")

from minternet.sweep.runner import run_cells  # noqa: E402
from minternet.sweep.spec import load  # noqa: E402

SWEEP = """\
name = "bench"
topology = "{topology}"
seeds = {seeds}
links = ["bottleneck"]

[job]
kind = "transfer"
bytes = "{nbytes}"

[grid]
loss = [0, 0.01, 0.02, 0.03, 0.05]
cc = ["cubic", "reno"]
"""


def figures(rows):
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bytes", default="1MB", help="bytes per transfer (default 1MB)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per parameter set (default 10: 100 cells)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(SWEEP.format(topology=ROOT / "examples" / "bottleneck.toml", seeds=args.seeds,
                                     nbytes=args.bytes))
        cells = load(path).cells
    print(f"{len(cells)} cells: transfers of {args.bytes} over the example bottleneck, "
          f"{os.cpu_count()} cores here")
    ref = run_cells(cells, workers=0, progress=False)
    own = sum(r["wall_s"] for r in ref.rows)
    print(f"  {'in this process (reference)':<34} {ref.wall_s:7.2f} s   cells' own time {own:.2f} s "
          f"({own / len(cells) * 1e3:.1f} ms per cell)")
    run_cells([], workers=1, dask="local", progress=False)  # Dask's first import is not its start
    startup = {w: min(run_cells([], workers=w, dask="local", progress=False).wall_s for _ in range(2))
               for w in (1, 2)}
    same = True
    walls = {}
    for label, kw in (("local pool", {}), ("Dask LocalCluster", {"dask": "local"})):
        for workers in (1, 2):
            out = run_cells(cells, workers=workers, progress=False, **kw)
            same &= figures(out.rows) == figures(ref.rows) and out.failed == ref.failed
            own_here = sum(r["wall_s"] for r in out.rows)
            overhead = (out.wall_s * workers - own_here) / len(cells)
            walls[label, workers] = out.wall_s
            extra = ""
            if "dask" in kw:  # the same less the cluster's start and stop
                net = ((out.wall_s - startup[workers]) * workers - own_here) / len(cells)
                extra = f" ({net * 1e3:.1f} ms less the cluster's start)"
            print(f"  {label + f', {workers} worker' + 's' * (workers > 1):<34} {out.wall_s:7.2f} s   "
                  f"overhead {overhead * 1e3:6.1f} ms per cell{extra}")
        print(f"  {label}: 2 workers {walls[label, 1] / walls[label, 2]:.2f}x faster than 1")
    print(f"  Dask LocalCluster start and stop alone (a run of no cells): 1 worker {startup[1]:.2f} s, "
          f"2 workers {startup[2]:.2f} s (in the Dask figures above)")
    print(f"  Dask over the local pool, 2 workers: {walls['Dask LocalCluster', 2] / walls['local pool', 2]:.2f}x "
          f"the wall time; less the cluster's start: "
          f"{(walls['Dask LocalCluster', 2] - startup[2]) / walls['local pool', 2]:.2f}x")
    print(f"  the same rows in every run: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
