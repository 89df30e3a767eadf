"""A network interface: a MAC address, an MTU, an IPv4 address with its prefix, and a device.

The device is whatever moves frames: a simulated link or a TAP file descriptor. It calls
:meth:`Interface.receive` with each frame that arrives and is given frames through ``attach``;
the interface hands arriving frames to its node's link layer (``input``).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Callable

from ..wire.ethernet import mac_to_str

if TYPE_CHECKING:
    from ..runtime import Clock
    from ..stack.observer import Observer

Tap = Callable[[int, bytes, str], None]  # (time_ns, frame, "in" | "out")


class Interface:
    __slots__ = ("name", "node", "clock", "input", "host", "mac", "mtu", "address", "ip", "ip_int", "prefixlen", "mask",
                 "network", "broadcast", "up", "_tx", "taps", "eth_header_ip", "tso_max")

    def __init__(self, node: "Observer", clock: "Clock", name: str, mac: bytes, mtu: int = 1500,
                 input: Callable[["Interface", bytes], None] | None = None, host: object = None) -> None:
        self.node = node
        self.clock = clock
        self.input = input  # the link layer's receive(iface, frame)
        self.host = host  # the owning node, for the worlds (sim/, real/) that wire interfaces up; unused here
        self.name = name
        self.mac = mac
        self.mtu = mtu
        self.address: str | None = None  # "10.0.1.10"
        self.ip: bytes | None = None  # the same, 4 bytes
        self.ip_int = 0
        self.prefixlen = 0
        self.mask = 0
        self.network = 0
        self.broadcast: bytes | None = None
        self.up = True
        self._tx: Callable[[bytes], None] | None = None
        self.taps: list[Tap] = []
        self.eth_header_ip = mac + b"\x08\x00"  # our MAC + EtherType IPv4: the tail of every header we send
        # TCP segmentation offload: the device takes TCP datagrams of up to this many bytes and cuts
        # them into MTU-sized segments itself (a real NIC or TAP; 0: no, as every simulated link).
        self.tso_max = 0

    def set_address(self, cidr: str) -> None:
        """Give the interface an address with its prefix: ``"10.0.1.10/24"``."""
        iface = ipaddress.IPv4Interface(cidr)
        self.address = str(iface.ip)
        self.ip = socket.inet_aton(self.address)
        self.ip_int = int(iface.ip)
        self.prefixlen = iface.network.prefixlen
        self.mask = int(iface.network.netmask)
        self.network = int(iface.network.network_address)
        self.broadcast = iface.network.broadcast_address.packed

    @property
    def cidr(self) -> str | None:
        return f"{self.address}/{self.prefixlen}" if self.address else None

    @property
    def attached(self) -> bool:
        return self._tx is not None

    def attach(self, transmit: Callable[[bytes], None] | None) -> None:
        """Connect the interface to a device: ``transmit(frame)`` puts a frame on the wire."""
        self._tx = transmit

    def on_link(self, addr_int: int) -> bool:
        return self.address is not None and (addr_int & self.mask) == self.network

    def transmit(self, frame: bytes) -> None:
        """Put a frame on the wire (the stack's last step)."""
        node = self.node
        if self._tx is None or not self.up:
            node.drop("link", "iface-down", self.name, frame=frame)
            return
        if node.tracer.enabled:
            node.tracer.emit(node.name, self.name, "link", "send", frame=frame)
        if self.taps:
            now = self.clock.now
            for tap in self.taps:
                tap(now, frame, "out")
        self._tx(frame)

    def receive(self, frame: bytes) -> None:
        """A frame arrived from the wire (the device's call)."""
        if self.taps:
            now = self.clock.now
            for tap in self.taps:
                tap(now, frame, "in")
        if self.input is not None:
            self.input(self, frame)

    def __repr__(self) -> str:
        return f"<Interface {self.node.name}:{self.name} {mac_to_str(self.mac)} {self.cidr or '-'} mtu {self.mtu}>"
