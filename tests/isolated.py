"""Run a snippet in a network namespace of its own, so that nothing it does can reach the real
network (root and ``unshare``; see the ``isolated`` fixture in tests/programs/conftest.py).

The namespace has only lo (up) with two stand-in "public" addresses, 192.0.2.1 and 198.51.100.7;
its /etc/resolv.conf (bind-mounted in a mount namespace of its own) points at 127.0.0.1, where
a recording DNS server answers every A query with 192.0.2.1, and a TCP listener on 192.0.2.1:80
records connections. So a query or connection the guard lets through is *seen* (outside it
would have gone to the real resolver or the internet), and yet no packet leaves the machine.
The snippet sets ``OUT``; :func:`run_isolated` returns {"dns": queries, "tcp": connections, "out": OUT}.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"

PRELUDE = r'''
import json, socket, struct, sys, threading, time
sys.path[:0] = [%r, %r]
SEEN = {"dns": [], "tcp": 0}

def _qname(data, off=12):
    labels = []
    while data[off]:
        n = data[off]; labels.append(data[off + 1:off + 1 + n].decode()); off += 1 + n
    return ".".join(labels), off + 1

def _dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
    while True:
        data, addr = s.recvfrom(2048)
        name, off = _qname(data)
        qtype = struct.unpack("!H", data[off:off + 2])[0]
        SEEN["dns"].append((name, qtype))
        q = data[12:off + 4]
        if qtype == 1:
            ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.1")
            resp = data[:2] + b"\x81\x80" + struct.pack("!HHHH", 1, 1, 0, 0) + q + ans
        else:
            resp = data[:2] + (b"\x81\x83" if qtype == 12 else b"\x81\x80") + struct.pack("!HHHH", 1, 0, 0, 0) + q
        s.sendto(resp, addr)

def _tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("192.0.2.1", 80)); s.listen(50)
    while True:
        c, _ = s.accept(); SEEN["tcp"] += 1; c.close()

threading.Thread(target=_dns, daemon=True).start()
threading.Thread(target=_tcp, daemon=True).start()
time.sleep(0.2)
OUT = None
''' % (str(SRC), str(TESTS))

EPILOGUE = r'''
time.sleep(0.3)
print("@@RESULT@@" + json.dumps({"dns": SEEN["dns"], "tcp": SEEN["tcp"], "out": OUT}, default=repr))
'''


def available() -> str | None:
    """None if namespaces can be made here, else why not."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip"
    if subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True).returncode:
        return "needs unshare --net --mount (root)"
    return None


def run_isolated(snippet: str, timeout: float = 120) -> dict:
    code = PRELUDE + textwrap.dedent(snippet) + "\n" + EPILOGUE
    with tempfile.NamedTemporaryFile("w", suffix=".resolv.conf") as resolv:
        resolv.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        resolv.flush()
        setup = ("ip link set lo up && ip addr add 192.0.2.1/32 dev lo && ip addr add 198.51.100.7/32 dev lo && "
                 f"mount --bind {resolv.name} /etc/resolv.conf && exec \"$0\" -c \"$1\"")
        proc = subprocess.run(["unshare", "--net", "--mount", "sh", "-c", setup, sys.executable, code],
                              capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT@@"):
            return json.loads(line[len("@@RESULT@@"):])
    raise AssertionError(f"snippet failed (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
