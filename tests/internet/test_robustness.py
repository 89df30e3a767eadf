"""Bad input never crashes the stack: any bytes a link delivers are handled, dropped with a reason
or processed; the host keeps working afterwards."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netutil import chain

from minternet.application.ping import ping
from minternet.wire.icmp import ICMP
from minternet.wire.ipv4 import IPv4
from minternet.wire.udp import UDP

NET = chain(2)
NET.run("100ms")
R1 = NET["r1"]
SERVER = NET["server"]
IFACE = R1.interfaces["eth0"]
MAC = IFACE.mac


def valid_frames():
    ip = IPv4("10.0.1.10", "10.0.2.10", 17, UDP(1, 2, b"x" * 20).encode("10.0.1.10", "10.0.2.10"), ttl=5).encode()
    icmp = IPv4("10.0.1.10", "10.0.1.1", 1, ICMP.echo_request(1, 1, b"abc").encode()).encode()
    head = MAC + b"\x02\x00\x00\x00\x01\x01\x08\x00"
    return [head + ip, head + icmp]


@st.composite
def mutated(draw):
    frame = bytearray(draw(st.sampled_from(valid_frames())))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(frame) - 1))
        frame[i] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(frame)))
    return bytes(frame[:cut]) if draw(st.booleans()) else bytes(frame)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), mutated(),
                 st.binary(max_size=100).map(lambda b: MAC + b"\x02" * 6 + b"\x08\x00" + b)))
def test_router_survives_any_frame(frame):
    IFACE.receive(frame)
    NET.run(NET.now + 50_000_000)


def test_still_forwards_after_garbage():
    for frame in [b"", b"\x00", MAC + bytes(8) + b"\x08\x00" + b"\x45" + bytes(10),
                  MAC + bytes(6) + b"\x08\x06" + bytes(5)]:
        IFACE.receive(frame)
    res = NET.run_app(ping(NET["client"], "10.0.2.10", count=2))
    assert res.received == 2
    drops = {k for k, v in R1.stats.items() if k.startswith("drop.") and v}
    assert drops  # the garbage was counted under reasons
    assert all(k.startswith("drop.") and k != "drop." for k in drops)
