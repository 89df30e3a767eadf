"""The TUN/TAP device: open ``/dev/net/tun``, create or attach to a TAP interface with ioctl, and
ask for the offloads (the virtio-net header, checksum and TCP segmentation offload).

A TAP device is an Ethernet interface of the kernel whose "wire" is a file descriptor: every frame
the kernel sends on it comes out of ``read()``, and every frame we ``write()`` arrives at the kernel
as if a network card had received it. This module only opens and configures it; moving frames is
the driver's (:mod:`minternet.real.driver`), the frame format with offloads the codec's
(:mod:`minternet.real.offload`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import sys

from .offload import VNET_HDR_LEN

TUN_PATH = "/dev/net/tun"

# <linux/if_tun.h>
TUNSETIFF = 0x400454CA
TUNGETFEATURES = 0x800454CF
TUNSETOFFLOAD = 0x400454D0
TUNSETVNETHDRSZ = 0x400454D8
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUN_F_CSUM = 0x01
TUN_F_TSO4 = 0x02


class TapError(OSError):
    """A TAP device could not be opened or configured; the message says what is missing."""


# ================================================================================ access ===========
def _has_cap_net_admin() -> bool:
    """CAP_NET_ADMIN (bit 12) in our effective capabilities: what TUNSETIFF needs."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> 12 & 1)
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0


def tap_problem() -> str | None:
    """What this machine or process lacks to run a host on a TAP device, or None if nothing."""
    if not sys.platform.startswith("linux"):
        return f"TAP devices need Linux (this is {sys.platform})"
    if not os.path.exists(TUN_PATH):
        return (f"{TUN_PATH} does not exist: load the tun module (modprobe tun), or in a container "
                f"pass the device in (docker run --device /dev/net/tun --cap-add NET_ADMIN)")
    if not os.access(TUN_PATH, os.R_OK | os.W_OK):
        return f"{TUN_PATH} exists but this user cannot open it for reading and writing: run as root (sudo)"
    if not _has_cap_net_admin():
        return ("creating a TAP device needs the CAP_NET_ADMIN capability: run as root (sudo), or give "
                "the Python binary the capability (setcap cap_net_admin+ep)")
    return None


# ================================================================================ the device =======
class TapDevice:
    """An open TAP device: its file descriptor, its name, and which offloads the kernel agreed to."""

    def __init__(self, fd: int, name: str, vnet_hdr: bool, offloads: int) -> None:
        self.fd = fd
        self.name = name
        self.vnet_hdr = vnet_hdr  # every frame has a virtio-net header in front
        self.offloads = offloads  # TUN_F_* the kernel accepted

    @property
    def tso(self) -> bool:
        return bool(self.offloads & TUN_F_TSO4)

    def describe(self) -> str:
        if self.tso:
            return "offloads on (virtio-net header, checksum and TCP segmentation offload)"
        if self.vnet_hdr:
            return "offloads off (virtio-net header without TSO)"
        return "offloads off (plain frames)"

    def close(self) -> None:
        """Close the descriptor; a TAP device that is not persistent disappears with it."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __repr__(self) -> str:
        return f"<TapDevice {self.name} fd={self.fd} {self.describe()}>"


def open_tap(name: str, offload: bool = True) -> TapDevice:
    """Create (or attach to) the TAP device ``name`` and open it non-blocking.

    With ``offload``, ask for the virtio-net header and checksum + TSO offload; if the kernel
    refuses either, fall back to plain frames. Raises :class:`TapError` saying what is missing."""
    if len(name.encode()) > 15:
        raise TapError(errno.EINVAL, f"TAP name {name!r} is too long: Linux interface names have at most 15 bytes")
    problem = tap_problem()
    if problem:
        raise TapError(errno.EPERM, problem)
    try:
        fd = os.open(TUN_PATH, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TapError(exc.errno, f"cannot open {TUN_PATH}: {exc.strerror}") from None
    try:
        return _configure(fd, name, offload)
    except BaseException:
        os.close(fd)
        raise


def _configure(fd: int, name: str, offload: bool) -> TapDevice:
    features = 0
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, TUNGETFEATURES, buf)
        features = struct.unpack("I", buf)[0]
    except OSError:
        pass
    vnet = offload and bool(features & IFF_VNET_HDR)
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if vnet else 0)
    try:
        result = fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    except OSError as exc:
        if exc.errno == errno.EPERM:
            raise TapError(exc.errno, f"cannot create TAP device {name}: permission denied "
                                      f"(needs CAP_NET_ADMIN: run as root)") from None
        if exc.errno == errno.EBUSY:
            raise TapError(exc.errno, f"TAP device {name} is already in use by another program") from None
        if exc.errno == errno.EINVAL:
            raise TapError(exc.errno, f"cannot create TAP device {name}: an interface of that name exists "
                                      f"and is not a TAP device (or the name is invalid)") from None
        raise TapError(exc.errno, f"cannot create TAP device {name}: {exc.strerror}") from None
    actual = result[:16].rstrip(b"\0").decode()
    offloads = 0
    if vnet:
        try:
            fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", VNET_HDR_LEN))
            fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4)
            offloads = TUN_F_CSUM | TUN_F_TSO4
        except OSError:
            # The header stays (it cannot be switched off on an attached device) but says nothing:
            # plain frames behind ten zero bytes.
            offloads = 0
    return TapDevice(fd, actual, vnet, offloads)
