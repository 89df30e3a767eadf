"""HTTP messages as a program sees them: :class:`Headers`, :class:`Request`, :class:`Response`.

The wire format (request line, header block, Content-Length or chunked framing) is h11's job;
these are the plain objects a handler receives and returns, and that the client hands back.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import AsyncIterable, Iterable, Iterator, Mapping, Union
from urllib.parse import urlsplit

# RFC 9110 renamed a few reason phrases; Python's HTTPStatus has the new ones only from 3.13.
_PHRASES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}

# Statuses that never carry a body (RFC 9110 6.4.1): the server must not send one.
NO_BODY_STATUSES = frozenset({204, 304}) | frozenset(range(100, 200))

HeaderInput = Union["Headers", Mapping[str, str], Iterable[tuple[str, str]], None]
Body = Union[bytes, AsyncIterable[bytes]]


def reason_phrase(status: int) -> str:
    """The standard reason phrase of ``status`` ("Not Found"), or "" for an unknown code."""
    if status in _PHRASES:
        return _PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def http_date(unix_seconds: float) -> str:
    """An IMF-fixdate (RFC 9110 5.6.7), as Date and Last-Modified use: Thu, 01 Jan 2026 00:00:00 GMT."""
    return email.utils.formatdate(unix_seconds, usegmt=True)


class Headers:
    """Header fields in order, names matched without regard to case; repeated names allowed."""

    __slots__ = ("_items",)

    def __init__(self, items: HeaderInput = None) -> None:
        if items is None:
            self._items: list[tuple[str, str]] = []
        elif isinstance(items, Headers):
            self._items = list(items._items)
        elif isinstance(items, Mapping):
            self._items = [(str(k), str(v)) for k, v in items.items()]
        else:
            self._items = [(str(k), str(v)) for k, v in items]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        lname = name.lower()
        for k, v in self._items:
            if k.lower() == lname:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self._items if k.lower() == lname]

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))

    def set(self, name: str, value: str) -> None:
        """Replace every ``name`` field with one."""
        self.remove(name)
        self._items.append((name, value))

    def setdefault(self, name: str, value: str) -> None:
        if name not in self:
            self._items.append((name, value))

    def remove(self, name: str) -> None:
        lname = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != lname]

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class Request:
    """One HTTP request: what a handler receives (the body already read, within the server's limit)."""

    method: str
    target: str  # as sent: "/index.html?x=1" (origin form) or "http://host/path" (absolute form)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    http_version: str = "1.1"
    client: tuple[str, int] | None = None  # the peer's (address, port)

    @property
    def path(self) -> str:
        """The path part of the target, still percent-encoded ("/a%20b.html")."""
        target = self.target
        if not target.startswith("/"):
            target = urlsplit(target).path or "/"  # absolute form (RFC 9112 3.2.2)
        return target.split("?", 1)[0].split("#", 1)[0]

    @property
    def query(self) -> str:
        _, _, query = self.target.partition("?")
        return query.split("#", 1)[0]


@dataclass
class Response:
    """An HTTP response. A handler returns one; the client returns one.

    ``body`` is bytes (sent with Content-Length) or an async iterable of bytes (sent chunked to an
    HTTP/1.1 client, or until the connection closes to an HTTP/1.0 one). On the client side
    ``transcript`` holds the curl -v style lines of the exchange when verbose.
    """

    status: int = 200
    headers: Headers = field(default_factory=Headers)
    body: Body = b""
    reason: str | None = None
    http_version: str = "1.1"
    transcript: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)
        if self.reason is None:
            self.reason = reason_phrase(self.status)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
             headers: HeaderInput = None) -> "Response":
        """A response whose body is ``text`` in UTF-8."""
        h = Headers(headers)
        h.setdefault("Content-Type", content_type)
        return cls(status, h, text.encode("utf-8"))

    @classmethod
    def html(cls, html: str, status: int = 200, headers: HeaderInput = None) -> "Response":
        return cls.text(html, status, "text/html; charset=utf-8", headers)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text_body(self) -> str:
        """The body decoded as UTF-8 (client side, where the body is bytes)."""
        assert isinstance(self.body, (bytes, bytearray)), "a streaming body has no text yet"
        return bytes(self.body).decode("utf-8", "replace")


def error_response(status: int, detail: str = "", headers: HeaderInput = None) -> Response:
    """A small plain-text error page: the status line, then a sentence for the person reading it."""
    text = f"{status} {reason_phrase(status)}\n"
    if detail:
        text += f"\n{detail}\n"
    return Response.text(text, status, headers=headers)
