"""Sweep files: the cells they make, and their mistakes reported with file, line and key."""

from __future__ import annotations

import pytest
from sweeputil import SMALL, write

from minternet.sim.topology import TopologyError
from minternet.sweep.spec import SweepError, load


def test_grid_times_sets_times_seeds(tmp_path):
    path = write(tmp_path, SMALL + '\n[[set]]\nlabel = "plain"\n\n[[set]]\nlabel = "gbn"\nreassembly = "discard"\n'
                 'delay = "5ms"\nbandwidth = "2Mbps"\nrto_min = "1s"\nbuffer = "64KiB"\n')
    sweep = load(path)
    assert len(sweep.cells) == 3 * 2 * 2 * 4
    assert sweep.seeds == [1, 2, 3, 4]
    assert sweep.axes == ["loss", "cc", "label", "reassembly", "delay_ms", "bandwidth_mbps", "rto_min_ms", "buffer"]
    gbn = [c for c in sweep.cells if c["params"]["label"] == "gbn"]
    plain = [c for c in sweep.cells if c["params"]["label"] == "plain"]
    assert len(gbn) == len(plain) == 24
    c = gbn[0]
    # What the simulation takes (ns, bit/s, bytes) and what the table shows (ms, Mbit/s).
    assert c["link"] == {"loss": 0.0, "delay": 5_000_000, "bandwidth": 2_000_000}
    assert c["tcp"] == {"cc": "cubic", "reassembly": "discard", "rto_min": 1_000_000_000, "buffer": 65536}
    assert c["params"]["delay_ms"] == 5.0 and c["params"]["bandwidth_mbps"] == 2.0 and c["params"]["rto_min_ms"] == 1000
    assert plain[0]["params"]["reassembly"] == "keep"  # the default, named in its column
    assert plain[0]["params"]["delay_ms"] is None  # the topology's own
    assert c["job"] == {"kind": "transfer", "from": "client", "to": "server", "bytes": 40_000, "port": 5001,
                        "timeout": 600_000_000_000}
    assert [x["seed"] for x in sweep.cells[:4]] == [1, 2, 3, 4]
    assert len({(str(x["params"])) for x in sweep.cells}) == len(sweep.cells)


def test_seed_list_job_keys_swept_and_builtin_example(tmp_path):
    path = write(tmp_path, 'seeds = [3, 9]\n[job]\nkind = "ping"\nto = "server"\n[grid]\ncount = [1, 2]\n'
                 'jitter = "1ms"\n')
    sweep = load(path)
    assert [c["seed"] for c in sweep.cells] == [3, 9, 3, 9]
    assert [c["job"]["count"] for c in sweep.cells] == [1, 1, 2, 2]
    assert sweep.cells[0]["topology"]["path"].startswith("(built-in example")
    assert sweep.cells[0]["link"] == {"jitter": 1_000_000}


BAD = [
    ('colour = 1\n[job]\nkind = "ping"\n', 1, "unknown key 'colour'"),
    ('seeds = 0\n[job]\nkind = "ping"\n', 1, "how many repetitions"),
    ('[job]\nkind = "pong"\n', 2, "did you mean 'ping'"),
    ('[job]\nkind = "transfer"\nbites = 3\n', 3, "did you mean 'bytes'"),
    ('[job]\nkind = "transfer"\nfrom = "clinet"\n', 3, "no host 'clinet'"),
    ('[job]\nkind = "transfer"\n[grid]\nloss = [0, 1.5]\n', 4, "a probability from 0 to 1"),
    ('[job]\nkind = "transfer"\n[grid]\ndelay = ["5"]\n', 4, "'5' is not a duration"),
    ('[job]\nkind = "transfer"\n[grid]\ncc = ["vegas"]\n', 4, "'cubic', 'reno', 'newreno'"),
    ('[job]\nkind = "transfer"\n[grid]\nlos = [0]\n', 4, "did you mean 'loss'"),
    ('[job]\nkind = "transfer"\n[grid]\ncc = ["reno"]\n[[set]]\nlabel = "x"\ncc = "cubic"\n', 7,
     "cc is also in [grid]"),
    ('links = ["r9:eth0"]\n[job]\nkind = "transfer"\n[grid]\nloss = 0.1\n', 1, "no link 'r9:eth0'"),
    ('[job]\nkind = "transfer"\n[[set]]\nlabel = "x"\n\n[[set]]\nevents = [{ at = "1s", down = "r7" }]\n', 7,
     "events: 'r7' is neither a node nor a link"),
    ('[job]\nkind = "dns"\n', 1, "give name"),
    ('[job]\nkind = "transfer"\n[grid]\nloss = [0,,]\nseeds = 2\n', 4, "not valid TOML"),
    ('topology = "nowhere.toml"\n[job]\nkind = "transfer"\n', 1, "cannot read"),
    ('seeds = 2\n', 1, "a [job] table"),
]


@pytest.mark.parametrize("text, line, message", BAD)
def test_mistakes_name_the_file_line_and_key(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(SweepError) as info:
        load(path)
    assert isinstance(info.value, TopologyError)  # reported as topology mistakes are (cli: exit 2)
    assert str(info.value).startswith(f"{path}:{line}: "), str(info.value)
    assert message in str(info.value)


def test_a_mistake_in_the_topology_names_the_topology_file(tmp_path):
    path = write(tmp_path, SMALL)
    (tmp_path / "bottleneck.toml").write_text((tmp_path / "bottleneck.toml").read_text().replace(
        'delay = "20ms"', 'delay = "20 parsecs"'))
    with pytest.raises(SweepError) as info:
        load(path)
    assert f"{tmp_path / 'bottleneck.toml'}:" in str(info.value) and "parsecs" in str(info.value)
    assert str(info.value).startswith(f"{path}:2: the topology: ")


@pytest.mark.parametrize("grid", [
    "loss = [0, 0.01]\ndelay = [" + ", ".join(f'"{i}ms"' for i in range(1, 501)) + "]\n"
    "queue = [" + ", ".join(str(q) for q in range(1, 201)) + "]\n",   # 200,000 cells: too many to run
    "delay = [" + ", ".join(f'"{i}ms"' for i in range(1, 101)) + "]\n"
    "queue = [" + ", ".join(str(q) for q in range(1, 101)) + "]\n"
    "mtu = [" + ", ".join(str(m) for m in range(1000, 1100)) + "]\n"
    "buffer = [" + ", ".join(str(b) for b in range(2000, 2100)) + "]\n",  # 10^8 cells: never built
])
def test_a_grid_of_too_many_cells_is_refused_before_it_is_built(tmp_path, grid):
    path = write(tmp_path, f'seeds = 1\n[job]\nkind = "transfer"\n[grid]\n{grid}')
    with pytest.raises(SweepError) as info:
        load(path, check=False)
    assert str(info.value).startswith(f"{path}:4: ") and "cells" in str(info.value)


def test_a_dns_record_type_is_checked_when_the_file_is_read(tmp_path):
    path = write(tmp_path, '[job]\nkind = "dns"\nname = "www.example.com"\ntype = "AAAAA"\n')
    with pytest.raises(SweepError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}:4: ") and "AAAAA" in str(info.value)
    path = write(tmp_path, '[job]\nkind = "dns"\nname = "www.example.com"\n[grid]\ntype = ["A", "MXX"]\n')
    with pytest.raises(SweepError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}:5: ") and "MXX" in str(info.value)


def test_a_required_job_key_may_be_given_by_the_grid(tmp_path):
    path = write(tmp_path, '[job]\nkind = "curl"\n[grid]\nurl = ["http://www.example.com/", "http://10.0.2.10/"]\n')
    sweep = load(path)
    assert [c["job"]["url"] for c in sweep.cells] == ["http://www.example.com/", "http://10.0.2.10/"]
    assert sweep.axes == ["url"]
