"""Virtual time inside libraries, and the guard that keeps programs off the real network."""

from __future__ import annotations

import asyncio
import datetime
import pickle
import socket
import sys
import time
import types

import pytest

from minternet.programs import EPOCH, AiodnsRefused, RealNetworkRefused
from minternet.programs.guard import GUARD
from netutil import chain


def test_time_functions_read_the_virtual_clock_and_are_restored():
    lib = types.ModuleType("somelib")  # a library that did `from time import monotonic`
    lib.monotonic, lib.perf_counter, lib.datetime = time.monotonic, time.perf_counter, datetime.datetime
    real = (time.time, time.monotonic, datetime.datetime)
    wall_before = time.time()
    sys.modules["somelib"] = lib
    try:
        net = chain(1)

        async def main():
            await asyncio.sleep(80)
            return (time.time(), time.time_ns(), time.monotonic(), time.perf_counter_ns(), lib.monotonic(),
                    lib.perf_counter(), datetime.datetime.now(datetime.timezone.utc), lib.datetime.utcnow(),
                    time.gmtime().tm_min)

        t, t_ns, mono, pc_ns, lib_mono, lib_pc, now, utcnow, minute = net.run_app(main(), on="client")
    finally:
        del sys.modules["somelib"]
    assert t == EPOCH + 80 and t_ns == EPOCH * 10**9 + 80 * 10**9
    assert mono == lib_mono == lib_pc == 80.0 and pc_ns == 80 * 10**9
    assert now == datetime.datetime(2026, 1, 1, 0, 1, 20, tzinfo=datetime.timezone.utc)
    assert utcnow == datetime.datetime(2026, 1, 1, 0, 1, 20)
    assert minute == 1
    assert (time.time, time.monotonic, datetime.datetime) == real  # put back
    assert lib.monotonic is real[1] and lib.datetime is real[2]
    assert abs(time.time() - wall_before) < 600  # the real clock again
    assert isinstance(datetime.datetime.now(), datetime.datetime)


@pytest.fixture
def safety_net():
    """A second audit hook, added after the guard's: if the guard ever let a real connect or
    lookup through, this one stops it before a packet could leave (and fails the test)."""
    GUARD.enable()  # makes sure the guard's hook is installed first
    GUARD.disable()
    armed = {"on": True, "hits": []}

    def hook(event, args):
        if not armed["on"]:
            return
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg") and \
                isinstance(args[1], tuple) and not str(args[1][0]).startswith("127."):
            armed["hits"].append(event)
            raise SystemError(f"guard failed: {event} {args[1]}")
        if event == "socket.getaddrinfo" and args[0] not in (None, "localhost", "127.0.0.1"):
            armed["hits"].append(event)
            raise SystemError(f"guard failed: {event} {args[0]}")
    sys.addaudithook(hook)
    yield armed
    armed["on"] = False


def test_real_sockets_are_refused(safety_net):
    net = chain(1)

    async def sneaky():
        out = []
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            try:  # behind socket.socket's back
                socket._socket.socket(socket.AF_INET, kind).close()
            except RealNetworkRefused as exc:
                out.append(str(exc))
        try:
            socket.getaddrinfo("www.python.org", 443)
        except RealNetworkRefused:
            out.append("lookup refused")
        a, b = socket.socketpair()  # AF_UNIX: local IPC, left real
        a.close(), b.close()
        return out

    out = net.run_app(sneaky(), on="client")
    assert "socket.socket(AF_INET) in a simulated program: a real socket: refused" in out[0]
    assert "nothing may reach the real network" in out[0]
    assert len(out) == 3 and out[2] == "lookup refused"
    assert safety_net["hits"] == []


def test_a_program_not_on_a_host_is_refused_too(safety_net):
    net = chain(1)

    async def hostless():  # runs on the simulation's loop, but on no host: no SimSocket
        with pytest.raises(RealNetworkRefused):
            socket.socket()
        return True

    assert net.run_app(hostless())
    assert safety_net["hits"] == []


def test_aiodns_is_refused_with_a_hint(monkeypatch):
    fake = types.ModuleType("aiodns")

    class DNSResolver:
        def __init__(self, *a, **kw):
            raise AssertionError("c-ares would have opened its own sockets")
    fake.DNSResolver = DNSResolver
    monkeypatch.setitem(sys.modules, "aiodns", fake)
    net = chain(1)

    async def main():
        with pytest.raises(AiodnsRefused, match="ThreadedResolver"):
            fake.DNSResolver()
        with pytest.raises(ImportError, match="aiohttp.TCPConnector\\(resolver=aiohttp.ThreadedResolver"):
            import pycares  # noqa: F401
        return True

    if "pycares" in sys.modules:
        pytest.skip("pycares is imported already")
    assert net.run_app(main(), on="client")


def test_datetimes_made_in_a_simulation_are_real_datetimes():
    net = chain(1)

    async def main():
        await asyncio.sleep(10)
        dt = datetime.datetime
        return [dt(2020, 1, 1), dt.now(), dt.utcnow(), dt.today(), dt.fromtimestamp(0), dt.utcfromtimestamp(0),
                dt.fromisoformat("2020-01-01T10:00"), dt.strptime("2020", "%Y"),
                dt.combine(datetime.date(2020, 1, 1), datetime.time(1)), dt.fromordinal(1),
                dt.now(datetime.timezone.utc), dt.min + datetime.timedelta(1)]

    made = net.run_app(main(), on="client")
    assert all(type(d) is datetime.datetime for d in made), [type(d) for d in made]
    assert pickle.loads(pickle.dumps(made)) == made
    assert made[0] == datetime.datetime(2020, 1, 1) and made[1] == datetime.datetime.fromtimestamp(EPOCH + 10)


def test_ctime_asctime_and_strftime_read_the_virtual_clock():
    net = chain(1)

    async def main():
        await asyncio.sleep(10)
        return time.ctime(), time.strftime("%Y-%m-%d %H:%M:%S"), time.asctime(), time.ctime(0)

    c, s, a, c0 = net.run_app(main(), on="client")
    virtual = EPOCH + 10
    assert c == time.ctime(virtual) and c0 == time.ctime(0)
    assert s == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(virtual))
    assert a == time.asctime(time.localtime(virtual))
