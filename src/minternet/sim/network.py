"""The simulated world: nodes, links, a timeline of faults, one virtual clock.

Build it from Python::

    net = Network(seed=1)
    client = net.add_host("client", {"eth0": "10.0.1.10/24"}, gateway="10.0.1.1")
    r1 = net.add_router("r1", {"eth0": "10.0.1.1/24", "eth1": "10.0.2.1/24"})
    server = net.add_host("server", {"eth0": "10.0.2.10/24"}, gateway="10.0.2.1")
    net.connect("client:eth0", "r1:eth0", delay="5ms", bandwidth="100Mbps")
    net.connect("r1:eth1", "server:eth0", delay="5ms")
    result = net.run_app(ping(client, "10.0.2.10", count=3))

or from a topology file with :func:`minternet.sim.topology.load`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import socket
from collections import Counter
from dataclasses import replace
from typing import Any, Awaitable, Callable, TypeVar

from ..host import Host, Router
from ..internet.routing import Route
from ..link.interface import Interface
from ..observe.keylog import FILENAME as KEYLOG_FILENAME, KeyLog
from ..observe.trace import JsonLinesSink, TimelinePrinter, Tracer
from ..wire.pcap import PcapWriter
from .dns_registrar import DNSRegistrar
from .lazyrandom import LazyRandom
from .link import Link, LinkParams
from ..programs.context import host_context
from ..programs.loop import ProgramLoop
from .loop import VirtualTimeLoop
from .names import check_node_name
from .routes import route_entries
from .scheduler import Scheduler
from .switch import Switch, SwitchPort
from .units import parse_rate, parse_time

T = TypeVar("T")
_tuple_new = tuple.__new__  # a Route built without NamedTuple's __new__ (a million routes: seconds)


class IfaceEnd:
    """Adapts a host's interface to a link end."""

    __slots__ = ("iface", "node_name", "port_name", "receive")

    def __init__(self, iface: Interface) -> None:
        self.iface = iface
        self.node_name = iface.node.name
        self.port_name = iface.name
        self.receive = iface.receive

    @property
    def alive(self) -> bool:
        return self.iface.node.up and self.iface.up


def _whole(key: str, value: Any, unit: str) -> int:
    """A number given for a link parameter, as a whole number of ``unit``: ValueError naming the
    parameter for anything that is not a finite number (NaN, infinity, a list)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{key} {value!r} is not a finite number of {unit} (or give a string like "
                         f"\"5ms\" or \"100Mbps\")") from None


def make_params(base: LinkParams | None = None, **kw: Any) -> LinkParams:
    """LinkParams from friendly values: ``delay="5ms"``, ``bandwidth="100Mbps"``, ``loss=0.01``."""
    p = base or LinkParams()
    changes: dict[str, Any] = {}
    for key, value in kw.items():
        if value is None and key not in ("bandwidth", "mtu", "reorder_delay"):
            continue
        if key in ("delay", "jitter", "reorder_delay") and value is not None:
            changes[key] = parse_time(value) if isinstance(value, str) else _whole(key, value, "ns")
        elif key == "bandwidth" and value is not None:
            changes[key] = parse_rate(value) if isinstance(value, str) else _whole(key, value, "bit/s")
        else:
            changes[key] = value
    return replace(p, **changes)




class Network:
    """A simulated internet. Deterministic: the same build and seed give the same run."""

    def __init__(self, seed: int = 0, reconverge: str | int | None = "1s", name: str = "network") -> None:
        self.seed = seed
        self.name = name
        self.scheduler = Scheduler()
        self.tracer = Tracer(self.scheduler)
        self.nodes: dict[str, Host | Switch] = {}
        self.links: list[Link] = []
        self.stats: Counter[str] = Counter()
        self.reconverge: int | None = parse_time(reconverge) if isinstance(reconverge, str) else reconverge
        self.started = False
        self._loop: VirtualTimeLoop | None = None
        self._ends: dict[tuple[str, str], IfaceEnd] = {}
        self._pcaps: list[PcapWriter] = []
        self._reconverge_pending = False
        self._closers: list[Callable[[], None]] = []
        self._dns: DNSRegistrar | None = None
        self._ca: Any = None
        self._keylog: str | None = None
        self._tasks: set[asyncio.Task] = set()
        # The TLS/QUIC secrets of the run's programs: kept in memory so that the trace, diagrams
        # and live view can open QUIC packets; written beside the pcaps once capture() is called.
        self.keylog: KeyLog = KeyLog()
        self._secure: Any = None

    # -- randomness -------------------------------------------------------------------------------
    def rng_for(self, *names: object) -> random.Random:
        """A random source of its own for every component, derived from the seed and its name,
        so adding a link does not change the losses of another."""
        return random.Random(self._seed_for(names))

    def _seed_for(self, names: tuple[object, ...]) -> str:
        return "/".join([str(self.seed), *map(str, names)])

    # -- building ---------------------------------------------------------------------------------
    def check_new_name(self, name: object) -> str:
        """``name`` if a new node may take it (the rule is :func:`~minternet.sim.names.check_node_name`,
        and it must not be taken); ValueError otherwise."""
        valid = check_node_name(name)
        if valid in self.nodes:
            raise ValueError(f"there is already a node named {valid!r}; names must be unique")
        return valid

    def add_host(self, name: str, interfaces: dict[str, Any] | None = None, gateway: str | None = None,
                 forwarding: bool = False) -> Host:
        """Add a host (a router when ``forwarding``) with interfaces ``{"eth0": "10.0.1.10/24"}``
        (or ``{"eth0": {"address": ..., "mtu": ..., "mac": ...}}``)."""
        self.check_new_name(name)
        cls = Router if forwarding else Host
        # The same numbers as rng_for("host", name), without a generator held while the host is idle.
        node = cls(name, self.scheduler, LazyRandom(self._seed_for(("host", name))), self.tracer)
        node._spawn = self.spawn
        node.pki = self._host_certificates(node)
        node.keylog = self.keylog
        self.nodes[name] = node
        index = len(self.nodes)
        for i, (ifname, spec) in enumerate((interfaces or {}).items(), start=1):
            if isinstance(spec, str):
                spec = {"address": spec}
            mac = spec.get("mac")
            if isinstance(mac, str):
                from ..wire.ethernet import mac_from_str
                mac = mac_from_str(mac)
            if mac is None:
                mac = bytes((0x02, 0, 0, index >> 8 & 0xFF, index & 0xFF, i & 0xFF))
            node.add_interface(ifname, spec.get("address"), mac=mac, mtu=spec.get("mtu", 1500))
        if gateway:
            node.set_gateway(gateway)
        return node

    def add_router(self, name: str, interfaces: dict[str, Any] | None = None) -> Router:
        return self.add_host(name, interfaces, forwarding=True)  # type: ignore[return-value]

    def add_switch(self, name: str) -> Switch:
        self.check_new_name(name)
        sw = Switch(self, name)
        self.nodes[name] = sw
        return sw

    def host(self, name: str) -> Host:
        node = self.nodes.get(name)
        if not isinstance(node, Host):
            raise KeyError(f"no host or router named {name!r} (have: {', '.join(sorted(self.nodes))})")
        return node

    __getitem__ = host

    @property
    def hosts(self) -> list[Host]:
        return [n for n in self.nodes.values() if isinstance(n, Host)]

    def _release_end(self, end: Any) -> None:
        if isinstance(end, IfaceEnd):
            self._ends.pop((end.iface.node.name, end.iface.name), None)
        elif isinstance(end, SwitchPort) and end in end.switch.ports:
            end.switch.ports.remove(end)

    def _endpoint(self, spec: str | Interface | Switch, other: Any = None):
        if isinstance(spec, Switch):
            return spec.new_port()
        if isinstance(spec, Interface):
            iface = spec
        else:
            node_name, _, ifname = spec.partition(":")
            node = self.nodes.get(node_name)
            if node is None:
                raise ValueError(f"no node named {node_name!r} (have: {', '.join(sorted(self.nodes))})")
            if isinstance(node, Switch):
                return node.new_port()
            if ifname not in node.interfaces:
                raise ValueError(f"{node_name} has no interface {ifname!r} "
                                 f"(has: {', '.join(node.interfaces) or 'none'})")
            iface = node.interfaces[ifname]
        key = (iface.node.name, iface.name)
        if key in self._ends:
            if other is not None and self._ends[key] is other:
                raise ValueError(f"{key[0]}:{key[1]} is given for both ends of the link")
            raise ValueError(f"{key[0]}:{key[1]} is already connected to a link")
        end = self._ends[key] = IfaceEnd(iface)
        return end

    def connect(self, a: str | Interface | Switch, b: str | Interface | Switch,
                cost: float | tuple[float, float] | None = None, name: str | None = None,
                params: LinkParams | None = None, back: dict[str, Any] | None = None, **kw: Any) -> Link:
        """Connect two interfaces ("node:iface"), or an interface and a switch, with a cable.

        Keyword arguments are :class:`LinkParams` fields with friendly units (``delay="5ms"``,
        ``bandwidth="100Mbps"``, ``loss=0.01``); ``back`` overrides some of them for the b->a
        direction; ``cost`` is one number or (a->b, b->a)."""
        p_ab = make_params(params, **kw)
        p_ba = make_params(p_ab, **back) if back else p_ab
        if isinstance(cost, (int, float)):
            cost = (float(cost), float(cost))
        end_a, end_b = self._endpoint(a), None
        try:
            end_b = self._endpoint(b, end_a)
            link = Link(self, end_a, end_b, p_ab, p_ba, cost, name)
        except BaseException:
            # Nothing of a refused link stays: its interfaces can be connected again.
            for end in (end_a, end_b):
                self._release_end(end)
            raise
        for end, ch in ((end_a, link.ab), (end_b, link.ba)):
            if isinstance(end, IfaceEnd):
                end.iface.attach(ch.send)
            else:
                end.channel = ch
        link.mtu_to_interfaces()
        self.links.append(link)
        return link

    def link(self, name: str) -> Link:
        """A link by its name, or by one of its ends ("r1:eth1")."""
        for link in self.links:
            if link.name == name:
                return link
        for link in self.links:
            for end in link.ends():
                if f"{end.node_name}:{end.port_name}" == name:
                    return link
        raise KeyError(f"no link named or attached at {name!r}")

    # -- names and addresses --------------------------------------------------------------------------
    def address_of(self, name_or_address: str) -> str:
        """A node name gives its first address; an address is returned as it is."""
        node = self.nodes.get(name_or_address)
        if isinstance(node, Host):
            if node.address is None:
                raise ValueError(f"{name_or_address} has no address")
            return node.address
        try:
            socket.inet_aton(name_or_address)
        except OSError:
            raise ValueError(f"{name_or_address!r} is neither a node of this network nor an IPv4 address "
                             f"(nodes: {', '.join(sorted(n for n, x in self.nodes.items() if isinstance(x, Host)))})") from None
        return name_or_address

    def name_of(self, address: str) -> str | None:
        """Reverse lookup, like /etc/hosts: which node has this address."""
        for node in self.hosts:
            if address in node.addresses:
                return node.name
        return None

    # -- names ------------------------------------------------------------------------------------
    @property
    def dns(self) -> DNSRegistrar:
        """The network's DNS: ``net.dns.add_root(host)``, ``add_tld("com", host)``,
        ``register("example.com", address, server_host)``, ``add_resolver(host)``."""
        if self._dns is None:
            self._dns = DNSRegistrar(self)
        return self._dns

    # -- routing ----------------------------------------------------------------------------------
    def compute_routes(self) -> None:
        """(Re)install shortest-path routes; static and default routes are left alone. Routes are
        computed for the nodes that use them (routers, and hosts without a default route) and each
        table is built once; a table the change left as it was stays untouched."""
        # Millions of tuples are made here and none is garbage of a cycle: without the cyclic
        # collector, which would otherwise walk every route installed so far, again and again.
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            self._install_routes()
        finally:
            if gc_was_on:
                gc.enable()

    def _install_routes(self) -> None:
        needs = [node.name for node in self.hosts
                 if node.up and (node.forwarding or not any(r.origin == "default" for r in node.routes.routes()))]
        table = route_entries(self, needs)
        trace = self.started and self.tracer.enabled
        for node in self.hosts:
            if not node.up:
                continue  # a dead node keeps its table; it is recomputed when it comes back
            before = set(node.routes.routes("computed")) if trace else None
            # A host with a gateway sends everything off-link there: no computed routes.
            entries = table.get(node.name, ())
            tails = {hop: (node.interfaces[hop[0]], hop[1], 0, "computed") for hop in {hop for _, hop in entries}}
            new = [_tuple_new(Route, key + tails[hop]) for key, hop in entries]
            if not node.routes.replace("computed", new) or before is None:
                continue
            after = set(new)
            for text in sorted(str(r) for r in after - before):
                self.tracer.emit(node.name, None, "route", "add", text=text)
            for text in sorted(str(r) for r in before - after):
                self.tracer.emit(node.name, None, "route", "remove", text=text)

    def _topology_changed(self) -> None:
        if self.reconverge is None or self._reconverge_pending:
            return
        self._reconverge_pending = True

        def reconverge() -> None:
            self._reconverge_pending = False
            self.stats["routing.reconvergences"] += 1
            self.compute_routes()
        self.scheduler.call_later(self.reconverge, reconverge)

    # -- faults -----------------------------------------------------------------------------------
    def _fault(self, node: str, text: str) -> None:
        self.stats["faults"] += 1
        if self.tracer.enabled:
            self.tracer.emit(node, None, "fault", "fault", text=text)

    def node_down(self, name: str) -> None:
        node = self.nodes[name]
        node.power_off()
        self._fault(name, f"{name} goes down")
        self._topology_changed()

    def node_up(self, name: str) -> None:
        node = self.nodes[name]
        node.power_on()
        self._fault(name, f"{name} comes back up")
        self._topology_changed()

    def link_down(self, link: Link | str) -> None:
        link = self.link(link) if isinstance(link, str) else link
        link.up = False
        self._fault(link.a.node_name, f"link {link.name} goes down")
        self._topology_changed()

    def link_up(self, link: Link | str) -> None:
        link = self.link(link) if isinstance(link, str) else link
        link.up = True
        self._fault(link.a.node_name, f"link {link.name} comes back up")
        self._topology_changed()

    def set_link(self, link: Link | str, **changes: Any) -> None:
        """Change a link's behaviour now: ``net.set_link("r1:eth1", loss=0.2, delay="50ms")``."""
        link = self.link(link) if isinstance(link, str) else link
        params = make_params(link.ab.params, **changes)
        diff = {k: getattr(params, k) for k in changes}
        link.set_params(**diff)
        self._fault(link.a.node_name, f"link {link.name} now: {link.describe()}")

    # -- TLS --------------------------------------------------------------------------------------
    @property
    def ca(self) -> Any:
        """The simulated internet's certificate authority (made on first use, keys from the seed):
        every host's clients trust it, and a host's TLS server gets from it a certificate for each
        DNS name that points at the host. ``net.ca.write_pem(path)`` exports it."""
        if self._ca is None:
            from ..application.tls.ca import CertificateAuthority
            self._ca = CertificateAuthority(rng=self.rng_for("pki"))
            if self._keylog:
                self._ca.keylog_file = self._keylog
        return self._ca

    def _host_certificates(self, node: Host) -> Any:
        from .pki import NodeCertificates
        return NodeCertificates(self, node)

    def at(self, when: str | int, action: Callable[..., Any], *args: Any) -> None:
        """Schedule ``action(*args)`` at a virtual time ("2s" or nanoseconds)."""
        t = parse_time(when) if isinstance(when, str) else when
        self.scheduler.call_at(t, action, *args)

    # -- observation ------------------------------------------------------------------------------
    def capture(self, directory: str, nanosecond: bool = False) -> list[str]:
        """Write a pcap per interface into ``directory`` (``node-iface.pcap``), like tcpdump -i on
        each. Returns the file paths. The TLS/QUIC secrets of the programs' connections go beside
        them, in ``sslkeylog.txt`` (SSLKEYLOGFILE format): ``tshark -o tls.keylog_file:PATH``."""
        os.makedirs(directory, exist_ok=True)
        if self.keylog.path is None:
            self.keylog.write_to(os.path.join(directory, KEYLOG_FILENAME))
            self._closers.append(self.keylog.close)
        paths = []
        for node in self.hosts:
            for iface in node.interfaces.values():
                if not iface.attached:
                    continue
                path = os.path.join(directory, f"{node.name}-{iface.name}.pcap")
                writer = PcapWriter(path, nanosecond=nanosecond)
                self._pcaps.append(writer)
                iface.taps.append(lambda t, frame, _d, w=writer: w.write(t, frame))
                paths.append(path)
        # The TLS secrets beside the pcaps, so that Wireshark can decrypt them: OpenSSL appends
        # TLS-over-TCP secrets to the key log's file, aioquic writes QUIC's through the KeyLog (the
        # file appears with the first secret: a run without TLS leaves none).
        self._keylog = self.keylog.path
        if self._ca is not None:
            self._ca.keylog_file = self._keylog
        return paths

    @property
    def keylog_file(self) -> str | None:
        """Where TLS secrets are written (SSLKEYLOGFILE format): beside the pcaps, if any."""
        return self._keylog

    @property
    def secure(self) -> Any:
        """The reader of TLS records and QUIC packets for this run's displays (a
        :class:`~minternet.observe.secure.SecureDecoder` with the run's key log)."""
        if self._secure is None:
            from ..observe.secure import SecureDecoder
            self._secure = SecureDecoder(self.keylog)
        return self._secure

    def trace_to(self, path: str) -> None:
        """Write every trace event to ``path`` as JSON lines (TLS and QUIC read as layers). The
        QUIC secrets go beside it (``sslkeylog.txt``), so that ``minternet diagram`` and the
        replayed live view can open its QUIC packets later."""
        stream = open(path, "w", encoding="utf-8")
        self.keylog.mirror_to(os.path.join(os.path.dirname(os.path.abspath(path)), KEYLOG_FILENAME))
        self._closers.append(self.keylog.close)
        self.tracer.subscribe(JsonLinesSink(stream, secure=self.secure))
        self._closers.append(stream.close)

    def print_timeline(self, stream, **filters: Any) -> None:
        self.tracer.subscribe(TimelinePrinter(stream, secure=self.secure, **filters))

    def close(self) -> None:
        """Stop background programs, flush and close captures and traces."""
        if self._loop is not None and not self._loop.is_closed():
            # Every program still running on our loop: spawned servers, and the connection tasks
            # of stream servers they started.
            tasks = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for t in tasks:
                t.cancel()
            if tasks:
                self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()
        for w in self._pcaps:
            w.close()
        self._pcaps.clear()
        for c in self._closers:
            c()
        self._closers.clear()

    # -- running ----------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.scheduler.now

    @property
    def loop(self) -> VirtualTimeLoop:
        """The asyncio loop on the virtual clock; its networking methods are those of the host the
        calling program runs on (:mod:`minternet.programs`)."""
        if self._loop is None:
            self._loop = ProgramLoop(self.scheduler)
        return self._loop

    def start(self) -> None:
        """Compute routes and bring every node up (gratuitous ARP). Idempotent."""
        if self.started:
            return
        self.compute_routes()
        self.started = True
        for node in self.hosts:
            node.start()
        if self._dns is not None:
            self._dns.start()
        for node in self.hosts:
            if isinstance(node.rng, LazyRandom):
                node.rng.release()

    def run(self, until: str | int | None = None) -> None:
        """Run the network (and any application tasks) until virtual time ``until``."""
        self.start()
        limit = parse_time(until) if isinstance(until, str) else until
        if limit is None:
            self.scheduler.run_until(None)
            return
        loop = self.loop
        fut = loop.create_future()
        loop.call_at(limit / 1e9, lambda: fut.done() or fut.set_result(None))
        loop.run_until_complete(fut)
        if self.scheduler.now < limit:
            self.scheduler.now = limit

    def run_app(self, coro: Awaitable[T], timeout: str | int | None = None, on: str | Host | None = None) -> T:
        """Run a coroutine on the virtual clock until it finishes; the network runs meanwhile.
        With ``on``, it runs as a program of that host (see :meth:`spawn`)."""
        self.start()
        loop = self.loop
        if on is not None:
            coro = self.spawn(coro, on=on)
        if timeout is not None:
            t = parse_time(timeout) if isinstance(timeout, str) else timeout
            coro = asyncio.wait_for(coro, t / 1e9)
        return loop.run_until_complete(coro)

    def spawn(self, coro: Awaitable[Any], on: str | Host | None = None) -> asyncio.Task:
        """Start a coroutine as a background task (a server, say) on the virtual clock. With
        ``on`` (a host or its name) it is a program of that host: it and every task it starts use
        that host's network through the loop's own methods, so unmodified asyncio code (aiohttp,
        httpx, streams, UDP) runs there."""
        if on is not None:
            host = on if isinstance(on, Host) else self.host(on)
            task = self.loop.create_task(coro, context=host_context(host))  # type: ignore[arg-type]
        else:
            task = self.loop.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def counters(self) -> Counter[str]:
        """All drop and traffic counters of every node and of the links, summed."""
        total: Counter[str] = Counter(self.stats)
        for node in self.nodes.values():
            total.update(node.stats)
        return total
