"""The guard against routes around it: each experiment runs in a network namespace of its own
(the ``isolated`` fixture), where a query or connection that escaped would be recorded -- and
would still never leave the machine."""

from __future__ import annotations


def test_a_programs_threads_cannot_reach_the_real_network(isolated):
    res = isolated('''
import threading, concurrent.futures
from netutil import chain
net = chain(1)
go, out = threading.Event(), {}
def outsider():  # a thread of the process that no program started (made before the simulation)
    go.wait(10)
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=2).close(); out["outsider"] = "connected"
    except Exception as e:
        out["outsider"] = repr(e)
old = threading.Thread(target=outsider); old.start()
async def main():
    def work():
        try:
            socket.create_connection(("192.0.2.1", 80), timeout=2).close(); out["thread"] = "connected"
        except Exception as e:
            out["thread"] = repr(e)
        try:
            socket.getaddrinfo("www.python.org", 80); out["lookup"] = "resolved"
        except Exception as e:
            out["lookup"] = repr(e)
    t = threading.Thread(target=work); t.start(); t.join()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            out["pool"] = pool.submit(socket.gethostbyname, "www.python.org").result()
        except Exception as e:
            out["pool"] = repr(e)
    go.set(); old.join()
    return out
OUT = net.run_app(main(), on="client")
''')
    assert res["tcp"] == 0, f"a real TCP connection was made from a thread: {res}"
    assert res["dns"] == [], f"the real resolver was asked from a thread: {res}"
    assert all("RealNetworkRefused" in v for v in res["out"].values()), res["out"]
    assert "a real socket" in res["out"]["thread"] and "192.0.2.1" in res["out"]["outsider"]


def test_connect_by_name_on_a_real_socket_asks_no_resolver(isolated):
    res = isolated('''
from netutil import chain
net = chain(1)
async def main():   # on no host: no SimSocket; the real one is refused before connect() resolves
    out = []
    for name in ("www.example.org", "127.attacker.example"):
        try:
            s = socket.socket()
            s.connect((name, 80)); out.append("connected to " + name)
            s.close()
        except Exception as e:
            out.append(repr(e))
    return out
OUT = net.run_app(main())
''')
    assert res["tcp"] == 0, f"a real TCP connection was made: {res}"
    assert res["dns"] == [], f"the real resolver was asked: {res['dns']}"
    assert all("RealNetworkRefused" in o for o in res["out"]), res["out"]


def test_a_socket_subclass_on_a_host_is_a_simsocket(isolated):
    res = isolated('''
import asyncio
from netutil import chain
from minternet.programs import SimSocket
net = chain(1)
class MySock(socket.socket):   # as PySocks' socksocket and others subclass it
    def hello(self):
        return "mine"
async def main():
    s = MySock()
    out = [isinstance(s, SimSocket), isinstance(s, MySock), s.hello(), s.fileno()]
    try:
        s.setblocking(False)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(s, ("127.attacker.example", 80)), 5)
        out.append("connected")
    except Exception as e:
        out.append(repr(e))
    s.close()
    return out
OUT = net.run_app(main(), on="client")
''')
    assert res["tcp"] == 0 and res["dns"] == [], f"a program on a host reached the real network: {res}"
    assert res["out"][:4] == [True, True, "mine", -1], res["out"]


def test_names_beginning_with_127_are_not_loopback(isolated):
    res = isolated('''
from netutil import chain
net = chain(1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # made before the simulation: real
async def main():
    out = []
    for f in (lambda: socket.getaddrinfo("127.attacker.example", 80, type=socket.SOCK_STREAM),
              lambda: socket.gethostbyname("127.attacker.example"),
              lambda: s.sendto(b"x", ("127.attacker.example", 9))):
        try:
            out.append(f())
        except Exception as e:
            out.append(repr(e))
    return out
OUT = net.run_app(main(), on="client")
''')
    assert res["dns"] == [], f"the real resolver was asked: {res}"
    assert all("RealNetworkRefused" in str(o) for o in res["out"][:2]), res["out"]


def test_reverse_lookups_are_refused(isolated):
    res = isolated('''
from netutil import chain
net = chain(1)
async def main():
    out = []
    for f in (lambda: socket.gethostbyaddr("198.51.100.7"),
              lambda: socket.getnameinfo(("198.51.100.7", 80), 0),
              lambda: socket.getfqdn("198.51.100.7"),
              lambda: socket.getnameinfo(("198.51.100.7", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)):
        try:
            out.append(repr(f()))
        except Exception as e:
            out.append(repr(e))
    return out
OUT = net.run_app(main(), on="client")
''')
    assert res["dns"] == [], f"PTR queries reached the real resolver: {res['dns']}"
    refused, refused2, fqdn, numeric = res["out"]
    assert "RealNetworkRefused" in refused and "RealNetworkRefused" in refused2
    assert fqdn == "'198.51.100.7'" and numeric == "('198.51.100.7', '80')"


def test_a_programs_child_process_is_refused(isolated):
    res = isolated('''
import os, subprocess
from netutil import chain
net = chain(1)
async def main():
    out = []
    for f in (lambda: subprocess.run([sys.executable, "-c",
                                      "import socket; socket.create_connection(('192.0.2.1', 80)).close()"]),
              lambda: os.system("true"), lambda: os.posix_spawn("/bin/true", ["true"], {})):
        try:
            out.append(repr(f()))
        except Exception as e:
            out.append(repr(e))
    return out
OUT = net.run_app(main(), on="client")
''')
    assert res["tcp"] == 0, f"a child process of a simulated program reached the network: {res}"
    assert all("RealNetworkRefused" in o and "new process" in o for o in res["out"]), res["out"]


def test_bind_to_all_real_interfaces_is_refused(isolated):
    res = isolated('''
from netutil import chain
net = chain(1)
socks = [socket.socket(), socket.socket(), socket.socket(socket.AF_INET6)]  # real: made before
async def main():
    out = []
    for s, addr in zip(socks, ("", "0.0.0.0", "::")):
        try:
            s.bind((addr, 0)); s.listen()
            out.append(["listening", s.getsockname()])
        except Exception as e:
            out.append(repr(e))
        finally:
            s.close()
    return out
OUT = net.run_app(main(), on="client")
''')
    assert all("RealNetworkRefused" in str(o) for o in res["out"]), f"a real socket listens on every interface: {res['out']}"
