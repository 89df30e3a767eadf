"""dig(1)-like output for our DNS messages and resolutions."""

from __future__ import annotations

from ...runtime import NS_PER_MS
from ...wire.dns import DNSMessage, ResourceRecord, class_text, rcode_text, type_text
from .resolver import Resolution

# dig's columns (bin/dig/dig.c: dns_master_stylecreate(..., 24, 32, 40, 48, 80, 8, ...)): TTL at
# 24, class at 32, type at 40, rdata at 48, reached with tabs of 8, or one space when past it.
_COLUMNS = (24, 32, 40, 48)


def _indent(col: int, to: int) -> tuple[str, int]:
    # lib/dns/masterdump.c indent(): at least one character; tabs while they fit, then spaces.
    to = max(to, col + 1)
    tabs = to // 8 - col // 8
    if tabs > 0:
        return "\t" * tabs + " " * (to % 8), to
    return " " * (to - col), to


def dig_rr_text(rr: ResourceRecord) -> str:
    """One record as dig prints it: ``com.\t\t\t172800\tIN\tNS\ta.gtld-servers.net.``."""
    fields = (rr.name + "." if rr.name else ".", str(rr.ttl), class_text(rr.cls), type_text(rr.type))
    out, col = fields[0], len(fields[0])
    for text, to in zip(fields[1:] + (rr.data.to_text(),), _COLUMNS):
        pad, col = _indent(col, to)
        out += pad + text
        col += len(text)
    return out


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
