"""``minternet attach --serve-https`` through a TAP device, against real clients: curl (OpenSSL)
over HTTPS with HTTP/1.1 and HTTP/2, and ngtcp2's QUIC client ``gtlsclient`` (GnuTLS) over HTTP/3,
0-RTT included.

The command runs as it would for a user, in a subprocess: it makes its own network namespace
(``mttls<pid>``) with the kernel's end of the TAP, and writes out its CA for ``curl --cacert``.
The clients run in that namespace (``ip netns exec``); no packet leaves it. The process is stopped
with SIGTERM (it closes its connections and removes the namespace), killed if it does not stop.

Needs root (CAP_NET_ADMIN), /dev/net/tun and iproute2; curl (Debian's curl package) and
gtlsclient (Debian's ngtcp2-client, ``make system-deps``) for their tests; each skips saying what
is missing. ngtcp2's example client does not check the server's certificate: its tests check the
bytes, the ALPN and 0-RTT, and curl's check that the certificate verifies against --cacert.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from netutil import tap_interop_problem

SRC = str(Path(__file__).resolve().parents[2] / "src")


PROBLEM = tap_interop_problem()
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason=f"TAP interop needs: {PROBLEM}")

TAG = os.getpid() % 100000
NETNS = TAP = f"mttls{TAG}"
OURS = f"10.78.{20 + TAG % 200}.2"
NAME = "www.example.com"
SIZES = {"index.html": None, "1MB.bin": 1_000_000}
INDEX = b"<html><body>hello over HTTPS from minternet</body></html>\n"


def need(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install {package}, or make system-deps)")


def ns_run(*argv: str, timeout: float = 60, netns: str = NETNS) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=timeout)


class Attached:
    def __init__(self, proc: subprocess.Popen, files: Path) -> None:
        self.proc = proc
        self.files = files
        self.cacert = files / "ca.pem"
        self.keylog = files / "keys.txt"
        self.stdout = files / "trace.txt"
        self.stderr = files / "log.txt"

    def body(self, name: str) -> bytes:
        return (self.files / "www" / name).read_bytes()

    def trace(self) -> str:
        return self.stdout.read_text(errors="replace")

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


@contextlib.contextmanager
def running(files: Path, netns: str, *extra: str) -> Iterator[Attached]:
    """``minternet attach --serve-https`` in namespace (and TAP) ``netns``, stopped at the end."""
    www = files / "www"
    www.mkdir()
    (www / "index.html").write_bytes(INDEX)
    (www / "1MB.bin").write_bytes(random.Random(1).randbytes(1_000_000))
    subprocess.run(["ip", "netns", "del", netns], capture_output=True)
    argv = [sys.executable, "-m", "minternet", "attach", "--tap", netns, "--address", f"{OURS}/24",
            "--create-netns", netns, "--serve-https", str(www), "--cacert", str(files / "ca.pem"),
            "--tls-name", NAME, "--keylog", str(files / "keys.txt"), "--duration", "300s", *extra]
    with open(files / "trace.txt", "wb") as out, open(files / "log.txt", "wb") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env={**os.environ, "PYTHONPATH": SRC})
    a = Attached(proc, files)
    try:
        deadline = time.monotonic() + 30
        while "HTTPS serving" not in a.log():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"minternet attach did not start (exit {proc.poll()}):\n{a.log()[-3000:]}")
            time.sleep(0.1)
        yield a
    finally:
        stopped = None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                stopped = proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        left = netns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        # Stopped by SIGTERM, the command ends cleanly and removes the namespace it made.
        assert stopped in (None, 0), f"minternet attach exited {stopped}:\n{a.log()[-3000:]}"
        assert stopped is None or not left, f"namespace {netns} left behind"


@pytest.fixture(scope="module")
def attached(tmp_path_factory):
    with running(tmp_path_factory.mktemp("attach-https"), NETNS) as a:
        yield a


def test_the_ca_is_written_out(attached):
    pem = attached.cacert.read_text()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert f"certificate for {NAME}, mini, {OURS}" in attached.log()


@pytest.mark.parametrize("name", list(SIZES))
def test_curl_https_http1(attached, name, tmp_path):
    need("curl", "curl")
    out = tmp_path / "body"
    done = ns_run("curl", "-sS", "--fail", "--max-time", "60", "--http1.1", "--cacert", str(attached.cacert),
                  "-D", str(tmp_path / "head"), "-o", str(out), "-w", "%{http_version}",
                  f"https://{OURS}/{name}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1.1"
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(attached.body(name)).digest()
    head = (tmp_path / "head").read_text().lower()
    assert 'alt-svc: h3=":443"; ma=86400' in head


@pytest.mark.parametrize("name", list(SIZES))
def test_curl_https_http2_by_alpn(attached, name, tmp_path):
    need("curl", "curl")
    out = tmp_path / "body"
    done = ns_run("curl", "-v", "-sS", "--fail", "--max-time", "60", "--http2", "--cacert", str(attached.cacert),
                  "--resolve", f"{NAME}:443:{OURS}", "-o", str(out), "-w", "%{http_version}\n",
                  f"https://{NAME}/{name}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert "ALPN: server accepted h2" in done.stderr, done.stderr
    assert "SSL certificate verify ok" in done.stderr, done.stderr
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(attached.body(name)).digest()
    assert 'alt-svc: h3=":443"; ma=86400' in done.stderr.lower()


def test_curl_without_the_ca_does_not_trust_us(attached):
    need("curl", "curl")
    done = ns_run("curl", "-sS", "--max-time", "30", "-o", "/dev/null", f"https://{OURS}/")
    assert done.returncode == 60, (done.returncode, done.stderr)  # CURLE_PEER_FAILED_VERIFICATION


def gtlsclient(tmp_path: Path, *extra: str, path: str = "1MB.bin", netns: str = NETNS) -> subprocess.CompletedProcess:
    (tmp_path / "dl").mkdir(exist_ok=True)
    return ns_run("timeout", "60", "gtlsclient", "--exit-on-all-streams-close", "--no-quic-dump",
                  "--no-http-dump", "--download", str(tmp_path / "dl"), *extra,
                  OURS, "443", f"https://{OURS}/{path}", timeout=90, netns=netns)


def test_gtlsclient_http3_download(attached, tmp_path):
    need("gtlsclient", "ngtcp2-client")
    done = gtlsclient(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    got = (tmp_path / "dl" / "1MB.bin").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(attached.body("1MB.bin")).digest()
    assert "QUIC handshake complete, ALPN h3" in attached.trace()


def test_gtlsclient_http3_0rtt(attached, tmp_path):
    """The second connection resumes with the first's session ticket and sends its request as
    0-RTT data, which our server accepts (said in its trace) and answers."""
    need("gtlsclient", "ngtcp2-client")
    session = ("--session-file", str(tmp_path / "session"), "--tp-file", str(tmp_path / "tp"))
    first = gtlsclient(tmp_path, *session, path="index.html")
    assert first.returncode == 0, first.stderr[-3000:]
    before = attached.trace().count("0-RTT accepted")
    (tmp_path / "dl" / "index.html").unlink()
    second = gtlsclient(tmp_path, *session, path="index.html")
    assert second.returncode == 0, second.stderr[-3000:]
    assert (tmp_path / "dl" / "index.html").read_bytes() == INDEX
    log = second.stdout + second.stderr
    assert "type=0RTT" in log and "0RTT STREAM" in log
    deadline = time.monotonic() + 5
    while attached.trace().count("0-RTT accepted") <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert attached.trace().count("resumed, 0-RTT accepted") == before + 1


def secrets(attached) -> set[str]:
    """The client randoms of the connections whose traffic secrets are in the key log."""
    lines = attached.keylog.read_text().splitlines() if attached.keylog.exists() else []
    assert all(len(line.split()) == 3 for line in lines if not line.startswith("#")), lines
    return {line.split()[1] for line in lines if line.startswith("SERVER_TRAFFIC_SECRET_0 ")}


def test_keylog_has_tls_and_quic_secrets(attached, tmp_path):
    """Both servers (ssl on TCP, aioquic on UDP) write their secrets to --keylog."""
    need("curl", "curl")
    need("gtlsclient", "ngtcp2-client")
    before = secrets(attached)
    done = ns_run("curl", "-sS", "--cacert", str(attached.cacert), "-o", "/dev/null", f"https://{OURS}/")
    assert done.returncode == 0, done.stderr
    after_tls = secrets(attached)
    assert len(after_tls - before) == 1
    assert gtlsclient(tmp_path, path="index.html").returncode == 0
    assert len(secrets(attached) - after_tls) == 1


def test_tshark_decrypts_the_capture_with_the_keylog(tmp_path):
    """--pcap and --keylog together: tshark reads the HTTP/2 and HTTP/3 requests and responses."""
    need("curl", "curl")
    need("gtlsclient", "ngtcp2-client")
    need("tshark", "tshark")
    netns = NETNS + "b"
    pcap = tmp_path / "mini.pcap"
    with running(tmp_path, netns, "-q", "--pcap", str(pcap)) as a:
        done = ns_run("curl", "-sS", "--cacert", str(a.cacert), "-o", "/dev/null", f"https://{OURS}/index.html",
                      netns=netns)
        assert done.returncode == 0, done.stderr
        assert gtlsclient(tmp_path, path="index.html", netns=netns).returncode == 0
    out = subprocess.run(["tshark", "-r", str(pcap), "-o", f"tls.keylog_file:{a.keylog}", "-Y", "http2 || http3",
                          "-T", "fields", "-e", "http2.header.value", "-e", "http3.frame_type"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "/index.html" in out.stdout  # the HTTP/2 request's :path, decrypted
    # HTTP/3 frames seen decrypted: HEADERS (1) both ways and DATA (0).
    h3_types = [t for line in out.stdout.splitlines() for t in line.split("\t")[-1].split(",") if t]
    assert "1" in h3_types and "0" in h3_types, out.stdout
