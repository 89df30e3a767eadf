"""Serving a folder: a handler that answers GET and HEAD with the files under one directory and
never with anything outside it.

Every way out is refused with 403 before the file system is asked: ``..`` and ``.`` segments
(also percent-encoded, ``%2e%2e``), encoded separators (``%2f``, ``%5c``) that would let one
segment become two, NUL bytes (``%00``), and paths that are not under ``/``. What is left is
joined to the folder and resolved; if the real path (after symlinks) is outside the folder, that
is refused too, so a symlink inside that points out serves nothing.
"""

from __future__ import annotations

import mimetypes
import os
from email.utils import parsedate_to_datetime
from typing import AsyncIterator
from urllib.parse import quote, unquote_to_bytes

from .message import Headers, Request, Response, http_date
from .server import HTTPError

# Python's built-in table only: /etc/mime.types differs between machines, answers should not.
_MIME = mimetypes.MimeTypes()
STREAM_ABOVE = 256 * 1024  # bigger files are sent in pieces instead of read whole
CHUNK = 64 * 1024


def content_type(name: str) -> str:
    """The Content-Type for a file name, from its extension."""
    kind, encoding = _MIME.guess_type(name, strict=False)
    if kind is None or encoding is not None:  # "x.tar.gz" is gzip data, not a tar file to a browser
        return "application/octet-stream"
    return kind


def safe_segments(url_path: str) -> list[str]:
    """The decoded segments of a URL path, or HTTPError(403/400) for anything that could leave the
    folder. ``url_path`` is the percent-encoded path of the request target ("/docs/a%20b.html")."""
    if not url_path.startswith("/"):
        raise HTTPError(400, "The path must start with /.")
    segments = []
    for raw in url_path.split("/"):
        if not raw:
            continue  # "//" and the leading "/"
        try:
            segment = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPError(404, "No such file (the path is not UTF-8).") from None
        if "\x00" in segment:
            raise HTTPError(403, "A NUL byte in a path is never a file name.")
        if "/" in segment or "\\" in segment:
            raise HTTPError(403, "An encoded / or \\ in a path segment is refused: it could climb out of the folder.")
        if segment in (".", ".."):
            raise HTTPError(403, "Paths with . or .. segments are refused: this server serves one folder only.")
        segments.append(segment)
    return segments


class StaticFiles:
    """A handler serving the files under ``root``: GET and HEAD, ``index.html`` for a directory,
    Content-Type from the extension, and (unless ``validators=False``, for byte-identical
    simulations) ETag and Last-Modified with 304 answers to If-None-Match / If-Modified-Since."""

    def __init__(self, root: str | os.PathLike[str], *, index: str = "index.html", validators: bool = True) -> None:
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise ValueError(f"{root}: not a directory (give the folder to serve)")
        self.root = real
        self.index = index
        self.validators = validators

    def resolve(self, url_path: str) -> tuple[str, list[str]]:
        """The real path of the file or directory for ``url_path``, and its segments. HTTPError for
        refused paths, 404 for missing ones."""
        segments = safe_segments(url_path)
        real = os.path.realpath(os.path.join(self.root, *segments))
        if real != self.root and not real.startswith(self.root + os.sep):
            raise HTTPError(403, "That path leads outside the served folder (through a symbolic link).")
        if not os.path.exists(real):
            raise HTTPError(404, f"There is no {url_path} here.")
        return real, segments

    async def __call__(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise HTTPError(405, f"Files are read with GET or HEAD, not {request.method}.", {"Allow": "GET, HEAD"})
        path, segments = self.resolve(request.path)
        if os.path.isdir(path):
            if not request.path.endswith("/"):
                # Relative links in the index resolve against the directory only with the slash.
                location = "/" + "".join(quote(s) + "/" for s in segments)
                return Response(301, Headers({"Location": location, "Content-Type": "text/plain; charset=utf-8"}),
                                f"Moved to {location}\n".encode())
            path = os.path.realpath(os.path.join(path, self.index))
            if not path.startswith(self.root + os.sep) or not os.path.isfile(path):
                raise HTTPError(404, f"The folder {request.path} has no {self.index}.")
        if not os.path.isfile(path):
            raise HTTPError(404, f"{request.path} is not a regular file.")  # a FIFO or device: never opened
        return self._file_response(request, path)

    def _file_response(self, request: Request, path: str) -> Response:
        st = os.stat(path)
        headers = Headers({"Content-Type": content_type(path), "Content-Length": str(st.st_size)})
        if self.validators:
            etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
            headers.add("Last-Modified", http_date(st.st_mtime))
            headers.add("ETag", etag)
            if self._not_modified(request.headers, etag, st.st_mtime):
                return Response(304, Headers([("ETag", etag), ("Last-Modified", http_date(st.st_mtime))]))
        if request.method == "HEAD":
            return Response(200, headers, b"")  # Content-Length says what GET would send
        if st.st_size > STREAM_ABOVE:
            return Response(200, headers, _read_chunks(path))
        with open(path, "rb") as f:
            return Response(200, headers, f.read())

    @staticmethod
    def _not_modified(headers: Headers, etag: str, mtime: float) -> bool:
        match = headers.get("if-none-match")
        if match is not None:  # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since
            tags = [t.strip().removeprefix("W/") for t in match.split(",")]
            return "*" in tags or etag in tags
        since = headers.get("if-modified-since")
        if since is not None:
            try:
                return int(mtime) <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False


async def _read_chunks(path: str) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk
