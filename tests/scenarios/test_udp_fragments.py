"""A UDP datagram larger than the MTU is fragmented by IP; losing one fragment loses it all."""


from netutil import chain

from minternet.sockets import AF_INET, SOCK_DGRAM


def exchange(net, size):
    client, server = net["client"], net["server"]
    got = []

    async def main():
        rx = server.socket(AF_INET, SOCK_DGRAM)
        rx.bind(("", 9000))
        tx = client.socket(AF_INET, SOCK_DGRAM)
        tx.sendto(bytes(range(256)) * (size // 256) + bytes(size % 256), ("10.0.2.10", 9000))
        rx.settimeout(40)
        try:
            got.append(await rx.recv(65535))
        except TimeoutError:
            pass

    net.run_app(main())
    return got


def test_big_datagram_is_fragmented_and_reassembled():
    net = chain(2)
    got = exchange(net, 5000)
    assert len(got) == 1 and len(got[0]) == 5000
    assert net["client"].stats["ip.fragments_created"] == 4
    assert net["server"].stats["ip.reassembled"] == 1


def test_one_lost_fragment_loses_the_whole_datagram():
    net = chain(2)
    link = net.link("r1:eth1")
    real_send = link.ab.send
    seen = []

    def lose_second_fragment(frame):
        is_fragment = frame[12:14] == b"\x08\x00" and (frame[20] & 0x3F or frame[21]) and frame[23] == 17
        if is_fragment:
            seen.append(frame)
            if len(seen) == 2:
                link.ab._drop("link-loss", frame)
                return
        real_send(frame)

    net["r1"].interfaces["eth1"].attach(lose_second_fragment)  # between r1 and the wire
    got = exchange(net, 5000)
    assert got == []
    assert len(seen) == 4
    server = net["server"]
    assert server.stats["ip.frags_received"] == 3
    assert server.stats["drop.reassembly-timeout"] == 3  # the three that arrived, thrown away after 30 s
    assert server.stats["udp.in_datagrams"] == 0
    assert net.stats["drop.link-loss"] == 1
