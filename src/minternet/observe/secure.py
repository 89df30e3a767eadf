"""TLS records and QUIC packets as layers above TCP and UDP, for the trace, diagrams and live view.

Observation only, done when something is shown (never per packet in the stack): a
:class:`SecureDecoder` is given the TCP or UDP payloads the display wants to describe, in time
order where it can (so that it learns where TLS records begin in a TCP stream, and which QUIC
connection IDs belong together).

- **TLS over TCP**: the record layer (content type, version, length) and the handshake messages
  sent in the clear (ClientHello and ServerHello, with SNI, ALPN, the cipher suite); TLS 1.3
  encrypts everything after them, shown as "application data (encrypted)". A record that goes on
  past its segment is followed into the next by sequence number.
- **QUIC on UDP**: each packet's header (long or short, type, version, connection IDs), and --
  where the keys are known -- its packet number and frames. Initial packets are opened with keys
  derived from the client's first Destination Connection ID (RFC 9001 5.2); the others with the
  secrets the run's endpoints wrote to the key log (:class:`~minternet.observe.keylog.KeyLog`; in
  a simulation we own both ends). Which secret opens which packet is tried, not guessed: the AEAD
  tag only verifies with the right key.

Bytes that do not decode are shown as such; nothing here raises.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from typing import Any, Iterable, NamedTuple

from ..wire import quic as q
from ..wire import tls
from ..wire.errors import MalformedPacket

TLS_PORTS = frozenset({443, 8443, 853, 993, 995, 465})
QUIC_PORTS = frozenset({443, 8443, 4433})
_MOD32 = 1 << 32
_CACHE_MAX = 50_000

# Key log labels (NSS SSLKEYLOGFILE), by QUIC packet type: the client's secret, then the server's.
_LABELS = {"Handshake": ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
           "1-RTT": ("CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"),
           "0-RTT": ("CLIENT_EARLY_TRAFFIC_SECRET",)}


# --------------------------------------------------------------------------------------------- TLS
class TLSSegment(NamedTuple):
    """The TLS a TCP segment carries. ``continued``: how many bytes at the start belong to a
    record begun in an earlier segment (``continued_type``: that record's content type, when
    known); ``records``: the records that start in it (offsets in the payload); ``undecoded``:
    the offset from which the bytes were no record, or None."""

    continued: int
    continued_type: int | None
    records: tuple[tls.Record, ...]
    undecoded: int | None

    def describe(self) -> str:
        """``TLS ClientHello sni=... alpn=h2,http/1.1``, ``TLS application data (encrypted) x3``."""
        parts = []
        if self.continued:
            what = (" of " + tls.describe_record(tls.Record(self.continued_type, 0, 0, 0, b""))
                    if self.continued_type is not None else "")
            parts.append(f"continuation{what} ({self.continued} B)")
        texts = [tls.describe_record(r) + ("" if r.complete else " (continues)") for r in self.records]
        i = 0
        while i < len(texts):  # runs of the same: "application data (encrypted) x3"
            j = i
            while j + 1 < len(texts) and texts[j + 1] == texts[i]:
                j += 1
            parts.append(texts[i] + (f" x{j - i + 1}" if j > i else ""))
            i = j + 1
        if self.undecoded is not None:
            parts.append("undecodable bytes")
        return "TLS " + ", ".join(parts)


class _TLSFlow:
    """Where records begin and end in one direction of a TCP connection, relative to the first
    sequence number seen."""

    __slots__ = ("base", "starts", "spans")

    def __init__(self, base: int) -> None:
        self.base = base
        self.starts: list[int] = []  # relative seqs where a record is known to begin
        self.spans: dict[int, tuple[int, int]] = {}  # start -> (end, content type)

    def add(self, start: int, end: int, ctype: int) -> None:
        if start not in self.spans:
            insort(self.starts, start)
        self.spans[start] = (end, ctype)
        if end not in self.spans and end not in self.starts:
            insort(self.starts, end)


# -------------------------------------------------------------------------------------------- QUIC
class QuicPacketView(NamedTuple):
    """One QUIC packet as shown: its header, and its frames when it could be opened."""

    packet: q.Packet
    packet_number: int | None = None
    frames: tuple[q.Frame, ...] | None = None
    note: str | None = None  # why there are no frames: "no key", "undecryptable", a frame error
    sender: str | None = None  # "client" or "server", when known from the key that opened it
    hello: tls.Hello | None = None  # a ClientHello/ServerHello in its CRYPTO frames

    def describe(self) -> str:
        """``Initial CRYPTO(ClientHello sni=... alpn=h3) PADDING``, ``1-RTT STREAM id=0 ...``."""
        p = self.packet
        head = p.packet_type
        if self.packet_number is not None:
            head += f" pn={self.packet_number}"
        if self.frames is None:
            return f"{head} ({self.note})" if self.note else head
        items = []
        for f in self.frames:
            if f.type == 0x06 and self.hello is not None and f.get("offset") == 0:
                items.append(f"CRYPTO({self.hello.describe()})")
            elif f.type == 0x06:
                items.append("CRYPTO")
            elif f.name == "STREAM":
                items.append(f"STREAM({f.get('stream id')}{' fin' if f.get('fin') else ''})")
            elif f.type in (0x02, 0x03):
                items.append(f.summary())
            else:
                items.append(f.name)
        items = _runs(items)
        if self.note:
            items.append(f"[{self.note}]")
        return f"{head} " + " ".join(items) if items else head


def _runs(items: list[str]) -> list[str]:
    """Repeats in a row as one: ``NEW_CONNECTION_ID x7``."""
    out: list[str] = []
    count = 0
    for i, item in enumerate(items):
        count += 1
        if i + 1 == len(items) or items[i + 1] != item:
            out.append(item if count == 1 else f"{item} x{count}")
            count = 0
    return out


class QuicDatagram(NamedTuple):
    packets: tuple[QuicPacketView, ...]
    error: str | None

    def describe(self) -> str:
        text = "QUIC " + " | ".join(p.describe() for p in self.packets)
        if self.error:
            text += f" [undecodable: {self.error}]"
        return text

    def short(self) -> str:
        """For a diagram's arrow: ``QUIC Initial CRYPTO ClientHello``, ``QUIC 1-RTT STREAM 0``."""
        parts = []
        for p in self.packets:
            kinds = []
            if p.frames is not None:
                for f in p.frames:
                    if f.type == 0x06:
                        word = f"CRYPTO {p.hello.kind}" if p.hello is not None and f.get("offset") == 0 else "CRYPTO"
                    elif f.name == "STREAM":
                        word = f"STREAM {f.get('stream id')}"
                    elif f.type in (0x00, 0x01) and len(p.frames) > 1:
                        continue  # padding and pings beside something else say little
                    else:
                        word = f.name
                    if word not in kinds:
                        kinds.append(word)
            elif p.note:
                kinds.append(f"({p.note})")
            parts.append(" ".join([p.packet.packet_type, *kinds]))
        return "QUIC " + " + ".join(parts) if parts else "QUIC (undecodable)"


class _QuicConnection:
    __slots__ = ("odcid", "version", "random", "suite", "largest")

    def __init__(self, odcid: bytes, version: int) -> None:
        self.odcid = odcid
        self.version = version
        self.random: bytes | None = None  # the ClientHello's random: which key log lines are ours
        self.suite: int | None = None  # from the ServerHello
        self.largest: dict[tuple[str, str], int] = {}  # (space, sender) -> largest packet number


class SecureDecoder:
    """Reads TLS and QUIC above TCP and UDP payloads (see the module's docstring). ``keylog``: a
    :class:`~minternet.observe.keylog.KeyLog` (or anything with ``lines``), read afresh as it
    grows; without it only Initial packets are opened."""

    def __init__(self, keylog: Any = None) -> None:
        self.keylog = keylog
        self._tls: dict[tuple, _TLSFlow] = {}
        self._tls_flows: set[tuple] = set()  # flows seen carrying a ClientHello on any port
        self._tls_cache: dict[tuple, TLSSegment] = {}
        self._quic_cache: dict[bytes, QuicDatagram] = {}
        self._cids: dict[bytes, _QuicConnection] = {}
        self._cid_lengths: set[int] = set()
        self._secrets: dict[str, list[tuple[bytes, bytes]]] = {}  # label -> [(client random, secret)]
        self._lines_read = 0

    # -- TLS ---------------------------------------------------------------------------------------
    def is_tls(self, src: str, sport: int, dst: str, dport: int, payload: bytes) -> bool:
        """Whether a TCP payload of this flow is to be read as TLS: a TLS port, or a flow that
        began with a ClientHello."""
        if sport in TLS_PORTS or dport in TLS_PORTS:
            return True
        flow = (src, sport, dst, dport)
        if flow in self._tls_flows:
            return True
        if payload[:1] == b"\x16" and tls.looks_like_record(payload) and payload[5:6] == b"\x01":
            self._tls_flows.add(flow)
            self._tls_flows.add((dst, dport, src, sport))
            return True
        return False

    def tls_segment(self, src: str, sport: int, dst: str, dport: int, seq: int, payload: bytes) -> TLSSegment:
        """The TLS records in one TCP segment of the flow (src, sport) -> (dst, dport)."""
        flow = (src, sport, dst, dport)
        key = (flow, seq, len(payload))
        hit = self._tls_cache.get(key)
        if hit is not None:
            return hit
        state = self._tls.get(flow)
        if state is None:
            state = self._tls[flow] = _TLSFlow(seq)
        rel = (seq - state.base) % _MOD32
        n = len(payload)
        at, continued_type = self._first_record(state, rel, n, payload)
        if at is None:  # the middle of a record whose start we did not see
            out = TLSSegment(n, continued_type, (), None)
        else:
            recs, stop = tls.records(payload, at)
            for r in recs:
                state.add(rel + r.offset, rel + r.end, r.content_type)
            out = TLSSegment(at, continued_type, tuple(recs), stop if stop < n else None)
        if len(self._tls_cache) > _CACHE_MAX:
            self._tls_cache.clear()
        self._tls_cache[key] = out
        return out

    @staticmethod
    def _first_record(state: _TLSFlow, rel: int, n: int, payload: bytes) -> tuple[int | None, int | None]:
        """(offset of the first record that starts in the segment, content type of a record it
        continues)."""
        starts = state.starts
        i = bisect_right(starts, rel) - 1
        continued_type = None
        if i >= 0:
            start = starts[i]
            span = state.spans.get(start)
            if start == rel:
                return 0, None
            if span is not None and span[0] > rel:  # inside a known record
                continued_type = span[1]
                end = span[0]
                return (end - rel if end - rel < n else None), continued_type
        j = bisect_right(starts, rel)
        if j < len(starts) and starts[j] - rel < n:
            return starts[j] - rel, continued_type
        if tls.looks_like_record(payload):
            return 0, None
        return None, continued_type

    # -- QUIC --------------------------------------------------------------------------------------
    def is_quic(self, sport: int, dport: int, payload: bytes) -> bool:
        """Whether a UDP payload is to be read as QUIC: a QUIC port, or a long header of a known
        version, or a short header of a connection seen before."""
        if not payload:
            return False
        if sport in QUIC_PORTS or dport in QUIC_PORTS:
            return True
        if q.looks_like_quic(payload):
            return True
        return payload[0] & 0xC0 == 0x40 and self._short_cid(payload[1:]) is not None

    def quic_datagram(self, payload: bytes) -> QuicDatagram:
        """Every packet of one UDP datagram, opened where the keys are known."""
        payload = bytes(payload)
        hit = self._quic_cache.get(payload)
        if hit is not None:
            return hit
        self._read_keylog()
        found, error = q.packets(payload, lambda rest: self._short_cid_len(rest))
        views = []
        for packet in found:
            try:
                views.append(self._open(payload, packet))
            except Exception as exc:  # noqa: BLE001 - a display never stops on odd bytes
                views.append(QuicPacketView(packet, note=f"undecodable: {exc}"))
        out = QuicDatagram(tuple(views), error)
        if len(self._quic_cache) > _CACHE_MAX:
            self._quic_cache.clear()
        # A packet we could not open yet (its key not logged yet) may open later: cache only
        # what is final.
        if all(v.frames is not None or v.note not in ("no key", "undecryptable", "unknown connection")
               for v in views):
            self._quic_cache[payload] = out
        return out

    def _short_cid(self, rest: bytes) -> bytes | None:
        for length in sorted(self._cid_lengths, reverse=True):
            cid = bytes(rest[:length])
            if len(cid) == length and cid in self._cids:
                return cid
        return None

    def _short_cid_len(self, rest: bytes) -> int:
        cid = self._short_cid(rest)
        return len(cid) if cid is not None else 0

    def _register(self, cid: bytes | None, conn: _QuicConnection) -> None:
        if cid:
            self._cids.setdefault(cid, conn)
            self._cid_lengths.add(len(cid))

    def _open(self, datagram: bytes, packet: q.Packet) -> QuicPacketView:
        kind = packet.packet_type
        if not packet.pn_offset:  # Retry, Version Negotiation: nothing encrypted
            if kind == "Retry":
                conn = self._cids.get(packet.dcid)
                if conn is not None:
                    self._register(packet.scid, conn)
            return QuicPacketView(packet)
        conn = self._cids.get(packet.dcid)
        if kind == "Initial":
            return self._open_initial(datagram, packet, conn)
        if conn is None:  # a connection whose Initial packets we did not see
            return QuicPacketView(packet, note="unknown connection")
        if packet.long and packet.scid:
            self._register(packet.scid, conn)
        tried = False
        for label, sender in zip(_LABELS.get(kind, ()), ("client", "server")):
            space = (kind if kind != "0-RTT" else "1-RTT", sender)
            for random, secret in self._candidates(label, conn):
                tried = True
                opened = self._try(datagram, packet, secret, conn.largest.get(space, -1) + 1, conn.suite)
                if opened is None:
                    continue
                if conn.random is None:
                    conn.random = random
                return self._view(packet, opened, conn, space)
        return QuicPacketView(packet, note="undecryptable" if tried else "no key")

    def _open_initial(self, datagram: bytes, packet: q.Packet, conn: _QuicConnection | None) -> QuicPacketView:
        version = packet.version or q.VERSION_1
        odcids = [conn.odcid] if conn is not None else []
        if packet.dcid not in odcids:
            odcids.append(packet.dcid)  # a client's first Initial: its DCID makes the keys
        if conn is None:  # a server's Initial to a client whose SCID we missed: the newest first
            known = list(dict.fromkeys(c.odcid for c in self._cids.values()))
            odcids += [o for o in reversed(known) if o not in odcids][:16]
        for odcid in odcids:
            client, server = q.initial_secrets(odcid, version)
            for sender, secret in (("client", client), ("server", server)):
                c = conn if conn is not None and conn.odcid == odcid else self._cids.get(odcid)
                space = ("Initial", sender)
                expected = c.largest.get(space, -1) + 1 if c is not None else 0
                try:
                    opened = q.unprotect(datagram, packet, secret, expected, 0x1301)
                except MalformedPacket:
                    continue
                if c is None:
                    c = _QuicConnection(odcid, version)
                    self._register(odcid, c)
                self._register(packet.scid, c)
                if sender == "client":
                    self._register(packet.dcid, c)
                return self._view(packet, opened, c, space)
        return QuicPacketView(packet, note="undecryptable")

    def _view(self, packet: q.Packet, opened: tuple[int, q.Plain] | q.Plain, conn: _QuicConnection,
              space: tuple[str, str]) -> QuicPacketView:
        if isinstance(opened, q.Plain):
            plain = opened
        else:
            suite, plain = opened
            if conn.suite is None and packet.packet_type != "Initial":
                conn.suite = suite
        pn = plain.packet_number
        if pn > conn.largest.get(space, -1):
            conn.largest[space] = pn
        note = None
        try:
            frames = q.frames(plain.payload)
        except q.FramesError as exc:
            frames, note = exc.frames, f"frames undecodable after {len(exc.frames)}: {exc.reason}"
        hello = None
        for f in frames:
            if f.type == 0x06 and f.get("offset") == 0:
                msgs = tls.handshake_messages(f.data)
                if msgs:
                    try:
                        hello = tls.parse_hello(msgs[0])
                    except MalformedPacket:
                        hello = None
                if hello is not None and hello.kind == "ClientHello" and conn.random is None:
                    conn.random = hello.random
                elif hello is not None and hello.kind == "ServerHello":
                    conn.suite = hello.cipher_suites[0]
            elif f.type == 0x18:
                self._register(f.get("connection id"), conn)
        return QuicPacketView(packet, pn, tuple(frames), note, space[1], hello)

    @staticmethod
    def _try(datagram: bytes, packet: q.Packet, secret: bytes, expected: int,
             suite: int | None) -> tuple[int, q.Plain] | None:
        if suite is not None:
            try:
                return suite, q.unprotect(datagram, packet, secret, expected, suite)
            except MalformedPacket:
                pass  # 0-RTT keys may be of the ticket's suite, not this handshake's
        return q.opened_suite(datagram, packet, secret, expected)

    def _candidates(self, label: str, conn: _QuicConnection | None) -> Iterable[tuple[bytes, bytes]]:
        """The secrets of ``label`` to try: the connection's own first (by its ClientHello's
        random), then the others (a connection whose Initial we did not see)."""
        entries = self._secrets.get(label, [])
        if conn is not None and conn.random is not None:
            own = [e for e in entries if e[0] == conn.random]
            if own:
                return own
        return list(reversed(entries))  # the newest connection is the likeliest

    def _read_keylog(self) -> None:
        lines = getattr(self.keylog, "lines", None)
        if not lines or len(lines) == self._lines_read:
            return
        for line in lines[self._lines_read:]:
            parts = line.split()
            if len(parts) == 3:
                try:
                    self._secrets.setdefault(parts[0], []).append((bytes.fromhex(parts[1]), bytes.fromhex(parts[2])))
                except ValueError:
                    continue
        self._lines_read = len(lines)

    # -- one line, for the trace and the timeline -----------------------------------------------------
    def describe_packet(self, packet: bytes) -> tuple[str, str] | None:
        """("tls" or "quic", one line) for an IPv4 packet carrying TLS or QUIC; None otherwise."""
        layer = self.layer_of(packet)
        if layer is None:
            return None
        kind, seg = layer
        return kind, seg.describe()

    def layer_of(self, packet: bytes) -> tuple[str, Any] | None:
        """("tls", TLSSegment) or ("quic", QuicDatagram) for an IPv4 packet, or None. Never raises."""
        try:
            return self._layer_of(packet)
        except Exception:  # noqa: BLE001 - observation must not stop a run
            return None

    def _layer_of(self, packet: bytes) -> tuple[str, Any] | None:
        if len(packet) < 28 or packet[0] >> 4 != 4:
            return None
        hl = (packet[0] & 0x0F) * 4
        if int.from_bytes(packet[6:8], "big") & 0x3FFF:  # a fragment
            return None
        total = min(len(packet), int.from_bytes(packet[2:4], "big"))
        proto = packet[9]
        src = ".".join(map(str, packet[12:16]))
        dst = ".".join(map(str, packet[16:20]))
        if proto == 6 and total >= hl + 20:
            off = (packet[hl + 12] >> 4) * 4
            payload = packet[hl + off:total]
            if not payload:
                return None
            sport, dport = int.from_bytes(packet[hl:hl + 2], "big"), int.from_bytes(packet[hl + 2:hl + 4], "big")
            if not self.is_tls(src, sport, dst, dport, payload):
                return None
            seq = int.from_bytes(packet[hl + 4:hl + 8], "big")
            return "tls", self.tls_segment(src, sport, dst, dport, seq, payload)
        if proto == 17 and total >= hl + 8:
            payload = packet[hl + 8:total]
            sport, dport = int.from_bytes(packet[hl:hl + 2], "big"), int.from_bytes(packet[hl + 2:hl + 4], "big")
            if not self.is_quic(sport, dport, payload):
                return None
            return "quic", self.quic_datagram(payload)
        return None


def ip_packet(frame: bytes | None, packet: bytes | None) -> bytes | None:
    """The IPv4 packet of a trace event (its frame's payload, or the packet itself)."""
    if packet is not None:
        return packet
    if frame is not None and len(frame) > 34 and frame[12:14] == b"\x08\x00":
        return frame[14:]
    return None
