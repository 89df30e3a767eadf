"""Ready-made handlers: a folder as a web site (files for GET and HEAD, a receipt for POST) and the
small built-in site that ``minternet curl`` serves on the simulated web server."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .files import StaticFiles
from .message import Request, Response
from .server import Handler

SITE = Path(__file__).resolve().parent / "site"  # package data: index.html and friends


async def receipt(request: Request) -> Response:
    """What a POST gets: how many bytes arrived and their SHA-256, so a sender can check its body
    came through whole (chunked or not). Nothing is stored."""
    digest = hashlib.sha256(request.body).hexdigest()
    framing = "chunked" if "chunked" in (request.headers.get("transfer-encoding") or "").lower() else "Content-Length"
    return Response.text(f"received {len(request.body)} bytes ({framing}) for {request.path}\n"
                         f"sha256 {digest}\n")


def folder_site(root: str | os.PathLike[str], *, validators: bool = True) -> Handler:
    """A handler for a folder: GET/HEAD serve its files (see :class:`StaticFiles`), POST to any
    path is answered with a :func:`receipt`."""
    files = StaticFiles(root, validators=validators)

    async def handle(request: Request) -> Response:
        if request.method == "POST":
            return await receipt(request)
        return await files(request)

    return handle


def builtin_site() -> Handler:
    """The built-in site. No ETag or Last-Modified: the installed files' times would make a
    simulation's output differ from one machine to the next."""
    return folder_site(SITE, validators=False)
