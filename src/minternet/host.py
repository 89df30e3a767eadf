"""A host: one protocol stack (interfaces, Ethernet with ARP, IPv4 with ICMP, UDP, TCP). A router
is a host with forwarding on.

The host only assembles and configures: it creates the layers, wires each to the narrow
interfaces of its neighbours (stack/), registers the transports with IP, and holds the
interfaces, routes and counters. Layers never call each other through it. The stack sees only a
clock, a seeded random source, a tracer and the devices behind its interfaces; the simulator and
the real (TAP) world each provide those.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from .internet.icmp import ICMPService
from .internet.ip import IPLayer
from .internet.routing import Route, RoutingTable
from .link.ethernet import EthernetLayer
from .link.interface import Interface
from .observe.trace import Tracer
from .runtime import Clock
from .stack.observer import Observer
from .transport.tcp.layer import TCPLayer
from .transport.udp import UDPLayer
from .wire.ipv4 import IPProto

LOOPBACK_MTU = 65536  # Linux's lo


class Host:
    """One machine's network stack."""

    forwarding = False
    kind = "host"

    def __init__(self, name: str, clock: Clock, rng: random.Random | None = None,
                 tracer: Tracer | None = None) -> None:
        self.name = name
        self.clock = clock
        self.rng = rng if rng is not None else random.Random(name)
        self.tracer = tracer if tracer is not None else Tracer(clock)
        self.obs = Observer(name, self.tracer)
        # Where TLS/QUIC programs on this host log their secrets (SSLKEYLOGFILE lines, a file-like
        # object); Network.capture sets one beside the pcaps so that Wireshark can decrypt them.
        self.keylog: Any = None
        self.stats: Counter[str] = self.obs.stats
        self.interfaces: dict[str, Interface] = {}
        self.routes = RoutingTable()
        self.ethernet = EthernetLayer(clock, self.obs)
        self.arp = self.ethernet.neighbors
        self.ip = IPLayer(clock, self.rng, self.obs, self.routes, self.interfaces, self.ethernet,
                          forwarding=self.forwarding)
        self.ethernet.register_ip(self.ip.receive, self.ip.link_resolution_failed)
        self.icmp = ICMPService(self.obs, self.ip)
        self.udp = UDPLayer(self.rng, self.obs, self.ip)
        self.tcp = TCPLayer(clock, self.rng, self.obs, self.ip)
        self.ip.register(IPProto.ICMP, self.icmp)
        self.ip.register(IPProto.UDP, self.udp)
        self.ip.register(IPProto.TCP, self.tcp)
        # Every host has a loopback interface, as real ones do. It is kept out of ``interfaces``
        # (the ones with a device: links, captures, ``address``) and its 127.0.0.0/8 out of the
        # main routing table, as Linux keeps it in the local table (``ip route show table local``).
        self.loopback = Interface(self.obs, clock, "lo", bytes(6), LOOPBACK_MTU, input=None, host=self)
        self.loopback.set_address("127.0.0.1/8")
        self.ip.loopback = self.loopback
        self._stub = None
        self._spawn = None  # set by the world that runs the host (sim: the Network)
        # The TLS certificates this host presents and the CA its clients trust
        # (application.tls.HostCertificates), set by the world (sim: the Network's CA).
        self.pki: Any = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {' '.join(i.cidr or i.name for i in self.interfaces.values())}>"

    # -- configuration ----------------------------------------------------------------------------
    def add_interface(self, name: str, address: str | None = None, mac: bytes | None = None,
                      mtu: int = 1500) -> Interface:
        """Add an interface, optionally with an address (``"10.0.1.10/24"``); adds the connected route."""
        if name in self.interfaces:
            raise ValueError(f"{self.name} already has an interface named {name!r}")
        if mac is None:
            mac = bytes((0x02, 0, 0, self.rng.randrange(256), self.rng.randrange(256), len(self.interfaces) + 1))
        iface = Interface(self.obs, self.clock, name, mac, mtu, input=self.ethernet.receive, host=self)
        self.interfaces[name] = iface
        if address is not None:
            self.set_address(name, address)
        return iface

    def set_address(self, iface_name: str, cidr: str) -> None:
        iface = self.interfaces[iface_name]
        self.routes.remove(origin="connected", iface=iface)
        iface.set_address(cidr)
        self.routes.add(f"{iface.address}/{iface.prefixlen}", iface, origin="connected")
        self.ip.update_addresses()

    def add_route(self, prefix: str, via: str | None = None, iface: str | None = None, metric: int = 0,
                  origin: str = "static") -> Route:
        """``ip route add PREFIX via GATEWAY [dev IFACE]``. The interface is found from the gateway
        when not given."""
        if iface is None:
            if via is None:
                raise ValueError("a route needs a gateway (via) or an interface")
            import socket
            gw = int.from_bytes(socket.inet_aton(via), "big")
            for candidate in self.interfaces.values():
                if candidate.on_link(gw):
                    iface = candidate.name
                    break
            else:
                raise ValueError(f"{self.name}: gateway {via} is not on any of its links "
                                 f"({', '.join(i.cidr for i in self.interfaces.values() if i.cidr)})")
        return self.routes.add(prefix, self.interfaces[iface], via, metric, origin)

    def set_gateway(self, via: str) -> Route:
        """The default route: ``ip route add default via GATEWAY``."""
        self.routes.remove(origin="default")
        return self.add_route("0.0.0.0/0", via, origin="default")

    @property
    def addresses(self) -> list[str]:
        return [i.address for i in self.interfaces.values() if i.address]

    def is_local_address(self, address: str) -> bool:
        """Whether a socket may bind ``address`` here: one of the interfaces', or any of
        127.0.0.0/8 (Linux binds all of it on lo)."""
        return address in self.addresses or address.startswith("127.")

    @property
    def address(self) -> str | None:
        """The first interface's address: handy for hosts with one interface."""
        addrs = self.addresses
        return addrs[0] if addrs else None

    # -- sockets ----------------------------------------------------------------------------------
    def socket(self, family: int = 2, type: int = 2, proto: int = 0):
        """A socket on this host, like ``socket.socket(AF_INET, SOCK_DGRAM)``."""
        import errno
        from .sockets import AF_INET, SOCK_DGRAM, SOCK_STREAM, DatagramSocket, os_error
        if family != AF_INET:
            raise os_error(errno.EAFNOSUPPORT, "minternet speaks IPv4 (AF_INET) only")
        if type == SOCK_DGRAM:
            return DatagramSocket(self)
        if type == SOCK_STREAM:
            from .sockets.tcp import StreamSocket
            return StreamSocket(self)
        raise os_error(errno.EPROTONOSUPPORT, f"socket type {type}: use SOCK_STREAM (TCP) or SOCK_DGRAM (UDP)")

    async def open_connection(self, host: str, port: int, **kw):
        """Like ``asyncio.open_connection``: (StreamReader, StreamWriter) to a name or address."""
        from .sockets.streams import open_connection
        return await open_connection(self, host, port, **kw)

    async def create_server(self, protocol_factory, port: int, host: str = "0.0.0.0", **kw):
        """Like ``loop.create_server`` on this host: a protocol per accepted connection."""
        from .sockets.streams import create_server
        return await create_server(self, protocol_factory, port, host, **kw)

    async def start_server(self, client_connected_cb, port: int, host: str = "0.0.0.0", **kw):
        """Like ``asyncio.start_server`` on this host; the callback gets (reader, writer)."""
        from .sockets.streams import start_server
        return await start_server(self, client_connected_cb, port, host, **kw)

    async def create_datagram_endpoint(self, protocol_factory, local_addr=None, remote_addr=None, **kw):
        """Like ``loop.create_datagram_endpoint`` on this host: returns (transport, protocol)."""
        from .sockets import create_datagram_endpoint
        return await create_datagram_endpoint(self, protocol_factory, local_addr, remote_addr, **kw)

    def spawn(self, coro):
        """Start ``coro`` as a program of this host: it and every task it starts use this host's
        network through the loop's own methods (``asyncio.open_connection``, aiohttp, httpx ...)."""
        if self._spawn is not None:
            return self._spawn(coro, on=self)
        import asyncio
        from .programs.context import host_context
        return asyncio.get_running_loop().create_task(coro, context=host_context(self))

    # -- names ------------------------------------------------------------------------------------
    @property
    def stub_resolver(self):
        """This host's stub resolver: a hosts table (like /etc/hosts) and its name servers (like
        /etc/resolv.conf)."""
        if self._stub is None:
            from .application.dns.stub import StubResolver
            self._stub = StubResolver(self)
        return self._stub

    async def resolve(self, name: str) -> str:
        """The first IPv4 address of ``name`` (an address is returned as it is). Raises
        socket.gaierror like getaddrinfo: EAI_NONAME for a name that does not exist, EAI_AGAIN
        when no name server answers."""
        return (await self.stub_resolver.resolve_all(name))[0]

    async def resolve_all(self, name: str) -> list[str]:
        return await self.stub_resolver.resolve_all(name)

    # -- life -------------------------------------------------------------------------------------
    @property
    def up(self) -> bool:
        """Powered on: a node that is down neither sends nor receives."""
        return self.obs.up

    def start(self) -> None:
        """Announce ourselves on every connected interface (gratuitous ARP)."""
        for iface in self.interfaces.values():
            if iface.attached and iface.address:
                self.arp.announce(iface)

    def power_off(self) -> None:
        """The node dies: it stops sending and receiving and forgets its soft state."""
        self.obs.up = False
        self.arp.clear()
        self.ip.reassembler.clear()

    def power_on(self) -> None:
        self.obs.up = True
        self.start()

    # -- observation ------------------------------------------------------------------------------
    def drop(self, layer: str, reason: str, iface: str | None = None, frame: bytes | None = None,
             packet: bytes | None = None, text: str | None = None, count: int = 1) -> None:
        """Count a drop under its reason and trace it (for programs on the host; layers use their
        observer)."""
        self.obs.drop(layer, reason, iface, frame, packet, text, count)

    def netstat(self) -> str:
        """Counters by protocol, like ``netstat -s``."""
        groups: dict[str, list[tuple[str, int]]] = {}
        for key, value in sorted(self.stats.items()):
            if not value:
                continue
            group, _, name = key.partition(".")
            groups.setdefault(group, []).append((name, value))
        lines = [f"{self.name}:"]
        for group, items in groups.items():
            lines.append(f"  {'Dropped' if group == 'drop' else group.upper()}:")
            lines.extend(f"    {value:>8}  {name.replace('_', ' ')}" for name, value in items)
        return "\n".join(lines)


class Router(Host):
    """A host that forwards datagrams between its interfaces."""

    forwarding = True
    kind = "router"
