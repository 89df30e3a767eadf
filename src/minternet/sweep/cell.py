"""One cell of a sweep: build the network with the cell's parameters, run its job, measure.

:func:`run_cell` is the one function the local process pool and Dask workers both run. It takes
the plain dict :mod:`.spec` made and gives back one row of the results table: the cell's
parameters, then what the job measured, with ``error`` set when it failed (a failure is a row,
never an exception, so that the sweep goes on). Each job reports what its command already
measures: a transfer its :class:`~minternet.application.transfer.TransferResult`, a ping its
:class:`~minternet.application.ping.PingResult`, and so on; every job adds the network's drop
counters by reason and the wall time.
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from typing import Any

from ..runtime import NS_PER_MS, NS_PER_S


def run_cell(cell: dict[str, Any]) -> dict[str, Any]:
    """Run one cell; its results-table row (never raises for a failing cell)."""
    wall = time.perf_counter()
    row: dict[str, Any] = {"cell": cell["index"], **cell["params"]}
    try:
        measured = _run(cell)
        for key in [k for k in measured if k in row]:  # what the cell is (a swept bytes, a program's
            measured[f"{key}.measured"] = measured.pop(key)  # "seed") is not what it measured
        row.update(measured)
        row.setdefault("error", None)
    except (Exception, asyncio.CancelledError) as exc:  # a failed cell records its error and the sweep goes on
        row.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                   traceback="".join(traceback.format_exception(exc, limit=-4)))
    row["wall_s"] = time.perf_counter() - wall
    return row


def _run(cell: dict[str, Any]) -> dict[str, Any]:
    from ..sim.topology import loads
    topo = loads(cell["topology"]["text"], cell["topology"]["path"], seed=cell["seed"],
                 out=lambda line: None, events=cell["events"] or None)
    net = topo.network
    try:
        _configure(net, cell)
        job = cell["job"]
        measured = JOB_RUNNERS[job["kind"]](net, job, cell["seed"])
        measured.update(_drops(net))
        return measured
    finally:
        net.close()


def _configure(net: Any, cell: dict[str, Any]) -> None:
    """The cell's link parameters on its links, its TCP settings as every host's defaults."""
    link_params = dict(cell["link"])
    if link_params:
        links = [net.link(sel) for sel in cell["links"]] if cell["links"] else list(net.links)
        for link in links:
            link.set_params(**link_params)  # an mtu goes to the link's interfaces too
    tcp = cell["tcp"]
    names = {"cc": "congestion", "reassembly": "reassembly", "recovery": "recovery", "rto_min": "min_rto"}
    for host in net.hosts:
        defaults = host.tcp.defaults
        for key, value in tcp.items():
            if key == "buffer":
                defaults.rcvbuf = defaults.sndbuf = value
            else:
                setattr(defaults, names[key], value)


def _drops(net: Any) -> dict[str, int]:
    """Every drop in the network (links and nodes) by reason, as ``drop.REASON`` columns."""
    return {k: v for k, v in sorted(net.counters().items()) if k.startswith("drop.") and v}


# -- the jobs -------------------------------------------------------------------------------------
def _transfer(net: Any, job: dict[str, Any], seed: int) -> dict[str, Any]:
    from ..application.transfer import transfer
    src, dst = net.host(job["from"]), net.host(job["to"])
    result = net.run_app(transfer(src, dst, job["bytes"], port=job["port"], seed=seed,
                                  timeout=job["timeout"] / NS_PER_S))
    s = result.sender_stats
    return {"ok": result.ok, "error": result.error, "sim_time_s": result.seconds,
            "goodput_mbps": result.goodput_bps / 1e6, "bytes": result.received,
            "segments_sent": s.get("segments_sent", 0), "retransmissions": s.get("retransmissions", 0),
            "fast_retransmits": s.get("fast_retransmits", 0), "timeouts": s.get("timeouts", 0),
            "srtt_ms": s.get("srtt_ms", 0.0), "mss": _mss(src, dst), "cwnd": s.get("cwnd", 0)}


def _mss(src: Any, dst: Any) -> int:
    """Bytes of data per full segment between the two hosts' interfaces (for the Mathis model
    beside a goodput plot): the smaller MTU, less the IPv4 and TCP headers and the timestamps
    option every segment carries (1448 on Ethernet, as Linux sends)."""
    mtu = min(i.mtu for host in (src, dst) for i in host.interfaces.values() if i.address)
    return mtu - 20 - 20 - 12


def _ping(net: Any, job: dict[str, Any], seed: int) -> dict[str, Any]:
    from ..application.ping import ping
    result = net.run_app(ping(net.host(job["from"]), net.address_of(job["to"]), count=job["count"],
                              size=job["size"], interval=job["interval"], timeout=job["timeout"]))
    stats = result.rtt_stats() or (None, None, None, None)
    return {"ok": result.received > 0, "sim_time_s": result.elapsed / NS_PER_S,
            "transmitted": result.transmitted, "received": result.received, "loss_pct": result.loss,
            "rtt_min_ms": stats[0], "rtt_avg_ms": stats[1], "rtt_max_ms": stats[2], "rtt_mdev_ms": stats[3]}


def _dns(net: Any, job: dict[str, Any], seed: int) -> dict[str, Any]:
    from ..wire.dns import RRType
    host = net.host(job["from"])
    rtype = RRType[job["type"].upper()] if job["type"].upper() in RRType.__members__ else None
    if rtype is None:
        raise ValueError(f"type {job['type']!r} is not a DNS record type (A, AAAA, NS, MX, TXT, ...)")

    async def lookup() -> Any:
        t0 = host.clock.now
        response = await asyncio.wait_for(host.stub_resolver.query(job["name"], rtype), job["timeout"] / NS_PER_S)
        return response, host.clock.now - t0
    response, took = net.run_app(lookup())
    # The records of the type asked for (a CNAME on the way is not the answer), as dig +short shows them.
    answers = [_rdata_text(rr.data) for rr in response.answers if rr.type == rtype]
    return {"ok": int(response.rcode) == 0 and bool(answers), "sim_time_s": took / NS_PER_S,
            "lookup_ms": took / NS_PER_MS, "rcode": int(response.rcode), "answers": " ".join(answers)}


def _rdata_text(data: Any) -> str:
    for field in ("address", "target", "exchange", "text"):
        if hasattr(data, field):
            return str(getattr(data, field))
    return str(data)


def _curl(net: Any, job: dict[str, Any], seed: int) -> dict[str, Any]:
    from ..application.http.apps import builtin_site
    from ..application.http.client import HTTPClient, split_url
    from ..application.http.server import serve
    from ..application.http.where import where_is
    client = net.host(job["from"])
    name, port, *_ = split_url(job["url"])
    https = job["url"].lower().startswith("https:")

    async def fetch() -> dict[str, Any]:
        # The built-in web site on the host the URL names, as `minternet curl` starts it.
        address = where_is(net, client, name)
        node_name = net.name_of(address) if address else None
        if node_name is not None and not net.host(node_name).tcp.listening_on(port):
            server = await serve(net.host(node_name), port, builtin_site(), tls=True if https else None)
            net.spawn(server.serve_forever())
        t0 = net.now
        async with HTTPClient(client, timeout=job["timeout"] / NS_PER_S) as http:
            response = await http.request("GET", job["url"])
        took = (net.now - t0) / NS_PER_S
        size = len(response.body or b"")
        return {"ok": response.status < 400, "status": response.status, "bytes": size, "sim_time_s": took,
                "goodput_mbps": size * 8 / took / 1e6 if took else 0.0}
    return net.run_app(fetch())


def _program(net: Any, job: dict[str, Any], seed: int) -> dict[str, Any]:
    """User programs as ``minternet exec`` runs them; a program that returns a dict of numbers
    or strings gives those as columns of its row."""
    from ..cli.programs import ProgramExited, spawn_programs
    if job["path"] not in sys.path:
        sys.path.insert(0, job["path"])  # module:function programs beside the sweep file
    programs = spawn_programs(net, list(job["programs"].items()))
    net.start()
    tasks = [t for _, _, t in programs]

    async def wait() -> None:
        await asyncio.wait(tasks, timeout=job["until"] / NS_PER_S)
    from ..sim.loop import SimulationStalled
    try:
        net.loop.run_until_complete(wait())
    except SimulationStalled:
        pass
    row: dict[str, Any] = {"sim_time_s": net.now / NS_PER_S}
    status, errors = 0, []
    values: list[tuple[str, str, Any]] = []
    for host, spec, task in programs:
        if not task.done():
            errors.append(f"{host}: {spec} still running")
        elif task.cancelled():
            errors.append(f"{host}: {spec} was cancelled")
        elif isinstance(task.exception(), ProgramExited):
            status = status or task.exception().status
        elif task.exception() is not None:
            exc = task.exception()
            errors.append(f"{host}: {spec} failed: {type(exc).__name__}: {exc}")
        elif isinstance(task.result(), dict):
            values += [(host, str(k), v) for k, v in task.result().items()]
    keys = [k for _, k, _ in values]
    for host, key, value in values:
        if isinstance(value, (int, float, str, bool)) or value is None:
            row[key if keys.count(key) == 1 else f"{host}.{key}"] = value
    row.update(ok=not errors and status == 0, status=status, error="; ".join(errors) or None)
    return row


JOB_RUNNERS = {"transfer": _transfer, "ping": _ping, "dns": _dns, "curl": _curl, "program": _program}
