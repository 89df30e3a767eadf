"""TLS secrets in the SSLKEYLOGFILE format, for Wireshark and tshark to decrypt our captures.

The format is NSS's key log: one ``LABEL client_random secret`` line per secret (TLS 1.3 labels:
CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_TRAFFIC_SECRET_0, CLIENT_EARLY_TRAFFIC_SECRET, ...).
aioquic writes them to ``QuicConfiguration.secrets_log_file``; Python's ``ssl`` to
``SSLContext.keylog_filename``. Both ends of a simulated connection may log the same secret: a line
is kept once.
"""

from __future__ import annotations

import os
from typing import TextIO

FILENAME = "sslkeylog.txt"


def tshark_hint(keylog_path: str, pcap: str = "FILE.pcap") -> str:
    """How to decrypt a capture with this key log (tshark; Wireshark's preference is the same)."""
    return (f"tshark -r {pcap} -o tls.keylog_file:{keylog_path}   "
            f"(Wireshark: Preferences > Protocols > TLS > (Pre)-Master-Secret log filename)")


class KeyLog:
    """Collects key log lines; with ``path``, also appends each new one to that file at once
    (so the file is complete even if the run stops halfway). The file is made at the first
    secret: a run without TLS leaves none; one left by an earlier run is removed at once. It is
    opened for appending, so ``ssl.SSLContext.keylog_filename = keylog.path`` (which appends too)
    can share it. File-like: ``write``, ``flush``."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.lines: list[str] = []
        self._seen: set[str] = set()
        self._file: TextIO | None = None
        self._closed = False
        self._mirrors: dict[str, TextIO | None] = {}  # more files that get every line (mirror_to)
        if path is not None and os.path.exists(path):
            os.remove(path)

    def write(self, text: str) -> int:
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#") and line not in self._seen:
                self._seen.add(line)
                self.lines.append(line)
                if self.path is not None and not self._closed:
                    if self._file is None:
                        self._file = open(self.path, "a", encoding="ascii")
                    self._file.write(line + "\n")
                    self._file.flush()
                for mirror, f in self._mirrors.items():
                    if f is None and not self._closed:
                        f = self._mirrors[mirror] = open(mirror, "a", encoding="ascii")
                    if f is not None:
                        f.write(line + "\n")
                        f.flush()
        return len(text)

    def mirror_to(self, path: str) -> None:
        """Also write every line that comes through :meth:`write` (QUIC's secrets; OpenSSL
        writes TLS-over-TCP ones to ``path`` only) to another file, made at the first line."""
        if path == self.path or path in self._mirrors:
            return
        if os.path.exists(path):
            os.remove(path)
        self._mirrors[path] = None
        if self.lines:
            f = self._mirrors[path] = open(path, "a", encoding="ascii")
            f.write(self.text())
            f.flush()

    @classmethod
    def read(cls, path: str) -> "KeyLog":
        """The lines of a key log file (kept in memory; the file is not written)."""
        log = cls()
        with open(path, encoding="ascii", errors="replace") as f:
            log.write(f.read())
        return log

    def write_to(self, path: str) -> None:
        """From now on also append to ``path`` (the lines kept so far first; a file left there
        by an earlier run is replaced)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        mirrored = self._mirrors.pop(path, None)  # one file, written once
        if mirrored is not None:
            mirrored.close()
        if os.path.exists(path):
            os.remove(path)
        self.path = path
        self._closed = False
        if self.lines:
            self._file = open(path, "a", encoding="ascii")
            self._file.write(self.text())
            self._file.flush()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        for mirror, f in self._mirrors.items():
            if f is not None:
                f.close()
            self._mirrors[mirror] = None
        self._closed = True  # later lines are kept in memory only

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def save(self, path: str) -> str:
        with open(path, "w", encoding="ascii") as f:
            f.write(self.text())
        return path
