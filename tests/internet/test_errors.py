"""Errors travelling up (ICMP, failed ARP) and the path MTU, against what Linux does: forged or
stray errors change nothing, genuine ones reach the socket with Linux's errno, and the path MTU
cache stays bounded. Each case was first found by attacking the seams."""

from __future__ import annotations

import asyncio
import errno

import pytest

from minternet.application.ping import ping
from minternet.application.transfer import transfer
from minternet.internet.ip import PMTU_MAX_ENTRIES
from minternet.sim.network import Network
from minternet.sockets import AF_INET, SOCK_DGRAM, SOCK_STREAM
from minternet.sockets.common import IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_PMTUDISC_DONT, IPPROTO_IP
from minternet.stack.errors import ErrorKind
from minternet.wire.icmp import ICMP
from minternet.wire.ipv4 import IPProto, IPv4
from minternet.wire.tcp import TCP
from minternet.wire.udp import UDP


def lan(delay: str = "1ms") -> Network:
    net = Network(seed=3)
    net.add_host("a", {"eth0": "10.0.0.1/24"})
    net.add_host("b", {"eth0": "10.0.0.2/24"})
    net.connect("a:eth0", "b:eth0", delay=delay)
    return net


def inject(host, ip: IPv4, dst_mac: bytes | None = None) -> None:
    """An IPv4 datagram arriving on eth0 from the wire (from a MAC nobody has)."""
    iface = host.interfaces["eth0"]
    iface.receive((dst_mac or iface.mac) + b"\x02\xee\xee\xee\xee\xee\x08\x00" + ip.encode())


def icmp(reporter: str, to: str, type_: int, code: int, quoted: bytes, rest: int = 0) -> IPv4:
    return IPv4(reporter, to, IPProto.ICMP, ICMP(type_, code, rest, quoted).encode(), 64)


def quoted_tcp(src: str, sport: int, dst: str, dport: int, seq: int) -> bytes:
    return IPv4(src, dst, IPProto.TCP, TCP(sport, dport, seq, 0, 0x02, 65535).encode(src, dst), 64, 0, 1, 2).encode()


def quoted_udp(src: str, sport: int, dst: str, dport: int) -> bytes:
    return IPv4(src, dst, IPProto.UDP, UDP(sport, dport, b"x").encode(src, dst), 64, 0, 1, 2).encode()


def test_error_kinds_are_distinct():
    assert len(list(ErrorKind)) == 10
    assert ErrorKind.TTL_EXCEEDED is not ErrorKind.HOST_UNREACHABLE


def connect_under_icmp(type_: int, code: int, seq_offset: int = 0, broadcast: bool = False):
    """connect() across a 200 ms link while an ICMP error about our SYN arrives at 10 ms."""
    net = lan("200ms")
    a, b = net["a"], net["b"]
    out = {}

    async def server():
        s = b.socket(AF_INET, SOCK_STREAM)
        s.bind(("0.0.0.0", 80))
        s.listen(5)
        await s.accept()

    async def client():
        s = a.socket(AF_INET, SOCK_STREAM)
        try:
            await s.connect(("10.0.0.2", 80))
            out["result"] = 0
        except OSError as e:
            out["result"] = e.errno

    def forge():
        ((lip, lport, rip, rport), conn), = a.tcp.connections.items()
        q = quoted_tcp(lip, lport, rip, rport, (conn.iss + seq_offset) & 0xFFFFFFFF)
        inject(a, icmp("10.0.0.2", "10.0.0.255" if broadcast else "10.0.0.1", type_, code, q),
               dst_mac=b"\xff" * 6 if broadcast else None)

    net.spawn(server())
    net.at("10ms", forge)
    net.run_app(client())
    return out["result"], a


@pytest.mark.parametrize("type_, code, want", [(3, 3, errno.ECONNREFUSED), (3, 1, errno.EHOSTUNREACH),
                                               (11, 0, errno.EHOSTUNREACH), (12, 0, errno.EPROTO)])
def test_an_error_about_our_syn_fails_the_connect_with_linux_errno(type_, code, want):
    assert connect_under_icmp(type_, code)[0] == want


def test_an_error_quoting_a_sequence_number_we_never_sent_is_ignored():
    result, a = connect_under_icmp(3, 3, seq_offset=1_000_000)
    assert result == 0 and a.stats["tcp.out_of_window_icmps"] == 1


@pytest.mark.parametrize("code", [16, 255])
def test_unknown_unreachable_codes_are_ignored(code):
    assert connect_under_icmp(3, code)[0] == 0


def test_an_error_sent_to_a_broadcast_address_is_dropped():
    result, a = connect_under_icmp(3, 3, broadcast=True)
    assert result == 0 and a.stats["drop.error-to-broadcast"] == 1


def test_frag_needed_about_flows_we_never_had_leaves_no_state():
    net = lan()
    a = net["a"]
    for i in range(300):
        q = quoted_udp("10.0.0.1", 40000, f"10.9.{i // 250}.{i % 250}", 53)
        inject(a, icmp("10.0.0.2", "10.0.0.1", 3, 4, q, rest=600))
    net.run(until=net.now + 10**7)
    assert a.ip.pmtu == {}


def test_the_path_mtu_cache_is_bounded_and_never_rises():
    net = lan()
    ip = net["a"].ip
    for i in range(PMTU_MAX_ENTRIES + 100):
        ip._remember_pmtu(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 1280)
    assert len(ip.pmtu) == PMTU_MAX_ENTRIES
    assert b"\x0a\x00\x00\x00" not in ip.pmtu  # the oldest went first
    ip._remember_pmtu("10.0.0.5", 1280)
    assert ip.path_mtu_for("10.0.0.5", 1400) == 1280  # learned lower: a frag-needed cannot raise it
    assert ip.path_mtu_for("10.0.0.2", 9000) == 1500  # never above the interface
    assert ip.path_mtu_for("10.0.0.2", 100) == 552  # Linux's min_pmtu


def narrow(mtu: int = 1280) -> Network:
    net = Network(seed=2)
    net.add_host("c", {"eth0": "10.0.1.10/24"}, gateway="10.0.1.1")
    net.add_router("r1", {"eth0": "10.0.1.1/24", "eth1": "10.0.9.1/30"})
    net.add_router("r2", {"eth0": "10.0.9.2/30", "eth1": "10.0.2.1/24"})
    net.add_host("s", {"eth0": "10.0.2.10/24"}, gateway="10.0.2.1")
    net.connect("c:eth0", "r1:eth0", delay="1ms")
    net.connect("r1:eth1", "r2:eth0", delay="1ms", mtu=mtu)
    net.connect("r2:eth1", "s:eth0", delay="1ms")
    return net


def udp_sends(pmtudisc: int) -> tuple[list, Network]:
    net = narrow()
    results = []
    sink = net["s"].socket(AF_INET, SOCK_DGRAM)
    sink.bind(("0.0.0.0", 9))

    async def client():
        u = net["c"].socket(AF_INET, SOCK_DGRAM)
        u.setsockopt(IPPROTO_IP, IP_MTU_DISCOVER, pmtudisc)
        u.connect(("10.0.2.10", 9))
        for _ in range(4):
            try:
                results.append(u.send(bytes(1400)))
            except OSError as e:
                results.append(e.errno)
            await asyncio.sleep(0.1)

    net.run_app(client())
    return results, net


def test_udp_with_df_learns_the_path_mtu_and_then_fails_at_once():
    results, net = udp_sends(IP_PMTUDISC_DO)
    # Linux: the first leaves, the ICMP comes back as EMSGSIZE, and from then on every send is
    # refused against the learned path MTU without reaching the router.
    assert results == [1400, errno.EMSGSIZE, errno.EMSGSIZE, errno.EMSGSIZE]
    assert net["r1"].stats["drop.frag-needed"] == 1


def test_udp_with_pmtudisc_dont_is_not_told():
    results, net = udp_sends(IP_PMTUDISC_DONT)
    assert results == [1400] * 4  # DF off: the router fragments, and nobody is told anything
    assert net["r1"].stats["ip.fragmented"] == 4


def test_tcp_follows_its_own_interface_mtu_shrinking_mid_transfer():
    net = narrow(1500)

    def shrink():
        net["c"].interfaces["eth0"].mtu = 1000
        net["r1"].interfaces["eth0"].mtu = 1000

    net.at("30ms", shrink)
    res = net.run_app(transfer(net["c"], net["s"], 2_000_000))
    assert res.ok and res.seconds < 5, res.report("c", "s")
    assert net["c"].stats["tcp.pmtu_reductions"] == 1 and res.sender_stats["timeouts"] == 0


def test_ping_to_an_absent_neighbour_says_destination_host_unreachable():
    net = lan()
    lines = []
    res = net.run_app(ping(net["a"], "10.0.0.77", count=4, out=lines.append))
    assert [e.text for e in res.errors] == ["Destination Host Unreachable"] * 4
    assert all(e.source == "10.0.0.1" for e in res.errors)
    assert any("+4 errors" in line for line in lines)


def test_routers_forward_neither_link_broadcasts_nor_multicast_and_say_nothing_of_multicast():
    net = narrow()
    r1 = net["r1"]
    inject(r1, IPv4("10.0.1.10", "10.0.2.10", IPProto.UDP, UDP(1, 9, b"x").encode("10.0.1.10", "10.0.2.10"), 64),
           dst_mac=b"\xff" * 6)
    inject(r1, IPv4("10.0.1.10", "224.0.0.9", IPProto.UDP, UDP(1, 520, b"x").encode("10.0.1.10", "224.0.0.9"), 64))
    inject(r1, IPv4("10.0.1.10", "239.1.2.3", IPProto.UDP, UDP(1, 9, b"x").encode("10.0.1.10", "239.1.2.3"), 1))
    net.run(until=net.now + 10**8)
    assert r1.stats["ip.forwarded"] == 0
    assert not any(k.startswith("icmp.out") for k in r1.stats if r1.stats[k])


def test_tcp_over_a_link_narrower_than_min_pmtu_sends_without_df_and_the_router_fragments():
    # Linux: a frag-needed saying 68 is floored at min_pmtu (552) and locks the route's MTU;
    # TCP (IP_PMTUDISC_WANT) then sends 552-byte packets without DF, which the router fragments
    # for the 68-byte link (before, every segment was dropped again and the transfer timed out).
    net = narrow(68)
    res = net.run_app(transfer(net["c"], net["s"], 20_000, timeout=30 * 10**9))
    assert res.ok, res.report("c", "s")
    assert net["r1"].stats["drop.frag-needed"] >= 1  # the first segments, sent with DF
    assert net["r1"].stats["ip.fragmented"] > 30  # then every data segment, cut for the link
    mtu, _, locked = net["c"].ip.pmtu[bytes([10, 0, 2, 10])]
    assert (mtu, locked) == (552, True)
    assert net["c"].stats["tcp.pmtu_reductions"] == 1


def test_udp_with_pmtudisc_do_keeps_df_on_a_locked_path_mtu():
    net = narrow(68)
    sink = net["s"].socket(AF_INET, SOCK_DGRAM)
    sink.bind(("0.0.0.0", 9))
    results = []

    async def client():
        u = net["c"].socket(AF_INET, SOCK_DGRAM)
        u.setsockopt(IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        u.connect(("10.0.2.10", 9))
        for size in (1000, 500, 500):
            try:
                results.append(u.send(bytes(size)))
            except OSError as e:
                results.append(e.errno)
            await asyncio.sleep(0.1)

    net.run_app(client())
    # 552 learned (locked): 1000 bytes are refused at once; 500 fit it and leave, with DF still
    # (IP_PMTUDISC_DO), and r1 refuses them for its 68 as it did the first: nothing fragmented.
    assert results == [1000, errno.EMSGSIZE, 500]
    assert net["r1"].stats["drop.frag-needed"] == 2 and net["r1"].stats["ip.fragmented"] == 0


def test_a_locked_path_mtu_ignores_later_reports_until_it_expires():
    # Linux's __ip_rt_update_pmtu returns at once on a locked MTU: a frag-needed saying 1000 (in
    # window, say a stale one) after the lock left (552, unlocked) here, and DF came back on
    # toward the 68-byte link.
    net = narrow(68)
    c, s = net["c"], net["s"]
    dst4 = bytes([10, 0, 2, 10])
    state = {}

    async def server():
        lst = s.socket(AF_INET, SOCK_STREAM)
        lst.bind(("0.0.0.0", 80))
        lst.listen(5)
        conn, _ = await lst.accept()
        while await conn.recv(65536):
            pass

    async def client():
        k = c.socket(AF_INET, SOCK_STREAM)
        await k.connect(("10.0.2.10", 80))
        await k.sendall(bytes(5000))
        await asyncio.sleep(1)
        state["locked"] = c.ip.pmtu[dst4]
        ((lip, lport, rip, rport), conn), = c.tcp.connections.items()
        q = quoted_tcp(lip, lport, rip, rport, conn.snd.snd_una)
        inject(c, icmp("10.0.1.1", "10.0.1.10", 3, 4, q, rest=1000), dst_mac=c.interfaces["eth0"].mac)
        state["after"] = c.ip.pmtu[dst4]
        k.close()

    net.spawn(server())
    net.run_app(client())
    assert state["locked"][0] == 552 and state["locked"][2] is True
    assert state["after"] == state["locked"]  # untouched: still locked, same expiry


def test_a_forged_frag_needed_leaves_an_entry_where_it_was_in_the_cache():
    # Not taken (no such flow): the entry it names is not moved to the newest end, where it
    # would outlive the others when the bounded cache evicts the oldest.
    net = lan()
    a = net["a"]
    ip = a.ip
    ip._remember_pmtu("10.9.0.1", 1280)
    ip._remember_pmtu("10.9.0.2", 1280)
    before = list(ip.pmtu.items())
    inject(a, icmp("10.0.0.2", "10.0.0.1", 3, 4, quoted_udp("10.0.0.1", 40000, "10.9.0.1", 53), rest=600))
    net.run(until=net.now + 10**7)
    assert list(ip.pmtu.items()) == before


@pytest.mark.parametrize("outer_takes", [True, False])
def test_a_frag_needed_while_the_transport_reacts_to_another_keeps_what_it_learned(outer_takes):
    # The transport's reaction (a resend) can bring a second error about the same destination
    # before the first returns: the second, lower and locked, was overwritten by the first's
    # 1000 (the path MTU rose) or by the entry the first put back.
    from minternet.stack.errors import TransportError
    net = lan()
    ip = net["a"].ip
    ip._remember_pmtu("10.9.0.1", 1400)

    def frag_needed(mtu):
        return TransportError(ErrorKind.FRAG_NEEDED, 99, "10.0.0.1", 1, "10.9.0.1", 2, reporter="10.0.0.2", mtu=mtu)

    class Transport:
        depth = 0

        def error(self, err):
            self.depth += 1
            if self.depth == 1:
                ip.transport_error(frag_needed(300))
                return outer_takes
            return True

    ip.transports[99] = Transport()
    ip.transport_error(frag_needed(1000))
    mtu, _, locked = ip.pmtu[b"\x0a\x09\x00\x01"]
    assert (mtu, locked) == (552, True)


def test_a_frag_needed_while_reacting_that_evicts_the_first_from_a_full_cache():
    # The first error's entry is the oldest of a full cache; the nested error, about another
    # destination, is learned and evicts it: the first is still learned when it is taken.
    from minternet.stack.errors import TransportError
    net = lan()
    ip = net["a"].ip
    for i in range(PMTU_MAX_ENTRIES):
        ip._remember_pmtu(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 1400)

    def frag_needed(dst, mtu):
        return TransportError(ErrorKind.FRAG_NEEDED, 99, "10.0.0.1", 1, dst, 2, reporter="10.0.0.2", mtu=mtu)

    class Transport:
        depth = 0

        def error(self, err):
            self.depth += 1
            if self.depth == 1:
                ip.transport_error(frag_needed("10.200.0.1", 1200))
            return True

    ip.transports[99] = Transport()
    ip.transport_error(frag_needed("10.0.0.0", 1000))
    assert ip.pmtu[b"\x0a\x00\x00\x00"][0] == 1000 and ip.pmtu[b"\x0a\xc8\x00\x01"][0] == 1200
    assert len(ip.pmtu) == PMTU_MAX_ENTRIES
