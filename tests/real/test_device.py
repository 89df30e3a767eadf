"""The TUN/TAP device: what is missing is explained, in the message and in the command's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from minternet.real import device

from .frames import SRC


def test_no_tun_device_is_explained(monkeypatch):
    monkeypatch.setattr(device, "TUN_PATH", "/nonexistent/net/tun")
    problem = device.tap_problem()
    assert problem is not None and "/nonexistent/net/tun does not exist" in problem and "modprobe tun" in problem
    with pytest.raises(device.TapError, match="does not exist"):
        device.open_tap("mtap-x")


def test_long_tap_name_is_explained():
    with pytest.raises(device.TapError, match="at most 15 bytes"):
        device.open_tap("a-much-too-long-name")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="dropping CAP_NET_ADMIN to check the message needs root and setpriv")
def test_attach_without_cap_net_admin_says_so():
    done = subprocess.run(["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", sys.executable, "-m",
                           "minternet", "attach", "--tap", "mtapnocap", "--address", "10.77.0.2/24"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": SRC})
    assert done.returncode == 1
    assert "CAP_NET_ADMIN" in done.stderr and "run as root" in done.stderr, done.stderr
