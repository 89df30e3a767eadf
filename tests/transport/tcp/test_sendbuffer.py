"""The send buffer: what the application wrote, addressed by sequence number."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.transport.tcp.sendbuffer import SendBuffer

TOP = 2**32


def test_write_peek_ack() -> None:
    buf = SendBuffer(10, 1000)
    assert (buf.base, buf.end, len(buf), buf.free) == (1000, 1000, 0, 10)
    assert buf.write(b"hello") == 5
    assert buf.write(b" world!") == 5  # only what fits
    assert (buf.end, len(buf), buf.free) == (1010, 10, 0)
    assert buf.write(b"more") == 0
    assert buf.peek(1000, 5) == b"hello"
    assert buf.peek(1006, 100) == b"worl"  # fewer at the end
    assert buf.peek(1010, 5) == b""
    assert buf.unsent(1004) == 6
    assert buf.ack(1006) == 6
    assert (buf.base, len(buf), buf.free) == (1006, 4, 6)
    assert buf.peek(1006, 2) == b"wo"
    assert buf.ack(1003) == 0  # an old ACK
    assert buf.ack(1006) == 0
    assert buf.write(memoryview(b"abcdefgh")) == 6
    assert buf.peek(1008, 20) == b"rlabcdef"


def test_errors() -> None:
    buf = SendBuffer(100, 0)
    buf.write(b"x" * 10)
    with pytest.raises(ValueError):
        buf.peek(11, 1)  # beyond the end
    with pytest.raises(ValueError):
        buf.peek(TOP - 1, 1)  # before base
    with pytest.raises(ValueError):
        buf.ack(11)  # e.g. a FIN: the caller's business
    with pytest.raises(ValueError):
        SendBuffer(-1, 0)


def test_wrap_around() -> None:
    buf = SendBuffer(100, TOP - 3)
    buf.write(b"abcdefgh")
    assert buf.end == 5
    assert buf.peek(TOP - 1, 3) == b"cde"
    assert buf.peek(1, 10) == b"efgh"
    assert buf.unsent(2) == 3
    assert buf.unsent(TOP - 3) == 8
    assert buf.ack(2) == 5
    assert buf.base == 2 and buf.peek(2, 1) == b"f"


def test_capacity_can_shrink() -> None:
    buf = SendBuffer(10, 0)
    buf.write(b"x" * 10)
    buf.capacity = 4
    assert buf.free == 0 and buf.write(b"y") == 0


def test_bulk_transfer_in_segments() -> None:
    # Many segments through a buffer much smaller than the data: the bytes come out unchanged.
    data = bytes(range(256)) * 400  # 102400 bytes
    buf = SendBuffer(16384, 7)
    written = sent = 0
    out = bytearray()
    snd_nxt = 7
    while len(out) < len(data):
        written += buf.write(data[written : written + 5000])
        seg = buf.peek(snd_nxt, 1448)
        out += seg
        snd_nxt += len(seg)
        sent += 1
        if sent % 2 == 0:
            buf.ack(snd_nxt)
    assert out == data


ops = st.lists(st.one_of(
    st.tuples(st.just("write"), st.integers(0, 300)),
    st.tuples(st.just("ack"), st.integers(-50, 400)),
    st.tuples(st.just("peek"), st.integers(0, 400), st.integers(0, 200)),
), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, TOP - 1), st.integers(0, 500), ops)
def test_against_a_model(start: int, capacity: int, operations) -> None:
    buf = SendBuffer(capacity, start)
    model = bytearray()
    base = 0  # bytes acknowledged so far
    counter = 0
    for op in operations:
        if op[0] == "write":
            chunk = bytes((counter + i) % 256 for i in range(op[1]))
            n = buf.write(chunk)
            assert n == min(op[1], capacity - len(model))
            model += chunk[:n]
            counter += n
        elif op[0] == "ack":
            to = base + op[1]
            if op[1] > len(model):
                with pytest.raises(ValueError):
                    buf.ack((start + to) % TOP)
                continue
            assert buf.ack((start + to) % TOP) == max(op[1], 0)
            if op[1] > 0:
                del model[: op[1]]
                base = to
        else:
            off, n = op[1], op[2]
            if off > len(model):
                with pytest.raises(ValueError):
                    buf.peek((start + base + off) % TOP, n)
            else:
                assert buf.peek((start + base + off) % TOP, n) == model[off : off + n]
        assert len(buf) == len(model)
        assert buf.base == (start + base) % TOP
        assert buf.end == (start + base + len(model)) % TOP
        assert buf.free == capacity - len(model)
