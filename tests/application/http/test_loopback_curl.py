"""Interop on loopback: `minternet http-serve` on the machine's real sockets, asked by real curl
(and by our own client on an OSHost)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from minternet.application.http import fetch
from minternet.real.ossocket import OSHost

SRC = str(Path(__file__).resolve().parents[3] / "src")
SECRET = b"SECRET beside the served folder"
MAX_BODY = 100_000

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


class Served:
    """A running `minternet http-serve`, its port and the lines it has logged so far."""

    def __init__(self, root: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "minternet", "http-serve", str(root), "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": SRC})
        first = self.proc.stdout.readline()
        m = re.search(r"on http://127\.0\.0\.1:(\d+)/", first)
        if not m:
            self.stop()
            raise AssertionError(f"http-serve did not start: {first!r} {self.proc.stderr.read()!r}")
        self.port = int(m.group(1))
        self.base = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def logged_since(self, mark: int, n: int, timeout: float = 5.0) -> list[str]:
        """The ``n`` log lines after the first ``mark``, waiting for them to arrive."""
        end = time.monotonic() + timeout
        while len(self.lines) < mark + n and time.monotonic() < end:
            time.sleep(0.01)
        return self.lines[mark:mark + n]

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode, self.proc.stderr.read()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("http")
    root = base / "www"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<h1>loopback home</h1>\n")
    (root / "sub" / "page.txt").write_bytes(b"a page\n")
    (root / "data.bin").write_bytes(bytes(range(256)) * 40)
    (base / "secret.txt").write_bytes(SECRET)
    os.symlink(base / "secret.txt", root / "link.txt")
    return root


@pytest.fixture(scope="module")
def served(folder):
    server = Served(folder, "--max-body", str(MAX_BODY))
    yield server
    server.stop()


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "20", *args], capture_output=True, timeout=30)


def test_curl_gets_status_and_exact_bytes(served, folder):
    mark = len(served.lines)
    out = curl("-o", "-", "-w", "\n%{http_code} %{content_type}", f"{served.base}/data.bin")
    body, _, tail = out.stdout.rpartition(b"\n")
    assert body == (folder / "data.bin").read_bytes()
    assert tail == b"200 application/octet-stream"
    assert curl(f"{served.base}/").stdout == b"<h1>loopback home</h1>\n"
    log = served.logged_since(mark, 2)[1]
    assert re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET / HTTP/1\.1" 200 23 conn=\d+', log)


def test_curl_reuses_one_connection_for_two_urls(served):
    mark = len(served.lines)
    out = curl("--http1.1", "-v", f"{served.base}/", f"{served.base}/sub/page.txt")
    stderr = out.stderr.decode()
    assert out.returncode == 0 and out.stdout == b"<h1>loopback home</h1>\na page\n"
    assert "Re-using existing connection" in stderr and stderr.count("Connected to 127.0.0.1") == 1
    assert "< Server: minternet/" in stderr and "< Date: " in stderr
    first, second = served.logged_since(mark, 2)
    assert first.split("conn=")[1] == second.split("conn=")[1]  # the server saw one connection too


def test_curl_head_and_404(served):
    out = curl("-I", f"{served.base}/sub/page.txt")
    assert out.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 7\r\n" in out.stdout
    out = curl("-o", "/dev/null", "-w", "%{http_code}", f"{served.base}/nothing")
    assert out.stdout == b"404"


def test_curl_chunked_post(served, tmp_path):
    data = os.urandom(50_000)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(data)
    out = curl("-v", "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{upload}", f"{served.base}/upload")
    assert "> Transfer-Encoding: chunked" in out.stderr.decode()
    assert out.stdout.decode() == (f"received 50000 bytes (chunked) for /upload\n"
                                   f"sha256 {hashlib.sha256(data).hexdigest()}\n")


def test_curl_body_over_the_limit_is_413(served, tmp_path):
    upload = tmp_path / "big.bin"
    upload.write_bytes(b"x" * (MAX_BODY + 1))
    out = curl("-o", "-", "-w", "\n%{http_code}", "--data-binary", f"@{upload}", f"{served.base}/")
    assert out.stdout.endswith(b"\n413") and b"413 Content Too Large" in out.stdout


@pytest.mark.parametrize("path", ["/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt",
                                  "/..%2fsecret.txt", "/link.txt", "/%00"])
def test_curl_path_as_is_cannot_leave_the_folder(served, path):
    out = curl("--path-as-is", "-o", "-", "-w", "\n%{http_code}", served.base + path)
    assert out.stdout.endswith(b"\n403") and SECRET not in out.stdout


def test_our_client_on_os_sockets(served):
    response = asyncio.run(fetch(OSHost(), f"{served.base}/sub/page.txt"))
    assert response.status == 200 and response.body == b"a page\n" and response.headers["Server"].startswith("minternet/")


def test_ctrl_c_stops_cleanly_even_with_a_kept_alive_connection_open(folder):
    server = Served(folder, "-q")
    assert curl(f"{server.base}/sub/page.txt").stdout == b"a page\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as held:
        held.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert held.recv(100).startswith(b"HTTP/1.1 200 OK")  # and the connection stays open
        t0 = time.monotonic()
        code, err = server.stop(signal.SIGINT)
        assert code == 0 and "stopped" in err and "Traceback" not in err
        assert time.monotonic() - t0 < 5  # not held up until the idle timeout (15 s)


def test_a_folder_that_is_not_there_is_an_error():
    out = subprocess.run([sys.executable, "-m", "minternet", "http-serve", "/nonexistent/folder", "--port", "0"],
                         capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": SRC})
    assert out.returncode == 2 and "not a directory" in out.stderr
