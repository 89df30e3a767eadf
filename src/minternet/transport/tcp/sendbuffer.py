"""The send buffer: bytes the application wrote, from snd_una (base) to the last byte written
(end). [base, snd_nxt) has been sent and awaits an ACK; [snd_nxt, end) is not sent yet.

The data is kept as the chunks the application wrote (small writes are coalesced), found by
bisection over their offsets. A write of bytes stores the object itself, peek copies only the
bytes asked for, and an ACK only moves an offset and lets go of chunks wholly acknowledged, so a
bulk transfer costs O(1) per segment whatever the buffer size. (A single bytearray with
del buf[:n] looks O(1) but is not: once its front has moved, growing it again copies everything
it holds.)

SYN and FIN occupy sequence space but no buffer space; the connection accounts for them.
"""

from __future__ import annotations

from bisect import bisect_right

from .seq import HALF, SEQ_MASK, SEQ_MOD

_COALESCE = 16384  # writes smaller than this are appended to the last chunk ...
_CHUNK = 65536  # ... while it is shorter than this


class SendBuffer:
    """At most capacity bytes written by the application and not yet acknowledged."""

    __slots__ = ("capacity", "base", "_chunks", "_offs", "_first", "_head", "_tail")

    def __init__(self, capacity: int, start_seq: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must not be negative, got {capacity}")
        self.capacity = capacity
        self.base = start_seq & SEQ_MASK  # snd_una: the sequence number of the first byte held
        # Chunks from index _first on are live; _offs[i] is where chunk i starts on an unwrapped
        # byte line on which base is at _head and end at _tail.
        self._chunks: list[bytes | bytearray] = []
        self._offs: list[int] = []
        self._first = 0
        self._head = 0
        self._tail = 0

    def __len__(self) -> int:
        return self._tail - self._head

    def __repr__(self) -> str:
        return f"<SendBuffer base={self.base} len={len(self)} capacity={self.capacity}>"

    @property
    def end(self) -> int:
        """The sequence number after the last byte written."""
        return (self.base + self._tail - self._head) & SEQ_MASK

    @property
    def free(self) -> int:
        """How many more bytes write() would take now."""
        return max(self.capacity - (self._tail - self._head), 0)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append as much of data as fits; returns how many bytes were taken."""
        n = len(data)
        room = self.capacity - (self._tail - self._head)
        if n > room:
            n = max(room, 0)
            data = data[:n]
        if not n:
            return 0
        chunks = self._chunks
        last = chunks[-1] if len(chunks) > self._first else None
        if n < _COALESCE and type(last) is bytearray and len(last) < _CHUNK:
            last += data
        elif n < _COALESCE:
            chunks.append(bytearray(data))
            self._offs.append(self._tail)
        else:
            chunks.append(bytes(data))  # no copy when data is already bytes
            self._offs.append(self._tail)
        self._tail += n
        return n

    def _offset(self, seq: int) -> int:
        d = (seq - self.base) & SEQ_MASK
        return d - SEQ_MOD if d > HALF else d

    def peek(self, seq: int, n: int) -> bytes:
        """At most n bytes starting at sequence number seq (fewer at the end of the buffer)."""
        off = (seq - self.base) & SEQ_MASK  # the offset from base, inlined: this is per segment
        head, tail = self._head, self._tail
        if off > tail - head:
            raise ValueError(f"seq {seq} is outside the buffer [{self.base}, {self.end}]")
        pos = head + off
        stop = pos + n
        if stop > tail:
            stop = tail
        if stop <= pos:
            return b""
        offs = self._offs
        i = bisect_right(offs, pos, self._first) - 1
        chunk = self._chunks[i]
        base = offs[i]
        if stop - base <= len(chunk):
            part = chunk[pos - base : stop - base]
            return part if type(part) is bytes else bytes(part)
        chunks = self._chunks
        start = pos - base
        parts = [chunk[start:]]
        pos = offs[i] + len(chunk)
        while pos < stop:
            i += 1
            chunk = chunks[i]
            parts.append(chunk[: stop - pos])
            pos += len(chunk)
        return b"".join(parts)

    def ack(self, upto_seq: int) -> int:
        """Drop the bytes before upto_seq (an ACK number); returns how many were dropped. An old
        ACK drops nothing; one beyond end is an error (a FIN's sequence number is the caller's)."""
        n = self._offset(upto_seq)
        if n <= 0:
            return 0
        if n > self._tail - self._head:
            raise ValueError(f"ack {upto_seq} is beyond the end of the buffer {self.end}")
        head = self._head + n
        self._head = head
        self.base = upto_seq & SEQ_MASK
        chunks, offs = self._chunks, self._offs
        first = self._first
        count = len(chunks)
        while first < count and offs[first] + len(chunks[first]) <= head:
            chunks[first] = b""  # let go of the data now; the slot goes at the next compaction
            first += 1
        if first > 64 and 2 * first > count:
            del chunks[:first], offs[:first]
            first = 0
        self._first = first
        return n

    def unsent(self, snd_nxt: int) -> int:
        """How many written bytes are at or after snd_nxt (written, not yet sent)."""
        return max(self._tail - self._head - self._offset(snd_nxt), 0)
