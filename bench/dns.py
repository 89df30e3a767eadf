"""Queries per second of ``minternet dns-serve`` on loopback, beside a dnspython UDP server that
answers from a dns.zone, in the same run and with the same load. Run by hand:

    python bench/dns.py [--seconds 3] [--window 16]

Each server runs in its own process; one client process keeps ``--window`` queries in flight on
one UDP socket (a new query for each answer) for ``--seconds`` and counts the answers. The
queries cycle through an A, an MX, a TXT and an NXDOMAIN name, with EDNS (1232 bytes, as dig sends)
or without. The dnspython server is the simplest one a Python programmer would write: recvfrom,
dns.message.from_wire, find the RRset in the dns.zone, make_response, sendto (no CNAME chasing,
no negative answers with the SOA: it does less work than ours).

Measured on an AMD EPYC (2 vCPUs, Linux VM, shared with other work at the time, so the figures
moved by up to 50% from run to run), CPython 3.11.7, dnspython 2.9.2, --seconds 3 --window 16,
two runs:

    server               EDNS   queries/s
    minternet dns-serve  no     12,100 - 12,200
    dnspython + dns.zone no     10,100 - 10,200
    minternet dns-serve  yes    10,400 - 16,800
    dnspython + dns.zone yes     3,700 -  6,800

(see the README's DNS section; the exact figures of a run are printed.)
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
# This file is bench/dns.py: keep its folder off the path, or "import dns" finds it, not dnspython.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ZONE = """$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster ( 1 3600 600 86400 60 )
        IN NS  ns1
ns1     IN A   127.0.0.1
@       IN A   10.0.2.10
www     IN A   10.0.2.11
@       IN MX  10 mail
mail    IN A   10.0.2.25
@       IN TXT "v=spf1 mx -all"
"""
NAMES = [("www.example.com", "A"), ("example.com", "MX"), ("example.com", "TXT"), ("nope.example.com", "A")]


def dnspython_server(port: int, zone_path: str) -> None:
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.zone
    zone = dns.zone.from_file(zone_path, origin="example.com.", relativize=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        data, addr = sock.recvfrom(65535)
        try:
            query = dns.message.from_wire(data)
        except Exception:  # noqa: BLE001 - a benchmark server: skip what it cannot read
            continue
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        q = query.question[0]
        rrset = zone.get_rrset(q.name, q.rdtype)
        if rrset is not None:
            response.answer.append(rrset)
        elif zone.get_node(q.name) is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        sock.sendto(response.to_wire(), addr)


def load(port: int, seconds: float, window: int, edns: bool) -> float:
    """Answers per second from the server on ``port`` with ``window`` queries in flight."""
    import dns.message
    queries = []
    for i in range(256):
        name, rdtype = NAMES[i % len(NAMES)]
        q = dns.message.make_query(name, rdtype, use_edns=0 if edns else False, payload=1232)
        q.id = i
        queries.append(q.to_wire())
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.2)
    sent = answered = 0
    for _ in range(window):
        sock.send(queries[sent % 256])
        sent += 1
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        try:
            sock.recv(65535)
            answered += 1
        except socket.timeout:  # lost: fill the window again
            for _ in range(window):
                sock.send(queries[sent % 256])
                sent += 1
            continue
        sock.send(queries[sent % 256])
        sent += 1
    elapsed = time.perf_counter() - t0
    sock.close()
    return answered / elapsed


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--dnspython-server", nargs=2, metavar=("PORT", "ZONE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dnspython_server:
        dnspython_server(int(args.dnspython_server[0]), args.dnspython_server[1])
        return
    with tempfile.TemporaryDirectory() as tmp:
        zone = os.path.join(tmp, "example.com.zone")
        Path(zone).write_text(ZONE)
        env = {**os.environ, "PYTHONPATH": SRC}
        ours_port, theirs_port = free_port(), free_port()
        ours = subprocess.Popen([sys.executable, "-m", "minternet", "dns-serve", "-q", "--zone", zone,
                                 "--port", str(ours_port)], stdout=subprocess.PIPE, text=True, env=env)
        theirs = subprocess.Popen([sys.executable, __file__, "--dnspython-server", str(theirs_port), zone],
                                  stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert "serving" in ours.stdout.readline() and theirs.stdout.readline().strip() == "ready"
            print(f"{'server':22} {'EDNS':5} {'queries/s':>10}   ({args.seconds:g} s, {args.window} in flight)")
            for edns in (False, True):
                for label, port in (("minternet dns-serve", ours_port), ("dnspython + dns.zone", theirs_port)):
                    qps = load(port, args.seconds, args.window, edns)
                    print(f"{label:22} {'yes' if edns else 'no':5} {qps:10,.0f}")
        finally:
            for p in (ours, theirs):
                p.terminate()
                p.wait(timeout=10)


if __name__ == "__main__":
    main()
