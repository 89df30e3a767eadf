"""HTTP/1.1 on minternet: a server and a client built on h11 (sans-IO HTTP), running unchanged on
a simulated host and on the operating system's sockets.

Server: ``server = await serve(host, 80, handler)`` where ``handler`` is an async function taking a
:class:`Request` and returning a :class:`Response`; :class:`StaticFiles` and :func:`folder_site`
serve a folder. Client: ``response = await fetch(host, "http://www.example.com/")``, or an
:class:`HTTPClient` to reuse a kept-alive connection for several requests.
"""

from .apps import builtin_site, folder_site, receipt
from .client import HTTPClient, ProtocolError, fetch, split_url
from .files import StaticFiles, content_type
from .message import Headers, Request, Response, error_response, http_date, reason_phrase
from .server import SIM_EPOCH, HTTPError, HTTPServer, Limits, serve

__all__ = [
    "HTTPClient", "HTTPError", "HTTPServer", "Headers", "Limits", "ProtocolError", "Request", "Response",
    "SIM_EPOCH", "StaticFiles", "builtin_site", "content_type", "error_response", "fetch", "folder_site",
    "http_date", "reason_phrase", "receipt", "serve", "split_url",
]
