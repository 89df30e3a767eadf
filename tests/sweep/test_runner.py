"""Running sweeps: the local pool and a Dask LocalCluster give the same rows; the cache skips
done cells; a failed cell is a row with its error and the sweep goes on."""

from __future__ import annotations

import pytest
from sweeputil import SMALL, write

from minternet.sweep.runner import Cache, cell_key, run_cells
from minternet.sweep.spec import load


def _figures(rows):
    """The rows without the wall time (the one thing that differs from run to run)."""
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]


def test_local_pool_and_dask_give_identical_rows(tmp_path):
    sweep = load(write(tmp_path, SMALL))
    assert len(sweep.cells) == 24
    pool = run_cells(sweep.cells, workers=2, progress=False)
    dask = run_cells(sweep.cells, workers=2, dask="local", progress=False)
    inline = run_cells(sweep.cells, workers=0, progress=False)
    assert pool.ran == dask.ran == 24 and pool.failed == dask.failed == 0
    assert "Dask LocalCluster" in dask.where and "local pool of 2" in pool.where
    assert _figures(pool.rows) == _figures(dask.rows) == _figures(inline.rows)
    assert [r["cell"] for r in pool.rows] == list(range(24))  # in cell order, however they finished
    # The sweep measured something that changes with its parameters: loss costs goodput.
    by_loss = {}
    for r in pool.rows:
        assert r["ok"] and r["bytes"] == 40_000
        by_loss.setdefault(r["loss"], []).append(r["goodput_mbps"])
    assert max(by_loss[0.08]) < min(by_loss[0.0])
    assert sum(r["retransmissions"] for r in pool.rows if r["loss"] == 0.08) > 0
    assert all(r["drop.link-loss"] > 0 for r in pool.rows if r["loss"] == 0.08 and r["retransmissions"])


def test_cache_skips_done_cells_and_force_runs_them_again(tmp_path):
    sweep = load(write(tmp_path, SMALL))
    cache = Cache(tmp_path / "cache")
    first = run_cells(sweep.cells, workers=0, cache=cache, progress=False)
    assert (first.ran, first.cached) == (24, 0)
    again = run_cells(sweep.cells, workers=0, cache=cache, progress=False)
    assert (again.ran, again.cached) == (0, 24)
    assert again.rows == first.rows  # the same rows, wall time and all, read back
    # One more loss value: only its cells run.
    more = load(write(tmp_path, SMALL.replace("loss = [0, 0.03, 0.08]", "loss = [0, 0.03, 0.08, 0.01]")))
    grown = run_cells(more.cells, workers=0, cache=cache, progress=False)
    assert (grown.ran, grown.cached) == (8, 24)
    assert {r["loss"] for r in grown.rows[-8:]} == {0.01}
    forced = run_cells(sweep.cells, workers=0, cache=cache, force=True, progress=False)
    assert (forced.ran, forced.cached) == (24, 0)


def test_cell_key_covers_every_input(tmp_path):
    sweep = load(write(tmp_path, SMALL))
    cell = sweep.cells[0]
    keys = {cell_key(cell)}
    for change in ({"seed": 99}, {"link": {"loss": 0.5}}, {"tcp": {"cc": "reno"}},
                   {"job": {**cell["job"], "bytes": 1}}, {"events": [{"at": "1s", "down": "r1"}]},
                   {"topology": {**cell["topology"], "text": cell["topology"]["text"] + "\n# changed\n"}}):
        keys.add(cell_key({**cell, **change}))
    assert len(keys) == 7
    assert cell_key({**cell, "index": 5, "params": {}}) == cell_key(cell)  # where it sits does not matter


def test_a_failed_cell_records_its_error_and_the_sweep_goes_on(tmp_path):
    text = SMALL.replace('bytes = "40KB"', 'bytes = "40KB"\ntimeout = "3s"').replace(
        'cc = ["cubic", "reno"]', 'events = [[], [{ at = "0s", down = "r1" }]]')
    sweep = load(write(tmp_path, text))
    cache = Cache(tmp_path / "cache")
    out = run_cells(sweep.cells, workers=2, cache=cache, progress=False)
    failed = [r for r in out.rows if r["error"]]
    assert out.failed == len(failed) == 12 and len(out.rows) == 24
    assert all(not r["ok"] and "timed out" in r["error"] for r in failed)
    assert all(r["ok"] for r in out.rows if not r["error"])
    again = run_cells(sweep.cells, workers=0, cache=cache, progress=False)
    assert (again.ran, again.cached) == (12, 12)  # failures are not cached: they run again


@pytest.mark.parametrize("kind", ["ping", "dns", "curl"])
def test_other_jobs_measure_what_their_commands_do(tmp_path, kind):
    job = {"ping": 'kind = "ping"\ncount = 3\ninterval = "100ms"',
           "dns": 'kind = "dns"\nname = "www.example.com"',
           "curl": 'kind = "curl"\nurl = "http://www.example.com/"'}[kind]
    sweep = load(write(tmp_path, f'seeds = 2\n[job]\n{job}\n[grid]\ndelay = ["1ms", "30ms"]\n'))
    rows = run_cells(sweep.cells, workers=0, progress=False).rows
    assert all(r["ok"] and r["error"] is None for r in rows), rows
    slow, fast = [r for r in rows if r["delay_ms"] == 30.0], [r for r in rows if r["delay_ms"] == 1.0]
    assert min(r["sim_time_s"] for r in slow) > max(r["sim_time_s"] for r in fast)
    if kind == "ping":
        assert rows[0]["received"] == 3 and rows[0]["loss_pct"] == 0
        assert fast[0]["rtt_avg_ms"] < slow[0]["rtt_avg_ms"]
    if kind == "dns":
        assert rows[0]["answers"] == "10.0.2.10"
    if kind == "curl":
        assert rows[0]["status"] == 200 and rows[0]["bytes"] > 0


def test_program_job_rows_carry_what_the_program_returns(tmp_path):
    (tmp_path / "echo.py").write_text('''
import asyncio, time

async def server():
    async def echo(reader, writer):
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()
    srv = await asyncio.start_server(echo, port=7)
    await asyncio.sleep(30)
    srv.close()

async def client():
    await asyncio.sleep(0.1)
    t0 = asyncio.get_running_loop().time()
    reader, writer = await asyncio.open_connection("10.0.2.10", 7)
    writer.write(b"hello")
    data = await reader.read(100)
    return {"echoed": data.decode(), "rtt_ms": (asyncio.get_running_loop().time() - t0) * 1000}
''')
    sweep = load(write(tmp_path, '[job]\nkind = "program"\nprograms = { server = "echo.py:server", '
                                 'client = "echo.py:client" }\nuntil = "40s"\n[grid]\nloss = [0]\n'))
    row = run_cells(sweep.cells, workers=1, progress=False).rows[0]
    assert row["error"] is None and row["ok"] and row["echoed"] == "hello"
    assert 120 < row["rtt_ms"] < 400  # ARP, a connect and an echo: two round trips of the built-in example


def test_a_transfer_job_timeout_bounds_the_whole_transfer(tmp_path):
    # 5 MB through a bottleneck that loses 30%: the sender backs off for hours of simulated time.
    # The job's timeout is the bound of the cell, not only of the connect and the last wait.
    sweep = load(write(tmp_path, 'topology = "bottleneck.toml"\nlinks = ["bottleneck"]\n[job]\nkind = "transfer"\n'
                                 'bytes = "5MB"\ntimeout = "3s"\n[grid]\nloss = [0.3]\n'))
    row = run_cells(sweep.cells, workers=0, progress=False).rows[0]
    assert not row["ok"] and "timed out" in row["error"]
    assert row["sim_time_s"] <= 3.0
    assert 0 < row["bytes"] < 5_000_000 and row["retransmissions"] > 0  # what it did by then


def test_a_swept_job_key_keeps_its_column(tmp_path):
    # bytes is both a parameter of the grid and what a transfer measures (the bytes received):
    # the column is the parameter, so that a short transfer is not a parameter set of its own.
    sweep = load(write(tmp_path, 'topology = "bottleneck.toml"\nseeds = 2\nlinks = ["bottleneck"]\n[job]\n'
                                 'kind = "transfer"\ntimeout = "1s"\n[grid]\nbytes = ["20KB", "2MB"]\n'))
    rows = run_cells(sweep.cells, workers=0, progress=False).rows
    assert [r["bytes"] for r in rows] == [20_000, 20_000, 2_000_000, 2_000_000]
    assert [r["ok"] for r in rows] == [True, True, False, False]
    assert [r["bytes.measured"] == r["bytes"] for r in rows] == [True, True, False, False]


def test_a_cache_file_that_is_not_a_row_is_a_miss(tmp_path):
    sweep = load(write(tmp_path, '[job]\nkind = "ping"\ncount = 1\n'))
    cache = Cache(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    for text in ("[1, 2]", "null", '{"cell": 0', "\xff\xfe"):
        (tmp_path / "cache" / f"{cell_key(sweep.cells[0])}.json").write_text(text, errors="surrogateescape")
        out = run_cells(sweep.cells, workers=0, cache=cache, progress=False)
        assert (out.ran, out.cached) == (1, 0) and out.rows[0]["ok"]
        (tmp_path / "cache" / f"{cell_key(sweep.cells[0])}.json").unlink()


def test_editing_a_program_module_beside_the_sweep_runs_its_cells_again(tmp_path):
    (tmp_path / "tool.py").write_text("async def main():\n    return {'answer': 1}\n")
    sweep = load(write(tmp_path, '[job]\nkind = "program"\nprograms = { client = "tool:main" }\nuntil = "1s"\n'))
    key = cell_key(sweep.cells[0])
    (tmp_path / "tool.py").write_text("async def main():\n    return {'answer': 2}\n")
    assert cell_key(sweep.cells[0]) != key


def test_a_program_that_cancels_itself_or_names_a_column_is_a_row(tmp_path):
    (tmp_path / "odd.py").write_text(
        "import asyncio\n"
        "async def cancel():\n    raise asyncio.CancelledError()\n"
        "async def cell():\n    return {'cell': 'mine', 'seed': 'mine', 'value': 3}\n")
    text = 'seeds = 2\n[job]\nkind = "program"\nprograms = { client = "odd.py:cancel" }\nuntil = "1s"\n'
    for workers in (0, 2):
        sweep = load(write(tmp_path, text))
        out = run_cells(sweep.cells, workers=workers, progress=False)
        assert [r["cell"] for r in out.rows] == [0, 1] and out.failed == 2
        assert all("cancel" in r["error"] for r in out.rows)
        sweep = load(write(tmp_path, text.replace("odd.py:cancel", "odd.py:cell")))
        out = run_cells(sweep.cells, workers=workers, progress=False)
        assert [(r["cell"], r["seed"], r["value"]) for r in out.rows] == [(0, 1, 3), (1, 2, 3)]
        assert out.rows[0]["cell.measured"] == "mine" and out.failed == 0


def test_a_cell_that_kills_its_worker_process_is_a_failed_row(tmp_path):
    (tmp_path / "die.py").write_text("import os\nasync def main():\n    os._exit(3)\n")
    sweep = load(write(tmp_path, 'seeds = 3\n[job]\nkind = "program"\nprograms = { client = "die.py:main" }\n'
                                 'until = "1s"\n'))
    out = run_cells(sweep.cells, workers=2, progress=False)
    assert [r["cell"] for r in out.rows] == [0, 1, 2] and out.failed == 3
    assert all(not r["ok"] and "BrokenProcessPool" in r["error"] for r in out.rows)


ZONED = """\
[[host]]
name = "ns"
interfaces = { eth0 = "10.0.0.3/24" }
dns = { role = "authoritative", zone_files = ["shop.zone"] }
[[host]]
name = "client"
interfaces = { eth0 = "10.0.0.5/24" }
nameserver = "10.0.0.3"
[[link]]
endpoints = ["ns:eth0", "client:eth0"]
"""

ZONE = """\
$ORIGIN shop.example.
$TTL 60
@   IN SOA ns hostmaster 1 3600 600 86400 60
    IN NS ns
ns  IN A 10.0.0.3
@   IN A {address}
"""


def test_editing_a_zone_file_the_topology_names_runs_its_cells_again(tmp_path):
    (tmp_path / "net.toml").write_text(ZONED)
    (tmp_path / "shop.zone").write_text(ZONE.format(address="10.0.0.81"))
    sweep = load(write(tmp_path, 'topology = "net.toml"\n[job]\nkind = "dns"\nname = "shop.example"\n'))
    cache = Cache(tmp_path / "cache")
    assert run_cells(sweep.cells, workers=0, cache=cache, progress=False).rows[0]["answers"] == "10.0.0.81"
    (tmp_path / "shop.zone").write_text(ZONE.format(address="10.0.0.82"))
    again = run_cells(sweep.cells, workers=0, cache=cache, progress=False)
    assert (again.ran, again.rows[0]["answers"]) == (1, "10.0.0.82")
