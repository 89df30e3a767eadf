"""The send buffer: what the application wrote, addressed by sequence number."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.transport.tcp import sendbuffer
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


def test_chunks_coalesced_joined_and_released(monkeypatch) -> None:
    monkeypatch.setattr(sendbuffer, "_COALESCE", 8)
    monkeypatch.setattr(sendbuffer, "_CHUNK", 32)
    data = bytes(i % 256 for i in range(3000))
    buf = SendBuffer(10_000, 0)
    pos = 0
    for size in [3, 3, 3, 30, 1, 1] * 10 + [10] * 200:  # small writes coalesce, big ones do not
        assert buf.write(data[pos : pos + size]) == size
        pos += size
    assert len(buf) == pos
    assert buf.peek(0, pos) == data[:pos]  # across every chunk
    for start in range(0, pos, 37):
        assert buf.peek(start, 50) == data[start : min(start + 50, pos)]
    assert pos == 2410 and len(buf._chunks) > 200
    buf.ack(2005)
    assert len(buf._chunks) < 100  # acknowledged chunks are let go of
    assert buf.peek(2005, 100) == data[2005:2105]
    buf.ack(pos)
    assert len(buf) == 0 and buf.peek(pos, 10) == b""
    assert buf.write(b"abc") == 3 and buf.peek(pos, 10) == b"abc"


def test_written_bytes_are_not_copied_but_bytearrays_are() -> None:
    buf = SendBuffer(1 << 20, 0)
    big = b"z" * 100_000
    buf.write(big)
    assert buf.peek(0, 100_000) is big  # CPython: the whole of a bytes object is itself
    for size in (20_000, 100):  # a chunk of its own, and a small write to be coalesced
        mutable = bytearray(b"a" * size)
        seq = buf.end
        buf.write(mutable)
        mutable[:] = b"b" * size  # the application reuses its buffer
        assert buf.peek(seq, size) == b"a" * size


ops = st.lists(st.one_of(
    st.tuples(st.just("write"), st.integers(0, 60)),
    st.tuples(st.just("ack"), st.integers(-20, 80)),
    st.tuples(st.just("peek"), st.integers(0, 400), st.integers(0, 200)),
), max_size=150)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, TOP - 1), st.integers(0, 500), ops, st.sampled_from([(16384, 65536), (8, 32), (1, 1)]))
def test_against_a_model(start: int, capacity: int, operations, sizes) -> None:
    # Small coalescing limits make the short operations cross chunks and compact the lists.
    sendbuffer._COALESCE, sendbuffer._CHUNK = sizes
    try:
        check_against_model(start, capacity, operations)
    finally:
        sendbuffer._COALESCE, sendbuffer._CHUNK = 16384, 65536


def check_against_model(start: int, capacity: int, operations) -> None:
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
