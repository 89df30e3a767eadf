"""Sweep files: one job, run over a grid (or a list) of parameter sets and a range of seeds.

::

    name = "goodput-vs-loss"
    topology = "path.toml"        # relative to this file; leave it out for the built-in example
    seeds = 5                     # seeds 1..5 (repetitions); or a list, seeds = [1, 7, 9]
    links = ["bottleneck"]        # the links the link parameters change (default: every link)

    [job]                         # what each cell runs: transfer, ping, dns, curl or program
    kind = "transfer"
    from = "client"
    to = "server"
    bytes = "300KB"

    [grid]                        # every combination of these values ...
    loss = [0, 0.01, 0.02]

    [[set]]                       # ... with each of these parameter sets (optional)
    label = "Reno"
    cc = "reno"

A cell is one combination of grid values, one set and one seed. Mistakes are reported as
``FILE:LINE: what is wrong (what would be valid)`` with the line of the key, the way topology files
report theirs (:class:`minternet.tomlpos.TomlLines`, :class:`~minternet.sim.topology.TopologyError`);
the link parameters are checked by the topology's own :func:`~minternet.sim.topology.link_param`.
"""

from __future__ import annotations

import itertools
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..runtime import NS_PER_S
from ..sim.example import EXAMPLE_PATH, example_text
from ..sim.topology import TopologyError, _suggest, link_param
from ..sim.topology import loads as build_topology
from ..sim.units import parse_size, parse_time
from ..tomlpos import TomlLines, decode_error

TOP_KEYS = {"name", "description", "topology", "seeds", "links", "job", "grid", "set"}

# The most cells one sweep file may make: each is a dict held until the sweep ends (a grid of 10^8
# combinations is refused when it is read, not built until memory runs out).
MAX_CELLS = 100_000


class SweepError(TopologyError):
    """A mistake in a sweep file, with where it is (``FILE:LINE: message``)."""


# -- the parameters a cell may set --------------------------------------------------------------------
# name -> (where it goes: "link", "tcp" or "cell", the column in the results table, how the
# column shows the checked value)
LINK_PARAMS = ("loss", "delay", "bandwidth", "jitter", "queue", "mtu", "duplicate", "reorder", "corrupt")
TCP_PARAMS = ("cc", "reassembly", "recovery", "rto_min", "buffer")
OTHER_PARAMS = ("events", "label")
PARAMS = LINK_PARAMS + TCP_PARAMS + OTHER_PARAMS
COLUMN = {"delay": "delay_ms", "jitter": "jitter_ms", "bandwidth": "bandwidth_mbps", "rto_min": "rto_min_ms"}
CHOICES = {"cc": ("cubic", "reno", "newreno"), "reassembly": ("keep", "discard"), "recovery": ("rack", "rfc6675")}


# What a cell that does not set a TCP parameter has (the hosts' defaults, Linux's): for its column.
TCP_DEFAULTS = {"cc": "cubic", "reassembly": "keep", "recovery": "rack"}


def column_of(param: str) -> str:
    """The results-table column of a parameter (``delay`` -> ``delay_ms``)."""
    return COLUMN.get(param, param)


def _shown(param: str, value: Any) -> Any:
    """A checked parameter value as its column shows it (ms, Mbit/s, bytes)."""
    if param in ("delay", "jitter", "rto_min"):
        return value / 1e6
    if param == "bandwidth":
        return value / 1e6
    if param == "events":
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def check_param(param: str, value: Any) -> Any:
    """A parameter's value checked and in the units the simulation takes; ValueError says why not."""
    if param in LINK_PARAMS:
        return link_param(param, value)
    if param in CHOICES:
        if value not in CHOICES[param]:
            raise ValueError(f"{param} = {value!r}: one of {', '.join(repr(c) for c in CHOICES[param])}")
        return value
    if param == "rto_min":
        ns = parse_time(value)
        if not 0 < ns <= 120 * NS_PER_S:
            raise ValueError(f"rto_min = {value!r}: more than 0 and at most 120s (Linux's TCP_RTO_MAX)")
        return ns
    if param == "buffer":
        n = parse_size(value)
        if n < 1024:
            raise ValueError(f"buffer = {value!r}: at least 1KiB of socket buffer")
        return n
    if param == "events":
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise ValueError("events is a list of [[event]] tables as in a topology file, like "
                             "events = [{ at = \"1s\", down = \"r2\" }]")
        return value
    if param == "label":
        if not isinstance(value, str):
            raise ValueError(f"label = {value!r}: a string, the name this set has in tables and plots")
        return value
    raise ValueError(f"unknown parameter {param!r}")


# -- the jobs -------------------------------------------------------------------------------------
def _host(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"{v!r}: the name of a host of the topology, like \"client\"")
    return v


def _count(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{v!r}: a whole number >= 1")
    return v


def _port(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 65536:
        raise ValueError(f"{v!r}: a port from 1 to 65535")
    return v


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"{v!r}: a string")
    return v


def _programs(v: Any) -> dict[str, str]:
    if not isinstance(v, dict) or not v or not all(isinstance(s, str) and s for s in v.values()):
        raise ValueError("programs is a table of HOST = PROGRAM, as minternet exec takes them: "
                         "programs = { server = \"app.py\", client = \"tool:main\" }")
    return dict(v)


def _rrtype(v: Any) -> str:
    from ..wire.dns import RRType
    if not isinstance(v, str) or v.upper() not in RRType.__members__:
        raise ValueError(f"{v!r}: a DNS record type ({', '.join(RRType.__members__)})")
    return v


def _icmp_size(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 65507:
        raise ValueError(f"{v!r}: bytes of data from 0 to 65507")
    return v


# kind -> {key: (check, default)}; a default of None means the key must be given.
JOBS: dict[str, dict[str, tuple[Callable[[Any], Any], Any]]] = {
    "transfer": {"from": (_host, "client"), "to": (_host, "server"), "bytes": (parse_size, 1_000_000),
                 "port": (_port, 5001), "timeout": (parse_time, 600 * NS_PER_S)},
    "ping": {"from": (_host, "client"), "to": (_text, "server"), "count": (_count, 4), "size": (_icmp_size, 56),
             "interval": (parse_time, NS_PER_S), "timeout": (parse_time, 5 * NS_PER_S)},
    "dns": {"from": (_host, "client"), "name": (_text, None), "type": (_rrtype, "A"),
            "timeout": (parse_time, 30 * NS_PER_S)},
    "curl": {"from": (_host, "client"), "url": (_text, None), "timeout": (parse_time, 60 * NS_PER_S)},
    "program": {"programs": (_programs, None), "until": (parse_time, 600 * NS_PER_S)},
}


@dataclass
class Sweep:
    """A read sweep file: its cells, each a plain dict that :func:`minternet.sweep.cell.run_cell`
    runs (so that it pickles to a process pool or a Dask worker as it is)."""

    path: str
    name: str
    job: dict[str, Any]
    cells: list[dict[str, Any]] = field(default_factory=list)
    axes: list[str] = field(default_factory=list)  # the columns that vary (besides the seed)
    seeds: list[int] = field(default_factory=list)


def load(path: str | os.PathLike[str], check: bool = True) -> Sweep:
    """Read a sweep file. Raises :class:`SweepError` naming the file, line and key."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SweepError(path, None, f"cannot read the file: {exc.strerror}") from None
    return loads(text, path, check=check)


def loads(text: str, path: str = "<sweep>", check: bool = True) -> Sweep:
    """Read a sweep file's text; ``check`` also builds the topology to check the hosts, links
    and events the cells name."""
    return _Reader(text, path).read(check)


class _Reader:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line, msg = decode_error(exc)
            raise SweepError(path, line, f"not valid TOML: {msg}") from None
        self.loc = TomlLines(text)

    def error(self, table: str, index: int, key: str | None, message: str) -> SweepError:
        return SweepError(self.path, self.loc.line(table, index, key), message)

    def table(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.error("", 0, name, f"{name} must be a table, written [{name}]")
        return value

    def read(self, check: bool) -> Sweep:
        data = self.data
        for key in data:
            if key not in TOP_KEYS:
                raise self.error("", 0, key, f"unknown key {key!r} (valid keys: {', '.join(sorted(TOP_KEYS))})"
                                 f"{_suggest(key, TOP_KEYS)}")
        name = data.get("name", Path(self.path).stem)
        if not isinstance(name, str):
            raise self.error("", 0, "name", "name must be a string")
        topo_text, topo_path = self.topology()
        seeds = self.seeds()
        links = data.get("links")
        if links is not None and (not isinstance(links, list) or not links
                                  or not all(isinstance(x, str) for x in links)):
            raise self.error("", 0, "links", "links is a list of the links the link parameters change, by "
                             "name or by one end, like links = [\"r1:eth1\"] (leave it out for every link)")
        job = self.job()
        sets = self.sets(job, len(seeds))
        cells: list[dict[str, Any]] = []
        axes: list[str] = []
        for values, _ in sets:
            for k in values:
                if column_of(k) not in axes:
                    axes.append(column_of(k))
        for set_values, _ in sets:
            for seed in seeds:
                cells.append(self.cell(len(cells), topo_text, topo_path, links, job, set_values, seed))
        for cell in cells:  # every row has every column that varies
            params = cell["params"]
            if "label" in axes and "label" not in params:  # named by what its own set sets
                own = {k: v for k, v in params.items() if k not in self.table("grid") and k != "seed"}
                params["label"] = ", ".join(f"{k}={v}" for k, v in own.items()) or "default"
            for col in axes:
                if col not in params:
                    params[col] = TCP_DEFAULTS.get(col)
            cell["params"] = {col: params[col] for col in [*axes, "seed"]}
        sweep = Sweep(self.path, name, job, cells, axes, seeds)
        if check:
            self.check(sweep, topo_text, topo_path, links, sets)
        return sweep

    def topology(self) -> tuple[str, str]:
        value = self.data.get("topology")
        if value is None:
            return example_text(), EXAMPLE_PATH
        if not isinstance(value, str):
            raise self.error("", 0, "topology", "topology is the path of a topology file (relative to this "
                             "file); leave it out for the built-in example")
        full = Path(self.path).parent / value
        try:
            return full.read_text(encoding="utf-8"), str(full)
        except OSError as exc:
            raise self.error("", 0, "topology", f"topology = {value!r}: cannot read {full}: {exc.strerror}") from None

    def seeds(self) -> list[int]:
        value = self.data.get("seeds", 1)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000:
            return list(range(1, value + 1))
        if (isinstance(value, list) and value and len(set(value)) == len(value)
                and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)):
            return list(value)
        raise self.error("", 0, "seeds", f"seeds = {value!r}: how many repetitions (seeds = 5 runs seeds "
                         "1 to 5), or the seeds themselves, different whole numbers >= 0: seeds = [1, 7, 9]")

    def job(self) -> dict[str, Any]:
        spec = self.table("job")
        if "job" not in self.data:
            raise self.error("", 0, None, "say what each cell runs: a [job] table with kind = "
                             f"{' | '.join(repr(k) for k in JOBS)}")
        kind = spec.get("kind")
        if kind not in JOBS:
            raise self.error("job", 0, "kind", f"[job] kind = {kind!r}: one of {', '.join(repr(k) for k in JOBS)}"
                             f"{_suggest(str(kind), JOBS)}")
        schema = JOBS[kind]
        job: dict[str, Any] = {"kind": kind}
        for key, value in spec.items():
            if key == "kind":
                continue
            if key not in schema:
                raise self.error("job", 0, key, f"[job] {kind}: unknown key {key!r} (valid keys: kind, "
                                 f"{', '.join(sorted(schema))}){_suggest(key, schema)}")
            job[key] = self.job_value(kind, key, value, "job", 0)
        listed = self.data.get("set")
        for key, (check, default) in schema.items():
            if key not in job:
                if key in self.table("grid") or (isinstance(listed, list) and listed
                                                 and all(isinstance(s, dict) and key in s for s in listed)):
                    continue  # every cell's own (the grid's or its set's)
                if default is None:
                    raise self.error("job", 0, None, f"[job] {kind}: give {key} (valid keys: kind, "
                                     f"{', '.join(sorted(schema))})")
                job[key] = default
        if kind == "program":
            base = Path(self.path).parent
            job["programs"] = {h: _program_path(s, base) for h, s in job["programs"].items()}
            job["path"] = str(base.resolve())
        return job

    def job_value(self, kind: str, key: str, value: Any, table: str, index: int) -> Any:
        try:
            return JOBS[kind][key][0](value)
        except ValueError as exc:
            raise self.error(table, index, key, f"{key}: {exc}") from None

    def value(self, key: str, value: Any, job: dict[str, Any], table: str, index: int) -> Any:
        """One parameter value of [grid] or a [[set]]: a sweep parameter or a key of the job."""
        if key in PARAMS:
            try:
                return check_param(key, value)
            except ValueError as exc:
                raise self.error(table, index, key, f"[{table}] {exc}" if table == "grid"
                                 else f"[[set]] #{index + 1}: {exc}") from None
        if key in JOBS[job["kind"]] and key not in ("from", "to", "programs"):
            return self.job_value(job["kind"], key, value, table, index)
        valid = set(PARAMS) | (set(JOBS[job["kind"]]) - {"from", "to", "programs"})
        raise self.error(table, index, key, f"unknown parameter {key!r} (valid: {', '.join(sorted(valid))})"
                         f"{_suggest(key, valid)}")

    def sets(self, job: dict[str, Any], seeds: int) -> list[tuple[dict[str, Any], tuple[str, int] | None]]:
        """Every parameter set: the grid's combinations, each with each [[set]]; with where its
        events were written (for the errors found when the topology is built with them)."""
        grid = self.table("grid")
        axes: list[tuple[str, list[Any]]] = []
        for key, values in grid.items():
            if key == "events":
                if not isinstance(values, list) or not all(isinstance(v, list) for v in values):
                    raise self.error("grid", 0, key, "[grid] events is a list of timelines, each a list of "
                                     "[[event]] tables: events = [[], [{ at = \"1s\", down = \"r2\" }]]")
            elif not isinstance(values, list):
                values = [values]  # one value: the same in every cell
            if not values:
                raise self.error("grid", 0, key, f"[grid] {key} = []: give at least one value")
            axes.append((key, [self.value(key, v, job, "grid", 0) for v in values]))
        listed = self.data.get("set", [])
        if not isinstance(listed, list) or not all(isinstance(s, dict) for s in listed):
            raise self.error("", 0, "set", "parameter sets are written as [[set]] tables")
        sets: list[tuple[dict[str, Any], tuple[str, int] | None]] = []
        extra: list[tuple[int, dict[str, Any]]] = []
        for i, spec in enumerate(listed):
            values = {}
            for key, value in spec.items():
                if key in grid:
                    raise self.error("set", i, key, f"[[set]] #{i + 1}: {key} is also in [grid]; a parameter "
                                     "goes in one of the two")
                values[key] = self.value(key, value, job, "set", i)
            extra.append((i, values))
        if not extra:
            extra = [(-1, {})]
        count = len(extra) * seeds
        for _, vs in axes:
            count *= len(vs)
        if count > MAX_CELLS:
            sizes = " x ".join([*(f"{len(vs)} {k}" for k, vs in axes), f"{len(extra)} set(s)", f"{seeds} seed(s)"])
            raise self.error("grid" if axes else "", 0, None, f"{count:,} cells ({sizes}): at most "
                             f"{MAX_CELLS:,} in one sweep; sweep fewer values, or split it into several files")
        for combo in itertools.product(*[[(k, v) for v in vs] for k, vs in axes]):
            for i, values in extra:
                where = ("grid", 0) if "events" in grid else ("set", i) if "events" in values else None
                sets.append(({**dict(combo), **values}, where))
        return sets

    def cell(self, index: int, topo_text: str, topo_path: str, links: list[str] | None,
             job: dict[str, Any], values: dict[str, Any], seed: int) -> dict[str, Any]:
        run_job = dict(job)
        link: dict[str, Any] = {}
        tcp: dict[str, Any] = {}
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        for key, value in values.items():
            if key in LINK_PARAMS:
                link[key] = value
            elif key in TCP_PARAMS:
                tcp[key] = value
            elif key == "events":
                events = value
            elif key != "label":
                run_job[key] = value
            params[column_of(key)] = _shown(key, value) if key in PARAMS else value
        params["seed"] = seed
        return {"index": index, "params": params, "topology": {"text": topo_text, "path": topo_path},
                "job": run_job, "link": link, "links": links, "tcp": tcp, "events": events, "seed": seed}

    def check(self, sweep: Sweep, topo_text: str, topo_path: str, links: list[str] | None,
              sets: list[tuple[dict[str, Any], tuple[str, int] | None]]) -> None:
        """Build the topology, and once more with each distinct timeline, to check what the
        cells name in it: the job's hosts, the links, the events."""
        try:
            topo = build_topology(topo_text, topo_path, out=lambda line: None)
        except TopologyError as exc:
            raise self.error("", 0, "topology", f"the topology: {exc}") from None
        try:
            self.check_names(sweep.job, topo.network, topo_path, links)
        finally:
            topo.network.close()
        seen: set[str] = set()
        for values, where in sets:
            events = values.get("events")
            key = json.dumps(events, sort_keys=True)
            if not events or where is None or key in seen:
                continue
            seen.add(key)
            try:
                topo = build_topology(topo_text, topo_path, out=lambda line: None, events=events)
            except TopologyError as exc:
                raise self.error(where[0], where[1], "events", f"events: {exc.message}") from None
            topo.network.close()

    def check_names(self, job: dict[str, Any], net: Any, topo_path: str, links: list[str] | None) -> None:
        names = [(job["from"], "from")] if "from" in job else []
        if job["kind"] == "transfer":
            names.append((job["to"], "to"))
        names += [(h, "programs") for h in job.get("programs", {})]
        have = sorted(h.name for h in net.hosts)
        for name, key in names:
            if name not in have:
                raise self.error("job", 0, key, f"[job] no host {name!r} in {topo_path} (hosts: "
                                 f"{', '.join(have)}){_suggest(name, have)}")
        if job["kind"] == "ping":
            try:
                net.address_of(job["to"])
            except ValueError as exc:
                raise self.error("job", 0, "to", f"[job] to = {job['to']!r}: {exc}") from None
        for sel in links or []:
            try:
                net.link(sel)
            except KeyError:
                names_ = sorted(link.name for link in net.links)
                raise self.error("", 0, "links", f"links: no link {sel!r} in {topo_path} (name a link or one "
                                 f"of its ends, like \"r1:eth1\"; links: {', '.join(names_)})"
                                 f"{_suggest(sel, names_)}") from None


def _program_path(spec: str, base: Path) -> str:
    """A program as ``minternet exec`` takes it; a script's path made absolute (relative to the
    sweep file), so that a worker in another directory finds it."""
    target, sep, func = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if target.endswith(".py") or os.sep in target:
        return str((base / target).resolve()) + (sep + func if sep else "")
    return spec
