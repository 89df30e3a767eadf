"""Scripted TCP exchanges, in the spirit of packetdrill: inject these segments at these times,
expect these segments out.

A script is a list of lines, one event each::

    tcp sack=0 timestamps=0          # optional first line: options for our stack
    0.000  listen 8080               # or: connect 80 (we connect to the peer's port 80)
    0.100  < S   seq=0 win=65535 <mss 1460>
    0.100  > S.  seq=0 ack=1 win=* <mss 1460, nop, nop, nop, wscale *>
    +0.010 < .   seq=1 ack=1 win=65535
    +0     accept
    +0     < P.  seq=1 ack=1 win=65535 len=100
    +0.040 > .   seq=1 ack=101          # the delayed ACK, 40 ms later
    +0     write 1000
    +0     > P.  seq=1 ack=101 len=1000
    +0     read 100
    +0     close
    +0     > F.  seq=1001 ack=101
    +0     expect state FIN-WAIT-1

Times are absolute seconds, or ``+delta`` after the previous line. ``<`` lines come from the peer
(10.0.0.2) to us (10.0.0.1); ``>`` lines must be the next segment we send, within ``tolerance`` of
the time given. Flags use tcpdump's letters (S F R P, ``.`` for ACK). Sequence numbers are
relative: ours to our ISS, the peer's to the seq of its first SYN (or, when we connect, to the
seq of its SYN+ACK); SACK blocks in a ``<`` line are relative to our ISS, like its ack. A field written ``*`` or left out is not checked, except that options are
compared when a ``<...>`` list is given (``*`` inside matches any value). A segment we send that
the script does not expect fails the test.

A segment may name the peer's port with ``port=N`` (default 40000), for several connections at
once; each connection's sequence numbers are relative to its own SYNs.

Actions: ``listen PORT [backlog=N]``, ``connect PORT``, ``accept``, ``write N``, ``read N`` (exactly N bytes
must be readable), ``close`` (FIN: shutdown(SHUT_WR), a half close), ``close_socket`` (close():
a RST if data is unread, else a FIN and the connection is an orphan), ``shutdown_read``
(shutdown(SHUT_RD)), ``abort`` (RST), ``expect state NAME``, ``expect error NAME`` (the
connection closed with that errno), ``expect eof``. In an injected segment's options,
``raw HEX`` puts those bytes in the option list as they are (e.g. a bad length).

``run_script(..., peer_isn=N)`` sets the peer's ISN (default 1,000,000), e.g. near 2**32 to take
its sequence numbers across the wrap.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass, field

from minternet.sim.network import Network
from minternet.wire.ethernet import Ethernet
from minternet.wire.ipv4 import IPv4
from minternet.wire.tcp import (MSS, NOP, TCP, Sack, SackPermitted, TCPFlags, Timestamps, WindowScale,
                                flags_str)

US, PEER = "10.0.0.1", "10.0.0.2"
PEER_MAC = b"\x02\xaa\x00\x00\x00\x02"
PEER_PORT = 40000
LETTERS = {"S": TCPFlags.SYN, "F": TCPFlags.FIN, "R": TCPFlags.RST, "P": TCPFlags.PSH, ".": TCPFlags.ACK,
           "U": TCPFlags.URG, "E": TCPFlags.ECE, "W": TCPFlags.CWR}


class ScriptError(AssertionError):
    pass


@dataclass(frozen=True)
class RawOption:
    """Option bytes injected as they are, however wrong (``raw HEX`` in a script)."""
    data: bytes

    def encode(self) -> bytes:
        return self.data


@dataclass
class Line:
    number: int
    time: float
    kind: str  # "<", ">", or an action
    args: list[str] = field(default_factory=list)
    text: str = ""


def _flags(text: str) -> int:
    value = 0
    for ch in text:
        if ch not in LETTERS:
            raise ValueError(f"unknown flag letter {ch!r} in {text!r}")
        value |= LETTERS[ch]
    return value


def _options(text: str) -> list[tuple[str, list[str]]]:
    """'<mss 1460, sackOK, TS val=5 ecr=0, nop, wscale 7>' -> [(name, args), ...]."""
    inner = text.strip()[1:-1].strip()
    if not inner:
        return []
    return [(part.split()[0], part.split()[1:]) for part in inner.split(",")]


def parse(script: str) -> tuple[dict[str, str], list[Line]]:
    options: dict[str, str] = {}
    lines: list[Line] = []
    now = 0.0
    for number, raw in enumerate(script.splitlines(), start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        if text.startswith("tcp "):
            for item in text.split()[1:]:
                k, _, v = item.partition("=")
                options[k] = v
            continue
        when, _, rest = text.partition(" ")
        now = now + float(when[1:]) if when.startswith("+") else float(when)
        rest = rest.strip()
        if rest[0] in "<>":
            opt_text = rest[rest.index("<", 1):] if "<" in rest[1:] else ""
            head = rest[:len(rest) - len(opt_text)] if opt_text else rest
            words = head.split()
            lines.append(Line(number, now, words[0], words[1:] + ([opt_text] if opt_text else []), raw))
        else:
            words = rest.split()
            lines.append(Line(number, now, words[0], words[1:], raw))
    return options, lines


def _coerce(value: str):
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


class Harness:
    def __init__(self, options: dict[str, str], tolerance: float = 0.004, peer_isn: int = 1_000_000) -> None:
        self.net = Network(seed=1)
        self.host = self.net.add_host("us", {"eth0": f"{US}/24"})
        self.iface = self.host.interfaces["eth0"]
        self.sent: list[tuple[int, TCP]] = []
        self.iface.attach(self._capture)
        self.host.arp.entry_timeout = 10 ** 15  # before learning: the peer's entry never expires
        self.host.arp.learn(socket.inet_aton(PEER), PEER_MAC)
        for k, v in options.items():
            setattr(self.host.tcp.defaults, k, _coerce(v))
        self.tolerance = int(tolerance * 1e9)
        self.listener = None
        self.conn = None
        self.our_iss: int | None = None
        self.iss_by_port: dict[int, int] = {}  # our ISS for each peer port
        self.matched: list[TCP] = []  # the segments we sent that ">" lines matched, in order
        self.peer_isn: int | None = None
        self.peer_isn_at_syn = peer_isn % 2**32
        self.local_port = 8080
        self.peer_port = PEER_PORT

    def _capture(self, frame: bytes) -> None:
        eth = Ethernet.decode(frame)
        if eth.ethertype != 0x0800:
            return
        ip = IPv4.decode(eth.payload)
        if ip.proto != 6:
            return
        self.sent.append((self.net.scheduler.now, TCP.decode(ip.payload, ip.src, ip.dst)))

    # -- running -------------------------------------------------------------------------------------
    def run(self, lines: list[Line]) -> None:
        for line in lines:
            self.net.scheduler.run_until(int(round(line.time * 1e9)))
            if line.kind != ">":
                self._no_unexpected(line)
            try:
                getattr(self, "do_" + {"<": "inject", ">": "expect"}.get(line.kind, line.kind))(line)
            except ScriptError:
                raise
            except Exception as exc:  # noqa: BLE001 - report with the line
                raise ScriptError(f"line {line.number}: {line.text.strip()}: {type(exc).__name__}: {exc}") from exc
        self.net.scheduler.run_until(self.net.scheduler.now + 1)
        self._no_unexpected(None)

    def _no_unexpected(self, line: Line | None) -> None:
        if self.sent:
            t, seg = self.sent[0]
            where = f"before line {line.number} ({line.text.strip()})" if line else "at the end"
            raise ScriptError(f"unexpected segment {where}: at {t / 1e9:.3f}s {self._describe(seg)}")

    def _iss(self, peer_port: int) -> int:
        return self.iss_by_port.get(peer_port, self.our_iss or 0)

    def _describe(self, seg: TCP) -> str:
        seq = (seg.seq - self._iss(seg.dport)) % 2**32
        ack = (seg.ack - (self.peer_isn or 0)) % 2**32 if seg.flags & TCPFlags.ACK else None
        opts = ", ".join(type(o).__name__ for o in seg.options)
        return (f"{flags_str(seg.flags)} seq={seq}" + (f" ack={ack}" if ack is not None else "")
                + (f" port={seg.dport}" if seg.dport != self.peer_port else "")
                + f" win={seg.window} len={len(seg.payload)}" + (f" <{opts}>" if opts else ""))

    # -- segments ------------------------------------------------------------------------------------
    def _fields(self, args: list[str]) -> tuple[int, dict[str, str], str | None]:
        flags = _flags(args[0])
        fields = {}
        opts = None
        for a in args[1:]:
            if a.startswith("<"):
                opts = a
            else:
                k, _, v = a.partition("=")
                fields[k] = v
        return flags, fields, opts

    def do_inject(self, line: Line) -> None:
        flags, f, opts = self._fields(line.args)
        if flags & TCPFlags.SYN and self.peer_isn is None:
            self.peer_isn = self.peer_isn_at_syn  # the peer's ISN: its relative 0
        base = self.peer_isn or 0
        seq = (base + int(f.get("seq", "0"))) % 2**32
        sport = int(f.get("port", self.peer_port))
        ack = (int(f.get("ack", "0")) + self._iss(sport)) % 2**32 if flags & TCPFlags.ACK else 0
        options = []
        for name, oargs in _options(opts) if opts else []:
            if name == "mss":
                options.append(MSS(int(oargs[0])))
            elif name == "sackOK":
                options.append(SackPermitted())
            elif name == "nop":
                options.append(NOP())
            elif name == "wscale":
                options.append(WindowScale(int(oargs[0])))
            elif name == "TS":
                kv = dict(x.split("=") for x in oargs)
                ecr = int(kv["ecr"])
                options.append(Timestamps(int(kv["val"]), ecr))
            elif name == "sack":
                # The peer SACKs our data: relative to our ISS, like ack=.
                ours = self.our_iss or 0
                blocks = []
                for b in oargs:
                    left, right = b.split(":")
                    blocks.append(((ours + int(left)) % 2**32, (ours + int(right)) % 2**32))
                options.append(Sack(tuple(blocks)))
            elif name == "raw":  # bytes as they are, bad ones included: <raw 0800>
                options.append(RawOption(bytes.fromhex("".join(oargs))))
            else:
                raise ValueError(f"unknown option {name}")
        payload = bytes(int(f.get("len", "0")))
        seg = TCP(sport, self.local_port, seq, ack, flags, int(f.get("win", "65535")), payload, 0, tuple(options))
        ip = IPv4(PEER, US, 6, seg.encode(PEER, US), ttl=64)
        frame = self.iface.mac + PEER_MAC + b"\x08\x00" + ip.encode()
        self.iface.receive(frame)

    def _expect_segment(self, line: Line) -> None:
        if not self.sent:
            raise ScriptError(f"line {line.number}: expected {' '.join(line.args)} but nothing was sent")
        t, seg = self.sent.pop(0)
        self.matched.append(seg)
        want_t = int(round(line.time * 1e9))
        if abs(t - want_t) > self.tolerance:
            raise ScriptError(f"line {line.number}: segment {self._describe(seg)} sent at {t / 1e9:.4f}s, "
                              f"expected at {line.time:.4f}s")
        flags, f, opts = self._fields(line.args)
        if flags & TCPFlags.SYN and seg.flags & TCPFlags.SYN and seg.dport not in self.iss_by_port:
            self.iss_by_port[seg.dport] = seg.seq
            if self.our_iss is None:
                self.our_iss = seg.seq
        problems = []
        if seg.flags != flags:
            problems.append(f"flags {flags_str(seg.flags)} != {flags_str(flags)}")
        if seg.dport != int(f.get("port", self.peer_port)):
            problems.append(f"port {seg.dport} != {f.get('port', self.peer_port)}")
        rel_seq = (seg.seq - self._iss(seg.dport)) % 2**32
        if "seq" in f and f["seq"] != "*" and rel_seq != int(f["seq"]):
            problems.append(f"seq {rel_seq} != {f['seq']}")
        if "ack" in f and f["ack"] != "*":
            rel_ack = (seg.ack - (self.peer_isn or 0)) % 2**32
            if rel_ack != int(f["ack"]):
                problems.append(f"ack {rel_ack} != {f['ack']}")
        if "win" in f and f["win"] != "*" and seg.window != int(f["win"]):
            problems.append(f"win {seg.window} != {f['win']}")
        if "len" in f and len(seg.payload) != int(f["len"]):
            problems.append(f"len {len(seg.payload)} != {f['len']}")
        elif "len" not in f and seg.payload and not flags & TCPFlags.SYN:
            problems.append(f"len {len(seg.payload)} != 0")
        if opts is not None:
            problems.extend(self._check_options(seg, opts))
        if problems:
            raise ScriptError(f"line {line.number}: {line.text.strip()}\n  got {self._describe(seg)}\n  "
                              + "; ".join(problems))

    def _check_options(self, seg: TCP, text: str) -> list[str]:
        want = _options(text)
        got = [o for o in seg.options]
        names = {"MSS": "mss", "SackPermitted": "sackOK", "NOP": "nop", "WindowScale": "wscale",
                 "Timestamps": "TS", "Sack": "sack", "EOL": "eol"}
        got_names = [names.get(type(o).__name__, type(o).__name__) for o in got]
        if [w[0] for w in want] != got_names:
            return [f"options {got_names} != {[w[0] for w in want]}"]
        problems = []
        for (name, args), o in zip(want, got):
            if name == "mss" and args and args[0] != "*" and o.value != int(args[0]):
                problems.append(f"mss {o.value} != {args[0]}")
            if name == "wscale" and args and args[0] != "*" and o.shift != int(args[0]):
                problems.append(f"wscale {o.shift} != {args[0]}")
            if name == "TS":
                kv = dict(x.split("=") for x in args)
                if kv.get("ecr", "*") != "*" and o.tsecr != int(kv["ecr"]):
                    problems.append(f"TS ecr {o.tsecr} != {kv['ecr']}")
            if name == "sack":
                base = self.peer_isn or 0
                blocks = [f"{(l - base) % 2**32}:{(r - base) % 2**32}" for l, r in o.blocks]
                if args and blocks != args:
                    problems.append(f"sack {blocks} != {args}")
        return problems

    # -- actions -------------------------------------------------------------------------------------
    def do_listen(self, line: Line) -> None:
        self.local_port = int(line.args[0])
        kw = dict(a.split("=") for a in line.args[1:])
        self.listener = self.host.tcp.listen("0.0.0.0", self.local_port, int(kw.get("backlog", 128)))

    def do_connect(self, line: Line) -> None:
        self.conn = self.host.tcp.connect((PEER, int(line.args[0])), (US, 8080))
        self.local_port = 8080
        self.peer_port = int(line.args[0])

    def do_accept(self, line: Line) -> None:
        if not self.listener.accept_queue:
            raise ScriptError(f"line {line.number}: nothing to accept")
        self.conn = self.listener.accept_queue.popleft()

    def do_write(self, line: Line) -> None:
        n = int(line.args[0])
        written = self.conn.write(bytes(n))
        assert written == n, f"only {written} of {n} bytes fit the send buffer"

    def do_read(self, line: Line) -> None:
        n = int(line.args[0])
        data = self.conn.read(n)
        if len(data) != n:
            raise ScriptError(f"line {line.number}: read {len(data)} bytes, expected {n}")

    def do_close(self, line: Line) -> None:
        self.conn.shutdown_write()

    def do_close_socket(self, line: Line) -> None:
        self.conn.close()

    def do_shutdown_read(self, line: Line) -> None:
        self.conn.shutdown_read()

    def do_abort(self, line: Line) -> None:
        self.conn.abort()

    def do_expect_state(self, name: str, line: Line) -> None:
        if self.conn.state.value != name:
            raise ScriptError(f"line {line.number}: state {self.conn.state.value}, expected {name}")

    def do_expect(self, line: Line) -> None:
        """Both ">" (a segment we must send) and "expect ..." (a check)."""
        if line.kind == "expect":
            what = line.args[0]
            if what == "state":
                self.do_expect_state(line.args[1], line)
            elif what == "error":
                code = getattr(errno, line.args[1])
                if self.conn.error != code:
                    raise ScriptError(f"line {line.number}: error {errno.errorcode.get(self.conn.error)}, "
                                      f"expected {line.args[1]}")
            elif what == "eof":
                if not self.conn.eof:
                    raise ScriptError(f"line {line.number}: no EOF yet")
            return
        self._expect_segment(line)


def run_script(script: str, tolerance: float = 0.004, peer_isn: int = 1_000_000) -> Harness:
    options, lines = parse(script)
    h = Harness(options, tolerance, peer_isn)
    h.run(lines)
    return h
