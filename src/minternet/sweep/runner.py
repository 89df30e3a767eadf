"""Run a sweep's cells: in this process, on a local process pool, or on a Dask cluster.

The same :func:`~minternet.sweep.cell.run_cell` runs everywhere, and results come back as cells
finish. A cell is deterministic (its seed), so its row is cached under the hash of everything it
depends on -- its parameters, the topology's text, the job, and the code of minternet itself --
and a re-run skips the cells already done (``force=True`` runs them again). Failed cells are not
cached: they run again next time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .cell import run_cell


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """minternet's version and a hash of its source: a new minternet is a new cache."""
    from .. import __version__
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return f"{__version__}+{h.hexdigest()[:16]}"


def cell_key(cell: dict[str, Any]) -> str:
    """The hash of one cell's inputs (what its result depends on), its name in the cache."""
    inputs = {k: cell[k] for k in ("topology", "job", "link", "links", "tcp", "events", "seed")}
    programs = cell["job"].get("programs", {})
    sources = {}
    for spec in programs.values():  # a script's own text, so that editing it re-runs its cells
        script = spec.rsplit(":", 1)[0] if spec.count(":") and not spec.endswith(".py") else spec
        if not script.endswith(".py") and "path" in cell["job"]:  # module:function beside the sweep file
            base = Path(cell["job"]["path"], *script.split("."))
            script = next((str(p) for p in (base.with_suffix(".py"), base / "__init__.py") if p.exists()), script)
        if script.endswith(".py") and os.path.exists(script):
            sources[script] = hashlib.sha256(Path(script).read_bytes()).hexdigest()
    sources.update(_topology_files(cell["topology"]["text"], cell["topology"]["path"]))
    text = json.dumps({"inputs": inputs, "sources": sources, "code": code_hash()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _topology_files(text: str, path: str) -> dict[str, str]:
    """The hashes of the files a topology reads besides itself (its zone files, relative to it):
    editing one changes what the cells measure. Hashed once per sweep, not once per cell."""
    return dict(_topology_files_of(text, path, tuple(
        (f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in _zone_files(text, path) if os.path.isfile(f))))


@functools.lru_cache(maxsize=64)
def _zone_files(text: str, path: str) -> tuple[str, ...]:
    """The files the topology reads, as its loader reports them (built once per sweep)."""
    from ..sim.topology import loads
    try:
        topo = loads(text, path, out=lambda line: None)
    except ValueError:
        return ()  # the cells will fail and say why
    try:
        return tuple(topo.files)
    finally:
        topo.network.close()


@functools.lru_cache(maxsize=64)
def _topology_files_of(text: str, path: str, stats: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((f, hashlib.sha256(Path(f).read_bytes()).hexdigest()) for f, _, _ in stats)


class Cache:
    """Rows of done cells, one JSON file per cell key in a directory."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            row = json.loads((self.directory / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        return row if isinstance(row, dict) else None  # a file that is not a row: run the cell again

    def put(self, key: str, row: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(row, default=str))
        tmp.replace(self.directory / f"{key}.json")  # whole or not at all, if we are cut off


@dataclass
class Outcome:
    """What a sweep run did: the rows in cell order, and how many came from where."""

    rows: list[dict[str, Any]]
    ran: int = 0
    cached: int = 0
    failed: int = 0
    wall_s: float = 0.0
    where: str = ""
    errors: list[str] = field(default_factory=list)


def run_cells(cells: list[dict[str, Any]], *, workers: int | None = None, dask: str | None = None,
              cache: Cache | None = None, force: bool = False, progress: bool = True,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> Outcome:
    """Run the cells not in the cache; the rows of all of them, in cell order.

    ``workers``: processes of the local pool (default one per core; 0 runs the cells in this
    process). ``dask``: the address of a Dask scheduler ("tcp://host:8786"), or "local" to start
    a LocalCluster of ``workers`` processes.
    """
    t0 = time.perf_counter()
    rows: dict[int, dict[str, Any]] = {}
    todo: list[dict[str, Any]] = []
    keys: dict[int, str] = {}
    for cell in cells:
        key = keys[cell["index"]] = cell_key(cell)
        hit = None if (force or cache is None) else cache.get(key)
        if hit is not None:
            hit.update(cell=cell["index"], **cell["params"])  # the sweep file may name them anew
            rows[cell["index"]] = hit
        else:
            todo.append(cell)
    outcome = Outcome([], cached=len(rows))
    bar = _Progress(len(cells), len(rows), enabled=progress)
    if workers is None:
        workers = os.cpu_count() or 1
    try:
        if dask:
            stream, outcome.where = _on_dask(todo, dask, workers)
        elif workers == 0:
            stream, outcome.where = (run_cell(c) for c in todo), "this process"
        else:
            stream, outcome.where = _on_pool(todo, workers)
        for row in stream:
            outcome.ran += 1
            if row.get("error") is None:
                if cache is not None:
                    cache.put(keys[row["cell"]], row)
            else:
                outcome.failed += 1
                outcome.errors.append(f"cell {row['cell']}: {row['error']}")
            rows[row["cell"]] = row
            bar.advance(failed=row.get("error") is not None)
            if on_row:
                on_row(row)
    finally:
        bar.close()
    outcome.rows = [rows[c["index"]] for c in cells if c["index"] in rows]
    outcome.wall_s = time.perf_counter() - t0
    return outcome


def _result(fut: Any, cell: dict[str, Any]) -> dict[str, Any]:
    """A finished future's row; a cell whose worker died (os._exit, a crash, killed) is a failed
    row too, so that the sweep goes on."""
    try:
        return fut.result()
    except Exception as exc:
        return {"cell": cell["index"], **cell["params"], "ok": False, "error": f"{type(exc).__name__}: {exc}",
                "wall_s": 0.0}


def _on_pool(todo: list[dict[str, Any]], workers: int) -> tuple[Iterator[dict[str, Any]], str]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    def stream() -> Iterator[dict[str, Any]]:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_cell, cell): cell for cell in todo}
            try:
                for fut in as_completed(futures):
                    yield _result(fut, futures[fut])
            finally:
                for fut in futures:
                    fut.cancel()
    return stream(), f"a local pool of {workers} process{'es' * (workers != 1)}"


def _on_dask(todo: list[dict[str, Any]], address: str, workers: int) -> tuple[Iterator[dict[str, Any]], str]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("--dask needs Dask's distributed scheduler: pip install 'dask[distributed]'") from None

    def stream() -> Iterator[dict[str, Any]]:
        cluster = None
        if address == "local":
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"--dask {address}: cannot reach a Dask scheduler there ({exc}); start one "
                                 "with `dask scheduler` and `dask worker ADDRESS`, or use --dask local") from None
        try:
            futures = client.map(run_cell, todo, pure=False)
            cell_of = {fut.key: cell for fut, cell in zip(futures, todo)}
            for fut in as_completed(futures):
                yield _result(fut, cell_of[fut.key])
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    where = f"a Dask LocalCluster of {max(1, workers)} workers" if address == "local" else f"Dask at {address}"
    return stream(), where


class _Progress:
    """A progress bar on stderr (rich): cells done, failed, rate, time left. Nothing when stderr
    is not a terminal (or when not enabled)."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.bar = None
        self.failed = 0
        if not enabled or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self.bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[failed]} failed"), TextColumn("{task.fields[rate]}"),
                            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=False)
        self.bar.start()
        self.task = self.bar.add_task("sweep", total=total, completed=done, failed=0, rate="")
        self.t0 = time.perf_counter()
        self.ran = 0

    def advance(self, failed: bool) -> None:
        if self.bar is None:
            return
        self.failed += failed
        self.ran += 1
        rate = self.ran / max(1e-9, time.perf_counter() - self.t0)
        self.bar.update(self.task, advance=1, failed=self.failed, rate=f"{rate:.1f} cells/s")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
