"""minternet sweep and minternet plot, end to end from the command line."""

from __future__ import annotations

from sweeputil import SMALL, write

from minternet.cli import main


def test_sweep_writes_the_table_summary_and_plot_then_uses_its_cache(tmp_path, capsys):
    path = write(tmp_path, SMALL)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "-o", str(out), "-j", "2", "--plot", "x=loss", "y=goodput", "hue=cc"]) == 0
    text = capsys.readouterr().out
    assert "sweep small: 24 cells, 24 run on a local pool of 2 processes, 0 from the cache, 0 failed" in text
    assert "goodput_mbps median (min-max)" in text
    assert sum(1 for line in text.splitlines() if line.startswith(("0 ", "0.03 ", "0.08 "))) == 6  # a line per set
    for name in ("results.csv", "results.parquet", "plot.svg"):
        assert (out / name).stat().st_size > 0
    assert len(list((out / "cache").glob("*.json"))) == 24
    assert main(["sweep", str(path), "-o", str(out), "-j", "2"]) == 0
    assert ": 24 cells, 0 run on a local pool of 2 processes, 24 from the cache, 0 failed" in capsys.readouterr().out
    assert main(["plot", str(out / "results.parquet"), "x=loss", "y=goodput", "hue=cc", "-o", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_sweep_mistakes_exit_2_with_file_and_line(tmp_path, capsys):
    path = write(tmp_path, SMALL.replace("loss = [0, 0.03, 0.08]", "loss = [0, 3]"))
    assert main(["sweep", str(path), "--check"]) == 2
    assert f"minternet: error: {path}:11: [grid] loss = 3: a probability from 0 to 1" in capsys.readouterr().err


def test_sweep_check_counts_cells(tmp_path, capsys):
    path = write(tmp_path, SMALL)
    assert main(["sweep", str(path), "--check"]) == 0
    assert "ok: 24 cells (6 parameter sets x 4 seeds), job transfer" in capsys.readouterr().out


def test_plot_dispatches_by_suffix(tmp_path, capsys):
    (tmp_path / "t.jsonl").write_text("")
    assert main(["plot", str(tmp_path / "t.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no TCP" in err or "empty" in err or err != ""
    assert main(["plot", str(tmp_path / "t.txt"), "x=a", "y=b"]) == 2
    assert "plot reads a trace (.jsonl, written by --trace FILE) or sweep results (.parquet, .csv)" in capsys.readouterr().err


def test_an_output_that_cannot_be_written_is_an_error_not_a_traceback(tmp_path, capsys):
    path = write(tmp_path, '[job]\nkind = "ping"\ncount = 1\n')
    (tmp_path / "file").write_text("")
    assert main(["sweep", str(path), "-j", "0", "-o", str(tmp_path / "file" / "out")]) == 2
    assert f"minternet: error: {tmp_path / 'file' / 'out'}" in capsys.readouterr().err
    # A plot that could not be written is known before the cells run.
    for bad in ("p.pdf", str(tmp_path / "nowhere" / "p.svg")):
        assert main(["sweep", str(path), "-j", "0", "-o", str(tmp_path / "out"), "--plot", "x=seed", "y=rtt_avg",
                     "--plot-out", bad]) == 2
        assert bad in capsys.readouterr().err
        assert not (tmp_path / "out").exists()
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / "cache").write_text("")  # where the cache goes is a file
    assert main(["sweep", str(path), "-j", "0", "-o", str(tmp_path / "out2")]) == 2
    assert f"minternet: error: {tmp_path / 'out2' / 'cache'}" in capsys.readouterr().err
    assert main(["sweep", str(path), "-j", "0", "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert main(["plot", str(tmp_path / "out" / "results.csv"), "x=seed", "y=rtt_avg", "-o",
                 str(tmp_path / "nowhere" / "p.svg")]) == 2
    assert f"minternet: error: {tmp_path / 'nowhere' / 'p.svg'}" in capsys.readouterr().err


def test_sweep_plot_when_the_first_cell_failed_before_measuring(tmp_path, capsys):
    # The first cell's lookup fails (an exception: its row has no status column); the plot is
    # drawn from the others, as `minternet plot` draws it from the table.
    path = write(tmp_path, '[job]\nkind = "curl"\ntimeout = "5s"\n[grid]\n'
                           'url = ["http://nohost.invalid/", "http://www.example.com/"]\n')
    assert main(["sweep", str(path), "-j", "0", "-o", str(tmp_path / "out"), "--plot", "x=url", "y=status"]) == 1
    assert "plot: " in capsys.readouterr().out
    assert (tmp_path / "out" / "plot.svg").stat().st_size > 0
