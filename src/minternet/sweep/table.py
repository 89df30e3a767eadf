"""The results table of a sweep: one row per cell, written as CSV and Parquet, summarised over seeds.

The columns come in a fixed order that readers rely on: ``cell``, the parameters that vary (the
axes), ``seed``, then ``ok``, ``error`` and what the job measured, the drops by reason
(``drop.REASON``, 0 where a cell had none) and ``wall_s`` last. So a table read back (from
either file) knows its axes: the columns between ``cell`` and ``seed``.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path
from typing import Any

# The figures a summary shows first, when the job measured them.
SUMMARY_METRICS = ("goodput_mbps", "sim_time_s", "retransmissions", "timeouts", "rtt_avg_ms", "loss_pct",
                   "lookup_ms")


def columns(rows: list[dict[str, Any]], axes: list[str]) -> list[str]:
    """The table's columns in their order (see the module's docstring)."""
    head = ["cell", *axes, "seed", "ok", "error"]
    measured: list[str] = []
    drops: set[str] = set()
    for row in rows:
        for key in row:
            if key.startswith("drop."):
                drops.add(key)
            elif key not in head and key not in measured and key not in ("wall_s", "traceback"):
                measured.append(key)
    return head + measured + sorted(drops) + ["wall_s"]


def normalise(rows: list[dict[str, Any]], axes: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Every row with every column (drops 0, other missing figures None), in column order."""
    cols = columns(rows, axes)
    out = []
    for row in rows:
        out.append({c: row.get(c, 0 if c.startswith("drop.") and row.get("error") is None else None) for c in cols})
    return cols, out


def write_csv(path: str | Path, rows: list[dict[str, Any]], axes: list[str]) -> None:
    cols, rows = normalise(rows, axes)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=cols)
        writer.writeheader()
        writer.writerows(rows)


def write_parquet(path: str | Path, rows: list[dict[str, Any]], axes: list[str],
                  meta: dict[str, Any] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    cols, rows = normalise(rows, axes)
    table = pa.Table.from_pylist(rows)
    table = table.select(cols).replace_schema_metadata(
        {"minternet.sweep": json.dumps({"axes": axes, **(meta or {})})})
    pq.write_table(table, path)


def read_table(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """A results table written by :func:`write_csv` or :func:`write_parquet`: (rows, axes)."""
    path = Path(path)
    if path.suffix in (".parquet", ".csv") and not path.is_file():
        raise ValueError(f"{path}: cannot read it: no such file")
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq
            table = pq.read_table(path)
        elif path.suffix == ".csv":
            import pyarrow.csv as pcsv
            table = pcsv.read_csv(path)
        else:
            raise ValueError(f"{path}: a results table is a .parquet or .csv file")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:  # pyarrow's ArrowInvalid: not a Parquet file, a broken CSV
        if str(exc).startswith(f"{path}: "):
            raise
        raise ValueError(f"{path}: cannot read it: {exc}") from None
    cols = table.column_names
    if not cols or cols[0] != "cell" or "seed" not in cols:
        raise ValueError(f"{path}: not a sweep's results table (it has no cell and seed columns; "
                         "minternet sweep writes them)")
    return table.to_pylist(), cols[1:cols.index("seed")]


def summary(rows: list[dict[str, Any]], axes: list[str], metrics: list[str] | None = None) -> list[str]:
    """The median and the spread (min-max) over seeds of each parameter set, as text lines."""
    if metrics is None:
        present = {k for r in rows for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        metrics = [m for m in SUMMARY_METRICS if m in present][:4]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(a) for a in axes), []).append(row)
    head = [*axes, "seeds", "ok", *[f"{m} median (min-max)" for m in metrics]]
    table = [head]
    for key, group in groups.items():
        line = [_fmt(v) for v in key] + [str(len(group)), str(sum(1 for r in group if r.get("ok")))]
        for m in metrics:
            values = [r[m] for r in group if isinstance(r.get(m), (int, float)) and r.get("error") is None
                      and not math.isnan(r[m])]  # NaN: a figure the cell did not have
            if not values:
                line.append("-")
            else:
                line.append(f"{_fmt(statistics.median(values))} ({_fmt(min(values))}-{_fmt(max(values))})")
        table.append(line)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
