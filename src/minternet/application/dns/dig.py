"""dig(1)-like output for our DNS messages and resolutions."""

from __future__ import annotations

from ...runtime import NS_PER_MS
from ...wire.dns import DNSMessage, rcode_text
from .resolver import Resolution


def dig_output(resp: DNSMessage, server: str, port: int, elapsed_ns: int, size: int) -> str:
    lines = [resp.to_text().rstrip(), "",
             f";; Query time: {elapsed_ns // NS_PER_MS} msec",
             f";; SERVER: {server}#{port}(UDP)",
             f";; MSG SIZE  rcvd: {size}"]
    return "\n".join(lines)


def trace_output(result: Resolution) -> str:
    """Each query of a resolution, like ``dig +trace``: who was asked, what they said."""
    lines = []
    for step in result.steps:
        zone = step.zone + "." if step.zone else "."
        lines.append(f";; asked {step.server} (a server for {zone}) about {step.question}: "
                     f"{step.outcome} [{step.elapsed / NS_PER_MS:.1f} ms]")
    if result.answers:
        lines.append("")
        lines.extend(rr.to_text() for rr in result.answers)
    elif result.authority:
        lines.append("")
        lines.extend(rr.to_text() for rr in result.authority)
    lines.append(f";; status: {rcode_text(result.rcode)}{' (from cache)' if result.from_cache else ''}")
    return "\n".join(lines)
