"""Plots of a sweep's results table: y against x, one line per hue, medians over seeds with the
spread (min to max) as error bars; for TCP goodput against loss, the Mathis model beside them.

The Mathis model (Mathis, Semke, Mahdavi, Ott, "The macroscopic behavior of the TCP congestion
avoidance algorithm", 1997): a Reno flow that loses a fraction p of its segments gets about
``MSS/RTT * C/sqrt(p)`` with C = sqrt(3/2). It is drawn with the MSS and the median smoothed RTT
the cells measured (columns ``mss`` and ``srtt_ms``).

A spec is words ``x=COLUMN y=COLUMN [hue=COLUMN] [COLUMN=VALUE ...]``: the last keep only the
rows where a column has that value. A column may be named by a unique prefix (``goodput`` for
``goodput_mbps``). Drawn with matplotlib's Agg canvas (no display needed), as SVG or PNG by the
file's suffix.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MATHIS_C = math.sqrt(1.5)


@dataclass
class PlotSpec:
    x: str
    y: str
    hue: str | None = None
    where: dict[str, str] = field(default_factory=dict)


def parse_spec(words: list[str]) -> PlotSpec:
    """``["x=loss", "y=goodput", "hue=cc"]`` -> a :class:`PlotSpec`; ValueError says what is wrong."""
    given: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"plot: {word!r}: write x=COLUMN y=COLUMN [hue=COLUMN] [COLUMN=VALUE ...]")
        given[key] = value
    if "x" not in given or "y" not in given:
        raise ValueError("plot: say what to draw: x=COLUMN y=COLUMN (like x=loss y=goodput hue=cc)")
    x, y, hue = given.pop("x"), given.pop("y"), given.pop("hue", None)
    return PlotSpec(x, y, hue, given)


def _column(name: str, columns: list[str], role: str) -> str:
    if name in columns:
        return name
    matches = [c for c in columns if c.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    import difflib
    close = difflib.get_close_matches(name, columns, n=1)
    raise ValueError(f"plot: {role}={name}: no such column" + (f" (it could be {', '.join(matches)})" if matches
                     else f"; did you mean {close[0]!r}?" if close else "")
                     + f"; the table has: {', '.join(columns)}")


@dataclass
class Series:
    """One line of the plot: at each x, the median of y over its rows and the min and max."""

    label: str
    x: list[float] = field(default_factory=list)
    median: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    n: list[int] = field(default_factory=list)


def series(rows: list[dict[str, Any]], axes: list[str], spec: PlotSpec) -> tuple[list[Series], PlotSpec]:
    """The lines to draw (medians and spread per x and hue), and the spec with full column names."""
    if not rows:
        raise ValueError("plot: the table has no rows")
    cols = list(rows[0])
    spec = PlotSpec(_column(spec.x, cols, "x"), _column(spec.y, cols, "y"),
                    _column(spec.hue, cols, "hue") if spec.hue else None,
                    {_column(k, cols, k): v for k, v in spec.where.items()})
    kept = [r for r in rows if all(str(r.get(k)) == v for k, v in spec.where.items())
            and r.get("error") in (None, "") and _number(r.get(spec.y)) and _present(r.get(spec.x))]
    if not kept:
        raise ValueError(f"plot: no rows with a value of {spec.y}" + (f" where {spec.where}" if spec.where else ""))
    # A parameter that differs within one point (same x, same hue) would be mixed into its median.
    within: dict[tuple, dict[str, set]] = {}
    for r in kept:
        point = within.setdefault((r.get(spec.hue) if spec.hue else None, r.get(spec.x)), {})
        for a in axes:
            point.setdefault(a, set()).add(r.get(a))
    others = [a for a in axes if a not in (spec.x, spec.hue) and a not in spec.where
              and any(len(p.get(a, ())) > 1 for p in within.values())]
    if others:
        values = {a: sorted({str(r.get(a)) for r in kept}) for a in others}
        raise ValueError(f"plot: the rows also differ in {', '.join(others)}; draw one as hue=, or keep one "
                         f"value with COLUMN=VALUE (" + "; ".join(f"{a}: {', '.join(v)}" for a, v in values.items())
                         + ")")
    groups: dict[Any, dict[Any, list[float]]] = {}
    for r in kept:
        groups.setdefault(r.get(spec.hue) if spec.hue else None, {}).setdefault(r[spec.x], []).append(r[spec.y])
    out = []
    for hue, by_x in groups.items():
        s = Series(str(hue) if spec.hue else spec.y)
        for xv in sorted(by_x, key=lambda v: (isinstance(v, str), v)):
            ys = by_x[xv]
            s.x.append(xv)
            s.median.append(statistics.median(ys))
            s.low.append(min(ys))
            s.high.append(max(ys))
            s.n.append(len(ys))
        out.append(s)
    return out, spec


def _number(v: Any) -> bool:
    """A value to take a median of: a number, not NaN (a missing figure read back from a table)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _present(v: Any) -> bool:
    """A value to place a point at: not missing (None, NaN)."""
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def mathis(rows: list[dict[str, Any]], spec: PlotSpec) -> tuple[list[float], list[float], str] | None:
    """The Mathis model's goodput (Mbit/s) over the plot's loss values, or None when the plot is
    not TCP goodput against loss (or the table has no MSS and RTT)."""
    if spec.x != "loss" or not spec.y.startswith("goodput") or not spec.y.endswith("_mbps"):
        return None
    ok = [r for r in rows if r.get("error") in (None, "") and r.get("mss") and r.get("srtt_ms")]
    losses = sorted({r["loss"] for r in ok if isinstance(r.get("loss"), (int, float)) and r["loss"] > 0})
    if not ok or not losses:
        return None
    mss = statistics.median(r["mss"] for r in ok)
    rtt = statistics.median(r["srtt_ms"] for r in ok) / 1e3
    lo, hi = losses[0], losses[-1]
    ps = [lo * (hi / lo) ** (i / 63) for i in range(64)] if hi > lo else [lo]
    ys = [mss * 8 / rtt * MATHIS_C / math.sqrt(p) / 1e6 for p in ps]
    return ps, ys, f"Mathis model: MSS/RTT·√(3/2)/√p (MSS {mss:.0f} B, RTT {rtt * 1e3:.0f} ms)"


def draw(rows: list[dict[str, Any]], axes: list[str], spec: PlotSpec, title: str | None = None) -> Any:
    """A matplotlib Figure of the table (no pyplot: nothing global, no display)."""
    from matplotlib.figure import Figure
    lines, spec = series(rows, axes, spec)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    numeric_x = all(isinstance(v, (int, float)) for s in lines for v in s.x)
    for s in lines:
        xs = s.x if numeric_x else [str(v) for v in s.x]
        err = [[m - lo for m, lo in zip(s.median, s.low)], [hi - m for m, hi in zip(s.median, s.high)]]
        container = ax.errorbar(xs, s.median, yerr=err, marker="o", capsize=3, label=s.label)
        container.lines[0].set_gid(f"median:{s.label}")
    model = mathis(rows, spec) if numeric_x else None
    if model:
        ps, ys, label = model
        top = max(h for s in lines for h in s.high)
        ax.plot(ps, ys, linestyle="--", color="grey", label=label, gid="mathis")
        ax.set_ylim(0, top * 1.15)
    ax.set_xlabel(spec.x)
    ax.set_ylabel(spec.y)
    spread = "median over seeds, bars: min to max"
    ax.set_title(f"{title}: {spec.y} by {spec.x}" if title else f"{spec.y} by {spec.x}", fontsize=11)
    ax.text(0.99, 0.01, spread, transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="grey")
    ax.grid(True, alpha=0.3)
    if spec.hue or model:
        ax.legend(title=spec.hue, fontsize=8)
    return fig


def plot_table(path: str | Path, words: list[str], out: str | Path | None = None) -> Path:
    """Draw a results table (.parquet or .csv) as ``words`` say; the file written (SVG unless
    ``out`` ends in .png)."""
    from .table import read_table
    rows, axes = read_table(path)
    return save(rows, axes, parse_spec(words), out or Path(path).with_suffix(".svg"), title=Path(path).parent.name)


def save(rows: list[dict[str, Any]], axes: list[str], spec: PlotSpec, out: str | Path,
         title: str | None = None) -> Path:
    out = Path(out)
    if out.suffix.lower() not in (".svg", ".png"):
        raise ValueError(f"plot: {out}: write .svg or .png")
    import matplotlib
    # A fixed salt for the SVG's ids and no date: the same table gives the same file.
    with matplotlib.rc_context({"svg.hashsalt": "minternet"}):
        fig = draw(rows, axes, spec, title=title)
        fig.savefig(out, dpi=120, metadata={"Date": None} if out.suffix.lower() == ".svg" else None)
    return out
