"""Well-known and registered port numbers (IANA), for names in traces: IP is the building, the port
is the apartment. 0-1023 are the well-known ports, 1024-49151 registered, 49152-65535 dynamic."""

from __future__ import annotations

SERVICES: dict[int, str] = {
    7: "echo", 9: "discard", 13: "daytime", 20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet",
    25: "smtp", 37: "time", 53: "domain", 67: "bootps", 68: "bootpc", 69: "tftp", 80: "http",
    110: "pop3", 119: "nntp", 123: "ntp", 143: "imap", 161: "snmp", 162: "snmptrap", 179: "bgp",
    389: "ldap", 443: "https", 465: "submissions", 514: "syslog", 520: "rip", 587: "submission",
    636: "ldaps", 853: "domain-s", 993: "imaps", 995: "pop3s", 1194: "openvpn", 1812: "radius",
    3306: "mysql", 3389: "ms-wbt-server", 5060: "sip", 5353: "mdns", 5432: "postgresql",
    6379: "redis", 8080: "http-alt", 8443: "https-alt",
}

WELL_KNOWN_MAX = 1023
REGISTERED_MAX = 49151


def service_name(port: int) -> str | None:
    """'http' for 80, None for a port with no well-known service."""
    return SERVICES.get(port)


def port_kind(port: int) -> str:
    if port <= WELL_KNOWN_MAX:
        return "well-known"
    if port <= REGISTERED_MAX:
        return "registered"
    return "dynamic"


def port_text(port: int) -> str:
    """'53 (domain)' or just '49152'."""
    name = SERVICES.get(port)
    return f"{port} ({name})" if name else str(port)
