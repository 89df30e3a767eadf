"""Zero windows across the simulated internet: a slow reader is probed and fed as its window
opens; a dead peer behind a closed window is given up on, as Linux's tcp_probe_timer does; the
keepalive timer steps aside while the persist timer watches; the user timeout bounds a window
that stays shut."""

import asyncio
import errno

import pytest
from netutil import chain

from minternet.sockets import AF_INET, SOCK_STREAM

SO_RCVBUF, SO_KEEPALIVE = 8, 9


async def _pair(net, rcvbuf=4096, **client_options):
    srv = net["server"].socket(AF_INET, SOCK_STREAM)
    srv.setsockopt(1, SO_RCVBUF, rcvbuf)
    srv.bind(("", 7000))
    srv.listen()
    cli = net["client"].socket(AF_INET, SOCK_STREAM)
    if client_options:
        cli.set_tcp_options(**client_options)
    await cli.connect(("10.0.2.10", 7000))
    conn, _ = await srv.accept()
    return cli, conn


def test_a_slow_reader_gets_everything_with_few_challenge_acks():
    """Issue 11 bug 1: the probe byte was sent without moving snd_nxt, so the ACK covering it
    looked like an ACK of unsent data and drew a challenge ACK, which the receiver answered...
    4,097 of 20,000 bytes in 120 s, amid 50,000 challenge ACKs."""
    net = chain(1)

    async def main():
        cli, conn = await _pair(net)
        writer = asyncio.ensure_future(cli.sendall(bytes(range(250)) * 80))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        got = bytearray()
        while len(got) < 20_000 and loop.time() - t0 < 120:
            try:
                got += await asyncio.wait_for(conn.recv(300), 1)
            except TimeoutError:
                pass
            await asyncio.sleep(0.3)
        await asyncio.wait_for(writer, 10)
        return bytes(got), loop.time() - t0, cli.tcp_info()

    got, took, info = net.run_app(main())
    assert got == bytes(range(250)) * 80
    assert took < 30  # the reader's pace (1000 bytes/s), not a stall
    assert info["zero_window_probes"] >= 1  # the window did close
    c = net.counters()
    assert c["tcp.challenge_acks"] <= 2 and info["challenge_acks"] == 0


def _stall_then_kill(net, **client_options):
    """The server stops reading, its window closes, then it dies: the client's sendall()."""
    async def main():
        cli, conn = await _pair(net, **client_options)
        loop = asyncio.get_running_loop()

        async def kill():
            await asyncio.sleep(5)  # by now the window is shut and probes are being answered
            assert conn._conn.rcv_window() == 0
            net.node_down("server")
            return loop.time()

        killed = asyncio.ensure_future(kill())
        with pytest.raises(OSError) as e:
            await asyncio.wait_for(cli.sendall(bytes(1_000_000)), 3600)  # TimeoutError: ETIMEDOUT, or ours
        return e.value.errno, loop.time() - await killed, cli.tcp_info(), cli._conn

    return net.run_app(main())


def test_a_dead_peer_behind_a_zero_window_is_given_up_after_tcp_retries2_probes():
    """Issue 11 bug 8: after 4 hours and 247 unanswered probes the connection was still
    ESTABLISHED and sendall() hung. Linux's tcp_probe_timer aborts after tcp_retries2 (15)
    unanswered probes, backed off up to TCP_RTO_MAX (120 s): about 13 minutes."""
    net = chain(1)
    code, waited, info, conn = _stall_then_kill(net)
    assert code == errno.ETIMEDOUT and info["state"] == "CLOSED"
    assert conn.probes_out == 15
    assert 5 * 60 < waited < 30 * 60
    assert net["client"].stats["tcp.abort_on_timeout"] == 1


def test_a_dead_peer_behind_a_zero_window_and_keepalive_the_persist_timer_decides():
    """Linux's tcp_keepalive_timer does not probe while data waits ("it is alive without
    keepalive"): the persist timer's limit ends the connection, not keepalive probes."""
    net = chain(1)
    code, waited, info, conn = _stall_then_kill(net, keepalive=True, keepalive_time=10 * 10**9,
                                                keepalive_interval=10**9, keepalive_probes=3)
    assert net["client"].stats["tcp.keepalive_probes"] == 0
    assert code == errno.ETIMEDOUT and conn.probes_out == 15


def test_the_user_timeout_bounds_a_window_that_stays_shut():
    """TCP_USER_TIMEOUT with a zero window (Linux 5.11's fix): the peer answers every probe, yet
    the connection ends once the window has stayed shut for the user timeout."""
    net = chain(1)

    async def main():
        cli, conn = await _pair(net, user_timeout=30 * 10**9)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(OSError) as e:
            await asyncio.wait_for(cli.sendall(bytes(1_000_000)), 120)  # the server never reads
        return e.value.errno, loop.time() - t0, conn._conn.state.value

    code, took, server_state = net.run_app(main())
    assert code == errno.ETIMEDOUT
    assert 30 < took < 32  # the probe timer is clamped to the user timeout (tcp_clamp_probe0_to_user_timeout)
    assert server_state == "ESTABLISHED"  # no RST: Linux's tcp_write_err just ends it


def test_without_a_user_timeout_an_answering_peer_is_probed_for_ever():
    """RFC 1122 4.2.2.17: as long as the receiver answers the probes, the sender stays."""
    net = chain(1)

    async def main():
        cli, conn = await _pair(net)
        writer = asyncio.ensure_future(cli.sendall(bytes(1_000_000)))
        await asyncio.sleep(3 * 3600)
        state, probes = cli.tcp_info()["state"], cli.tcp_info()["zero_window_probes"]
        writer.cancel()
        return state, probes

    state, probes = net.run_app(main())
    assert state == "ESTABLISHED" and probes > 15
