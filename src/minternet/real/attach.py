"""A whole host on a TAP device: a :class:`~minternet.host.Host` on the real-time clock, attached
to a TAP device through the driver.

The pieces: :mod:`~minternet.real.device` opens the TUN/TAP device, :mod:`~minternet.real.offload`
is the frame format with the kernel's offloads, :mod:`~minternet.real.driver` moves frames and
applies the faults, :mod:`~minternet.real.clock` is the real-time clock.
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .clock import RealtimeClock
from .device import TapDevice, open_tap
from .driver import LinkFaults, TapDriver

if TYPE_CHECKING:
    from ..host import Host


def make_host(name: str, address: str, *, mtu: int = 1500, mac: bytes | None = None, gateway: str | None = None,
              seed: int | None = None, loop: asyncio.AbstractEventLoop | None = None) -> Host:
    """A Host with one interface ``eth0`` (``address`` as "10.77.0.2/24") on a real-time clock.

    The random source is seeded from ``seed`` for a repeatable run, else from the OS (initial
    sequence numbers, ports and IDs should not be guessable on a real network)."""
    from ..host import Host
    clock = RealtimeClock(loop)
    rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(16), "big"))
    host = Host(name, clock, rng)
    host.add_interface("eth0", address, mac=mac, mtu=mtu)
    if gateway:
        host.set_gateway(gateway)
    return host


@dataclass
class Attached:
    """A host running on a TAP device: what :func:`attach` returns."""

    host: Host
    driver: TapDriver
    device: TapDevice

    def close(self) -> None:
        self.driver.close()


def attach(host: Host, tap_name: str, *, iface: str = "eth0", offload: bool = True,
           faults: LinkFaults | None = None, rx_gso: str = "whole", tx_tso: str = "stack",
           loop: asyncio.AbstractEventLoop | None = None, announce: bool = True) -> Attached:
    """Open the TAP device ``tap_name``, attach ``host``'s interface to it and start the driver
    on ``loop`` (the running loop by default); ``announce`` sends a gratuitous ARP.

    For a device that is already configured on the kernel side (a persistent TAP made with
    ``ip tuntap add dev tap0 mode tap`` and given an address). When the kernel's end must be
    set up after the device exists (moved into a namespace, say), open it with
    :func:`open_tap`, configure it, then start a :class:`TapDriver`, as ``minternet attach`` does."""
    device = open_tap(tap_name, offload=offload)
    try:
        driver = TapDriver(device, host.interfaces[iface], loop=loop, faults=faults, rx_gso=rx_gso,
                           tx_tso=tx_tso)
        driver.start()
    except BaseException:
        device.close()
        raise
    if announce:
        host.start()
    return Attached(host, driver, device)

