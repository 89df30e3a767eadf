"""What the live view shows: a simulation run (or a recorded one) as a list of events.

A :class:`Session` owns a simulated :class:`~minternet.sim.network.Network`. The network's own
asyncio loop runs on virtual time and cannot run inside the web server's loop, so every call that
touches the simulation runs on one worker thread (``session.executor``), one at a time. The
server advances the session (``advance(t)``), then collects what happened (``drain()``).

Events go to the page as small dicts (``encode``): time, node, interface, layer, event, summary,
the protocol that colours it and, for a frame put on a link, its flight: which link, which way,
and when it arrives. The bytes stay here until the page asks for one event's layers.

A :class:`ReplaySession` plays a recorded trace (JSON lines) through the same interface.
"""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Iterable

from ..observe.trace import TraceEvent
from ..runtime import NS_PER_S
from ..sim.units import parse_time
from ..wire.pcap import PcapWriter
from .i18n import Message, catalogue
from .layers import describe, protocol
from .layout import layout

if TYPE_CHECKING:
    from ..sim.network import Network
    from ..sim.topology import Topology

# Link drops that happen at the sending end, on the same frame the send event just carried.
_SENDER_DROPS = {"link-loss", "queue-full", "mtu-exceeded", "link-down"}
APPS = ("ping", "traceroute", "dig", "transfer", "curl")


class ActionError(ValueError):
    """An action from the page that cannot be done; the message is shown to the user.

    Give a key of the catalogue (static/i18n.json) and its values, and the page shows the message
    in the reader's language; a plain sentence is shown as it is."""

    def __init__(self, key_or_text: str, **values: Any) -> None:
        self.message: str = Message(key_or_text, **values) if key_or_text in catalogue() else key_or_text
        super().__init__(str(self.message))

    def to_json(self) -> dict[str, Any]:
        return self.message.to_json() if isinstance(self.message, Message) else {"message": self.message}


def curl_available() -> Callable[..., Coroutine[Any, Any, Any]] | None:
    """The HTTP client's ``fetch``, when this version has the HTTP application."""
    try:
        from ..application.http.client import fetch
        from ..application.http.where import where_is  # noqa: F401 - used by Session._curl
    except ImportError:
        return None
    return fetch


def diagram_available() -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """``(build_diagram, to_svg)`` from minternet.observe.diagram, when this version has it."""
    try:
        from ..observe import diagram  # type: ignore[attr-defined]
        return diagram.build_diagram, diagram.to_svg
    except (ImportError, AttributeError):
        return None


class _SwitchPortTap:
    """Stands in for a switch port's outgoing channel to trace the frames a switch sends.

    Switches do not trace (they are wires to the hosts' stacks), but the animation needs each hop
    a frame takes, so the session emits a ``link send`` for the switch port, then sends."""

    __slots__ = ("channel", "tracer", "node", "port")

    def __init__(self, channel: Any, tracer: Any, node: str, port: str) -> None:
        self.channel = channel
        self.tracer = tracer
        self.node = node
        self.port = port

    def send(self, frame: bytes) -> None:
        if self.tracer.enabled:
            self.tracer.emit(self.node, self.port, "link", "send", frame=frame)
        self.channel.send(frame)

    def depart(self, frame: bytes) -> int | None:  # how a switch floods (one event for the copies)
        if self.tracer.enabled:
            self.tracer.emit(self.node, self.port, "link", "send", frame=frame)
        return self.channel.depart(frame)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)


def tap_switch_ports(net: "Network") -> None:
    """Trace the frames every switch of ``net`` sends (see _SwitchPortTap)."""
    for node in net.nodes.values():
        for port in getattr(node, "ports", ()):
            if port.channel is not None:
                port.channel = _SwitchPortTap(port.channel, net.tracer, node.name, port.port_name)


class BaseSession:
    """The events of a run and what the page can ask about them."""

    mode = "live"

    def __init__(self, net: "Network") -> None:
        self.net = net
        self.events: list[TraceEvent] = []
        self.encoded: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._tcp_lock = threading.Lock()
        self._tcpscan: Any = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minternet-sim")
        # (node, port) -> (link index, channel leaving that end, direction 0 = a->b, 1 = b->a)
        self._ends: dict[tuple[str, str], tuple[int, Any, int]] = {}
        for i, link in enumerate(net.links):
            self._ends[(link.a.node_name, link.a.port_name)] = (i, link.ab, 0)
            self._ends[(link.b.node_name, link.b.port_name)] = (i, link.ba, 1)
        self._last_send: dict[tuple[str, str], dict[str, Any]] = {}

    # -- what the page sees -----------------------------------------------------------------------
    @property
    def now(self) -> int:
        raise NotImplementedError

    def topology(self) -> dict[str, Any]:
        return layout(self.net)

    def features(self) -> dict[str, Any]:
        diagram = diagram_available() is not None
        return {"actions": self.mode == "live", "curl": self.mode == "live" and curl_available() is not None,
                "diagram": diagram,
                "diagram_note": "" if diagram else Message("diagram.missing")}

    def drain(self) -> list[dict[str, Any]]:
        """The events encoded since the last call (thread-safe)."""
        with self._lock:
            out, self._pending = self._pending, []
        return out

    def detail(self, index: int) -> dict[str, Any]:
        """Every layer and field of one event, and its bytes in hex."""
        if not 0 <= index < len(self.events):
            raise ActionError("err.no-event", i=index)
        ev = self.events[index]
        out = describe(ev.frame, ev.packet, secure=self._secure_until(index))
        out.update(self.encoded[index])
        return out

    def _secure_until(self, index: int) -> Any:
        """The run's TLS/QUIC reader, having read the packets sent before event ``index`` (where
        TLS records begin in a TCP stream, which QUIC connection IDs belong together)."""
        secure = self.net.secure
        start = getattr(self, "_secure_read", 0)
        for ev in self.events[start:index]:
            if ev.event == "send" and ev.layer == "link" and ev.frame is not None:
                secure.layer_of(ev.frame[14:])
        self._secure_read = max(start, index)
        return secure

    def _record(self, ev: TraceEvent, flight: list[int] | None = None) -> None:
        i = len(self.events)
        d: dict[str, Any] = {"i": i, "t": ev.time, "node": ev.node, "iface": ev.iface, "layer": ev.layer,
                             "event": ev.event, "summary": ev.summary,
                             "proto": protocol(ev.frame, ev.packet) or ev.layer}
        if ev.reason:
            d["reason"] = ev.reason
        if ev.layer == "link" and ev.iface is not None:
            key = (ev.node, ev.iface)
            if ev.event == "send":
                fl = flight if flight is not None else self._flight(key, ev)
                if fl is not None:
                    d["fl"] = fl
                self._last_send[key] = d
            elif ev.event == "recv" and flight is None:
                fl = self._arrival_flight(key, ev)
                if fl is not None:
                    d["fl"] = fl
            elif ev.event == "drop" and ev.reason in _SENDER_DROPS:
                last = self._last_send.get(key)
                if last is not None and last["t"] == ev.time and "fl" in last:
                    last["lost"] = ev.reason  # the frame never arrives: no dot crosses the link
                    d["fl"] = last["fl"]
        self.events.append(ev)
        self.encoded.append(d)
        with self._lock:
            self._pending.append(d)

    def _flight(self, key: tuple[str, str], ev: TraceEvent) -> list[int] | None:
        """[link index, direction, arrival time] of a frame put on the link at ``key`` now."""
        end = self._ends.get(key)
        if end is None or ev.frame is None:
            return None
        index, ch, direction = end
        p = ch.params
        start = max(ev.time, getattr(ch, "next_free", 0))  # waits for the frames queued before it
        ser = int(len(ev.frame) * 8e9 / p.bandwidth) if p.bandwidth else 0
        return [index, direction, start + ser + p.delay]

    def _arrival_flight(self, key: tuple[str, str], ev: TraceEvent) -> list[int] | None:
        """A flight known only from its arrival (see ReplaySession); live runs trace every send."""
        return None

    # -- export -------------------------------------------------------------------------------------
    def trace_jsonl(self) -> str:
        """The run as JSON lines (the format of ``--trace``, plus each frame's flight)."""
        lines = []
        for ev, d in zip(list(self.events), list(self.encoded)):
            obj = ev.to_dict()
            if "fl" in d:
                obj["flight"] = d["fl"]
            lines.append(json.dumps(obj, sort_keys=True, separators=(",", ":")))
        return "\n".join(lines) + ("\n" if lines else "")

    def pcap(self) -> bytes:
        """Every frame put on any link, once per hop, in time order (like tcpdump on every
        interface at once)."""
        buf = io.BytesIO()
        writer = PcapWriter(buf, nanosecond=True)
        for ev in list(self.events):
            if ev.layer == "link" and ev.event == "send" and ev.frame is not None:
                writer.write(ev.time, ev.frame)
        writer.flush()
        return buf.getvalue()

    def diagram_svg(self) -> str:
        funcs = diagram_available()
        if funcs is None:
            raise ActionError("diagram.missing")
        build, to_svg = funcs
        # Without the hops the session traces for switches: the diagram has a lane per host.
        switches = {name for name, node in self.net.nodes.items() if getattr(node, "kind", None) == "switch"}
        return to_svg(build([ev for ev in list(self.events) if ev.node not in switches],
                            keylog=getattr(self.net, "keylog", None)))

    def tcp_series(self, index: int | None = None, conn: str | None = None) -> dict[str, Any]:
        """The TCP plot's series (see observe.tcpplot) of the connection event ``index`` belongs
        to, or of ``conn`` (``a:p-b:q`` or a port), with the list of every connection so far."""
        from ..observe import tcpplot
        with self._tcp_lock:  # not self._lock: the simulation's thread keeps recording meanwhile
            if self._tcpscan is None:
                self._tcpscan = tcpplot.Scan()  # fed as the run goes: each request reads only the new events
            scan = self._tcpscan
            tcpplot.scan(self.events[scan.events:len(self.encoded)], into=scan)
            conns = tcpplot.connections(scan)
            if index is not None:
                if not 0 <= index < len(self.events):
                    raise ActionError("err.no-event", i=index)
                conn = tcpplot.conn_of(self.events[index])
                if conn is None:
                    raise ActionError("err.not-tcp", i=index)
            try:
                chosen = tcpplot.pick(conns, conn)
            except ValueError as exc:
                raise ActionError(str(exc)) from None
            series = tcpplot.build_series(scan, chosen).to_json()
        series["connections"] = [c.label for c in conns]
        series["now"] = self.now
        return series

    # -- running ------------------------------------------------------------------------------------
    def advance(self, to_ns: int) -> None:
        raise NotImplementedError

    def next_time(self) -> int | None:
        raise NotImplementedError

    def step(self) -> int:
        """Run up to the next thing that happens; returns the new time."""
        t = self.next_time()
        if t is not None:
            self.advance(max(t, self.now))
        return self.now

    def act(self, cmd: dict[str, Any]) -> str:
        raise ActionError("err.recorded")

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class Session(BaseSession):
    """A live simulation the page can watch and change."""

    mode = "live"

    def __init__(self, topo: "Topology") -> None:
        super().__init__(topo.network)
        self.topo = topo
        net = self.net
        net.tracer.subscribe(self._record)
        tap_switch_ports(net)
        self.executor.submit(net.start).result()

    @property
    def now(self) -> int:
        return self.net.scheduler.now

    def next_time(self) -> int | None:
        """When the next thing happens: a packet event, or a program's timer (ping's interval)."""
        t = self.net.scheduler.next_time()
        loop = self.net._loop
        if loop is not None:
            # Programs' timers live in asyncio's own heap, not in the scheduler's.
            when = loop.next_timer()
            if when is not None:
                tl = max(self.net.now, int(round(when * 1e9)))
                t = tl if t is None else min(t, tl)
        return t

    def advance(self, to_ns: int) -> None:
        """Run the simulation (and the programs on it) up to virtual time ``to_ns``."""
        if to_ns > self.net.now:
            self.net.run(to_ns)

    def step(self) -> int:
        """Run what happens next (everything at that one moment); returns the new time."""
        t = self.next_time()
        if t is not None:
            self.net.run(max(t, self.net.now))  # events due now run too: run(now) is not a no-op
        return self.now

    def say(self, node: str, line: str) -> None:
        """A line of a program's output, as an event in the list."""
        if self.net.tracer.enabled:
            self.net.tracer.emit(node, None, "app", "output", text=line)

    def _spawn(self, node: str, title: str, coro: Coroutine[Any, Any, Any]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:  # noqa: BLE001 - the page shows it; the simulation goes on
                self.say(node, f"{title}: error: {exc}")
        self.say(node, f"$ {title}")
        self.net.spawn(run())

    def _link(self, cmd: dict[str, Any]) -> Any:
        try:
            return self.net.links[int(cmd["link"])]
        except (KeyError, ValueError, IndexError, TypeError):
            raise ActionError("err.no-link", link=cmd.get("link")) from None

    def act(self, cmd: dict[str, Any]) -> str:
        """Do what the page asks, now in virtual time. Returns a line for the page's status."""
        kind = cmd.get("cmd")
        net = self.net
        if kind == "node":
            name = str(cmd.get("name"))
            if name not in net.nodes:
                raise ActionError("err.no-node", name=name)
            (net.node_up if cmd.get("up") else net.node_down)(name)
            return Message("srv.node.up" if cmd.get("up") else "srv.node.down", name=name)
        if kind == "link":
            link = self._link(cmd)
            (net.link_up if cmd.get("up") else net.link_down)(link)
            return Message("srv.link.up" if cmd.get("up") else "srv.link.down", name=link.name)
        if kind == "set_link":
            link = self._link(cmd)
            changes: dict[str, Any] = {}
            if cmd.get("loss") not in (None, ""):
                loss = float(cmd["loss"])
                if not 0 <= loss <= 1:
                    raise ActionError("err.loss", loss=loss)
                changes["loss"] = loss
            if cmd.get("delay") not in (None, ""):
                delay = str(cmd["delay"]).strip()
                if delay.replace(".", "", 1).isdigit():
                    delay += "ms"  # a bare number in the page's delay box means milliseconds
                try:
                    changes["delay"] = parse_time(delay)
                except ValueError as exc:
                    raise ActionError("err.delay", error=exc) from None
            if not changes:
                raise ActionError("err.set-nothing")
            net.set_link(link, **changes)
            return Message("srv.link.set", name=link.name, describe=link.describe())
        if kind == "run":
            return self._run_app(cmd)
        raise ActionError("err.unknown-action", kind=kind)

    def _run_app(self, cmd: dict[str, Any]) -> str:
        net = self.net
        app = cmd.get("app")
        src = str(cmd.get("host", ""))
        target = str(cmd.get("target", "")).strip()
        try:
            host = net.host(src)
        except KeyError as exc:
            raise ActionError("err.target", error=exc.args[0]) from None
        if not host.up:
            raise ActionError("err.host-down", host=src)
        if not target:
            raise ActionError("err.no-target", app=app)

        def out(line: str) -> None:
            self.say(src, line)

        def address(name: str) -> str:
            try:
                return net.address_of(name)
            except ValueError as exc:
                raise ActionError("err.target", error=exc) from None

        if app == "ping":
            from ..application.ping import ping
            count = int(cmd.get("count") or 3)
            self._spawn(src, f"ping {target} -c {count}", ping(host, address(target), count=count, out=out))
        elif app == "traceroute":
            from ..application.traceroute import traceroute
            self._spawn(src, f"traceroute {target}",
                        traceroute(host, address(target), probes=1, wait=2 * NS_PER_S, name_of=net.name_of, out=out))
        elif app == "dig":
            self._spawn(src, f"dig {target}", self._dig(host, target, out))
        elif app == "transfer":
            from ..application.transfer import transfer
            dst = net.nodes.get(target)
            if dst is None or not hasattr(dst, "tcp"):
                raise ActionError("err.not-a-host", target=target)
            nbytes = int(cmd.get("bytes") or 20_000)

            async def run() -> None:
                result = await transfer(host, dst, nbytes, seed=net.seed)
                for line in result.report(src, target):
                    out(line)
            self._spawn(src, f"transfer {nbytes} bytes to {target} over TCP", run())
        elif app == "curl":
            curl = curl_available()
            if curl is None:
                raise ActionError("err.no-curl")
            self._spawn(src, f"curl {target}", self._curl(curl, host, target, out))
        else:
            raise ActionError("err.unknown-program", app=app, apps=", ".join(APPS))
        return Message("srv.started", app=app, host=src)

    async def _dig(self, host: Any, name: str, out: Callable[[str], None]) -> None:
        from ..wire.dns import RRType
        if not host.stub_resolver.nameservers:
            out(f"dig: {host.name} has no name server configured")
            return
        answer = await host.stub_resolver.query(name, RRType.A)
        text = answer.summary() if hasattr(answer, "summary") else str(answer)
        out(f"dig {name}: {text}")

    async def _curl(self, fetch: Callable[..., Any], host: Any, url: str, out: Callable[[str], None]) -> None:
        """GET a URL; like ``minternet curl``, start the built-in site where nothing listens yet."""
        from ..application.http.apps import builtin_site
        from ..application.http.client import split_url, url_scheme
        from ..application.http.where import where_is
        from ..application.http.server import serve
        name, port, _, _ = split_url(url)
        node = self.net.nodes.get(name)
        if node is not None and getattr(node, "address", None):
            host.stub_resolver.add_host(name, node.address)  # a node's name works, as in /etc/hosts
        address = where_is(self.net, host, name)
        owner = self.net.name_of(address) if address else None
        if owner is not None:
            server_host = self.net.host(owner)
            if not server_host.tcp.listening_on(port):
                https = url_scheme(url) == "https"  # HTTPS, and HTTP/3 beside it, as the CLI's curl
                server = await serve(server_host, port, builtin_site(), tls=https or None, http3=https)
                self.net.spawn(server.serve_forever())
                self.say(owner, f"HTTP server started on port {port} (the built-in site)")
        response = await fetch(host, url)
        out(f"curl {url}: HTTP {response.status} {response.reason} ({len(response.body)} bytes)")

    def close(self) -> None:
        try:
            self.executor.submit(self.net.close).result(timeout=10)
        finally:
            super().close()


class ReplaySession(BaseSession):
    """A recorded run (``--trace`` JSON lines) played back on the drawing of its topology."""

    mode = "replay"

    def __init__(self, net: "Network", records: Iterable[dict[str, Any]]) -> None:
        super().__init__(net)
        self._recorded: list[tuple[TraceEvent, list[int] | None]] = []
        for r in records:
            frame = bytes.fromhex(r["frame"]) if r.get("frame") else None
            packet = bytes.fromhex(r["packet"]) if r.get("packet") else None
            ev = TraceEvent(int(r["t_ns"]), r["node"], r.get("iface"), r["layer"], r["event"], r.get("reason"),
                            frame, packet, r.get("summary"))
            self._recorded.append((ev, r.get("flight")))
        self._recorded.sort(key=lambda x: x[0].time)  # stable: ties keep the file's order
        # A trace written by --trace has no sends from switches (only the live view traces them):
        # then the hop out of a switch is drawn from its arrival at the host.
        switches = {n for n, node in net.nodes.items() if getattr(node, "kind", None) == "switch"}
        self._switch_hops = bool(switches) and not any(ev.node in switches for ev, _ in self._recorded)
        self._next = 0
        self._now = 0

    @classmethod
    def from_file(cls, net: "Network", path: str) -> "ReplaySession":
        """Read a trace; errors name the file and line. The TLS/QUIC secrets of the run, when its
        key log (sslkeylog.txt) is beside the trace, let the packet view open QUIC packets."""
        import os
        from ..observe.keylog import FILENAME
        beside = os.path.join(os.path.dirname(os.path.abspath(path)), FILENAME)
        if os.path.exists(beside):
            with open(beside, encoding="ascii", errors="replace") as f:
                net.keylog.write(f.read())
        records = []
        try:
            with open(path, encoding="utf-8") as f:
                for no, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        r = json.loads(line)
                        int(r["t_ns"]), r["node"], r["layer"], r["event"]
                    except (ValueError, KeyError, TypeError) as exc:
                        raise ValueError(f"{path}:{no}: not a trace event ({exc}); expected the JSON lines "
                                         f"written by --trace or the page's export") from None
                    records.append(r)
        except OSError as exc:
            raise ValueError(f"cannot read the trace {path}: {exc.strerror}") from None
        return cls(net, records)

    @property
    def now(self) -> int:
        return self._now

    def unknown_nodes(self) -> list[str]:
        """Nodes the trace names that the drawn topology does not have (a wrong -t, say)."""
        return sorted({ev.node for ev, _ in self._recorded} - set(self.net.nodes) - {"timeline"})

    @property
    def end(self) -> int:
        return self._recorded[-1][0].time if self._recorded else 0

    def next_time(self) -> int | None:
        return self._recorded[self._next][0].time if self._next < len(self._recorded) else None

    def advance(self, to_ns: int) -> None:
        """Release the recorded events up to ``to_ns``."""
        rec = self._recorded
        while self._next < len(rec) and rec[self._next][0].time <= to_ns:
            ev, flight = rec[self._next]
            self._next += 1
            self._record(ev, flight)
        self._now = max(self._now, to_ns)

    def _arrival_flight(self, key: tuple[str, str], ev: TraceEvent) -> list[int] | None:
        """[link, direction, arrival, departure] of a frame that came from a switch port."""
        end = self._ends.get(key)
        if not self._switch_hops or end is None or ev.frame is None:
            return None
        index, _, out_direction = end
        link = self.net.links[index]
        incoming = link.ba if out_direction == 0 else link.ab
        if getattr(self.net.nodes.get(incoming.src.node_name), "kind", None) != "switch":
            return None
        p = incoming.params
        ser = int(len(ev.frame) * 8e9 / p.bandwidth) if p.bandwidth else 0
        return [index, 1 - out_direction, ev.time, ev.time - ser - p.delay]

    def _flight(self, key: tuple[str, str], ev: TraceEvent) -> list[int] | None:
        # No channel state in a recording: serialisation plus delay, without queueing.
        end = self._ends.get(key)
        if end is None or ev.frame is None:
            return None
        index, ch, direction = end
        p = ch.params
        ser = int(len(ev.frame) * 8e9 / p.bandwidth) if p.bandwidth else 0
        return [index, direction, ev.time + ser + p.delay]
