"""Plots of a results table: the points drawn are the medians and spreads of the table's rows."""

from __future__ import annotations

import math
import re
import statistics

import pytest
from sweeputil import SMALL, write

from minternet.sweep import plot, table
from minternet.sweep.runner import run_cells
from minternet.sweep.spec import load


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plot")
    sweep = load(write(tmp, SMALL))
    rows = run_cells(sweep.cells, workers=2, progress=False).rows
    table.write_parquet(tmp / "results.parquet", rows, sweep.axes)
    table.write_csv(tmp / "results.csv", rows, sweep.axes)
    return tmp, rows, sweep.axes


def test_tables_read_back_the_same_rows(results):
    tmp, rows, axes = results
    for name in ("results.parquet", "results.csv"):
        back, back_axes = table.read_table(tmp / name)
        assert back_axes == axes == ["loss", "cc"]
        assert [(r["cell"], r["loss"], r["cc"], r["seed"], r["goodput_mbps"], r["retransmissions"]) for r in back] == \
               [(r["cell"], r["loss"], r["cc"], r["seed"], r["goodput_mbps"], r["retransmissions"]) for r in rows]


def test_the_points_are_the_tables_medians_and_spread(results):
    tmp, _, _ = results
    rows, axes = table.read_table(tmp / "results.parquet")
    fig = plot.draw(rows, axes, plot.parse_spec(["x=loss", "y=goodput", "hue=cc"]))
    ax = fig.axes[0]
    drawn = {line.get_gid(): line for line in ax.lines if (line.get_gid() or "").startswith("median:")}
    assert set(drawn) == {"median:cubic", "median:reno"}
    for cc in ("cubic", "reno"):
        expect = {}
        for r in rows:
            if r["cc"] == cc:
                expect.setdefault(r["loss"], []).append(r["goodput_mbps"])
        xs = sorted(expect)
        line = drawn[f"median:{cc}"]
        assert list(line.get_xdata()) == xs
        assert list(line.get_ydata()) == pytest.approx([statistics.median(expect[x]) for x in xs])
    # The bars: min to max over the seeds.
    bars = [c for c in ax.containers if c.lines[0].get_gid() == "median:reno"][0]
    segments = bars.lines[2][0].get_segments()
    reno = {}
    for r in rows:
        if r["cc"] == "reno":
            reno.setdefault(r["loss"], []).append(r["goodput_mbps"])
    for seg in segments:
        (x, lo), (_, hi) = seg
        assert (lo, hi) == pytest.approx((min(reno[x]), max(reno[x])))
    # Goodput against loss: the Mathis model beside the points, MSS/RTT * sqrt(3/2)/sqrt(p).
    model = [line for line in ax.lines if line.get_gid() == "mathis"][0]
    ok = [r for r in rows if r["error"] is None]
    mss, rtt = statistics.median(r["mss"] for r in ok), statistics.median(r["srtt_ms"] for r in ok) / 1e3
    p, y = model.get_xdata()[0], model.get_ydata()[0]
    assert p == 0.03 and y == pytest.approx(mss * 8 / rtt * math.sqrt(1.5) / math.sqrt(p) / 1e6)


def test_svg_and_png_files(results, tmp_path):
    tmp, _, _ = results
    svg = plot.plot_table(tmp / "results.csv", ["x=loss", "y=retrans", "hue=cc"], tmp_path / "r.svg")
    text = svg.read_text()
    assert text.startswith("<?xml") and 'id="median:cubic"' in text and "retransmissions" in text
    assert 'id="mathis"' not in text  # not goodput: no model
    again = plot.plot_table(tmp / "results.csv", ["x=loss", "y=retrans", "hue=cc"], tmp_path / "r2.svg")
    assert again.read_text() == text  # the same table, the same file
    png = plot.plot_table(tmp / "results.parquet", ["x=loss", "y=goodput", "cc=reno"], tmp_path / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("words, message", [
    (["x=loss"], "x=COLUMN y=COLUMN"),
    (["x=loss", "y=goodput"], "the rows also differ in cc"),
    (["x=loss", "y=goodpt", "hue=cc"], "did you mean 'goodput_mbps'"),
    (["x=loss", "y=goodput", "hue=cc", "cc=vegas"], "no rows"),
    (["x=loss", "y"], "write x=COLUMN"),
])
def test_bad_specs_say_what_to_write(results, words, message):
    tmp, _, _ = results
    with pytest.raises(ValueError, match=re.escape(message)):
        plot.plot_table(tmp / "results.parquet", words, tmp / "x.svg")


def test_nan_and_missing_values_are_left_out_of_medians_and_spreads():
    rows = [{"cell": i, "x": x, "seed": i, "error": None, "y": y}
            for i, (x, y) in enumerate([(0.0, float("nan")), (0.0, 2.0), (0.0, 4.0), (None, 1.0), (1.0, 5.0)])]
    lines, _ = plot.series(rows, [], plot.PlotSpec("x", "y"))
    assert (lines[0].x, lines[0].median, lines[0].low, lines[0].high, lines[0].n) == \
           ([0.0, 1.0], [3.0, 5.0], [2.0, 5.0], [4.0, 5.0], [2, 1])
    text = table.summary(rows[:3], ["x"], metrics=["y"])
    assert text[1].split() == ["0", "3", "0", "3", "(2-4)"]


@pytest.mark.parametrize("name, text", [("empty.csv", ""), ("bad.parquet", "not parquet"),
                                        ("bad.csv", "cell,seed\n1,2,3,4\n")])
def test_a_table_that_cannot_be_read_is_named(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError) as info:
        table.read_table(tmp_path / name)
    assert str(info.value).startswith(f"{tmp_path / name}: ")
