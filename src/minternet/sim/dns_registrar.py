"""The DNS of a simulated internet: root servers, top-level domains, registered domains and
resolvers, built as real zones served by real servers on the network's hosts.

Registering a domain does what a registrar does: it adds the delegation (NS records and glue
addresses) to the TLD's zone, and the domain's own zone goes to the host that serves it.

It lives in sim/ because it reaches across the whole network (every server's host, the network's
task spawner); the servers and resolvers it sets up are ordinary programs from application/dns.
"""

from __future__ import annotations

from dataclasses import replace

from typing import TYPE_CHECKING

from ..application.dns.resolver import RecursiveResolver
from ..application.dns.server import AuthoritativeServer, ResolverService
from ..application.dns.stub import StubResolver
from ..application.dns.zone import Zone
from ..wire.dns import HTTPS, SVC_KEYS, A, CNAME, NS, SOA, ResourceRecord, RRClass, RRType, canonical, is_subdomain, name_to_labels

if TYPE_CHECKING:
    from ..host import Host
    from .network import Network

NS_TTL = 172800  # two days, as the root and TLD zones use for delegations
ADDRESS_TTL = 300
NEGATIVE_TTL = 300


def _rr(name: str, rtype: int, data, ttl: int) -> ResourceRecord:
    return ResourceRecord(name, rtype, RRClass.IN, ttl, data)


def new_zone(origin: str, ns_name: str, ns_address: str | None) -> Zone:
    """A zone with its SOA, one NS record and, when the name server is inside the zone, its address."""
    zone = Zone(origin)
    rname = f"hostmaster.{origin}" if origin else "hostmaster.root-servers.net"
    zone.add(_rr(origin, RRType.SOA, SOA(ns_name, rname, 1, 3600, 600, 86400, NEGATIVE_TTL), 3600))
    zone.add(_rr(origin, RRType.NS, NS(ns_name), NS_TTL))
    if ns_address and is_subdomain(ns_name, origin):
        zone.add(_rr(ns_name, RRType.A, A(ns_address), NS_TTL))
    return zone


class DNSRegistrar:
    """The DNS of one :class:`~minternet.sim.network.Network` (``net.dns``): its root hints, the
    root and TLD zones, the registered domains and the servers that run on its hosts."""

    def __init__(self, net: "Network") -> None:
        self.net = net
        self.root_zone: Zone | None = None
        self.root_hints: list[tuple[str, str]] = []  # (name server name, address)
        self.tld_zones: dict[str, Zone] = {}
        self.domains: dict[str, tuple[str, str]] = {}  # domain -> (address, serving host)
        self.authorities: dict[str, AuthoritativeServer] = {}
        self.resolvers: dict[str, ResolverService] = {}
        self._started = False

    def authority_on(self, host: "Host") -> AuthoritativeServer:
        """The authoritative server program on ``host`` (created on first use)."""
        server = self.authorities.get(host.name)
        if server is None:
            server = self.authorities[host.name] = AuthoritativeServer()
        return server

    @staticmethod
    def _address(host: "Host") -> str:
        if host.address is None:
            raise ValueError(f"{host.name} has no address to serve DNS on")
        return host.address

    # -- building the hierarchy ---------------------------------------------------------------------
    def add_root(self, host: "Host", ns_name: str | None = None) -> None:
        """Make ``host`` a root server (a.root-servers.net, b.root-servers.net, ...)."""
        ns_name = ns_name or f"{chr(ord('a') + len(self.root_hints))}.root-servers.net"
        address = self._address(host)
        if self.root_zone is None:
            self.root_zone = new_zone("", ns_name, address)
        else:
            self.root_zone.add(_rr("", RRType.NS, NS(ns_name), NS_TTL))
            self.root_zone.add(_rr(ns_name, RRType.A, A(address), NS_TTL))
        self.root_hints.append((ns_name, address))
        server = self.authority_on(host)
        if self.root_zone not in server.zones:
            server.add_zone(self.root_zone)

    def add_tld(self, tld: str, host: "Host", ns_name: str | None = None) -> None:
        """Make ``host`` the server of a top-level domain ("com") and delegate it from the root."""
        tld = canonical(tld.strip("."))
        if len(name_to_labels(tld)) != 1:
            raise ValueError(f"{tld!r} is not a top-level domain (one label, like \"com\")")
        if self.root_zone is None:
            raise ValueError("add a root server before a top-level domain")
        ns_name = ns_name or f"ns.nic.{tld}"
        address = self._address(host)
        zone = self.tld_zones.get(tld)
        if zone is None:
            zone = self.tld_zones[tld] = new_zone(tld, ns_name, address)
        self.authority_on(host).add_zone(zone)
        self.root_zone.add(_rr(tld, RRType.NS, NS(ns_name), NS_TTL))
        self.root_zone.add(_rr(ns_name, RRType.A, A(address), NS_TTL))

    def register(self, domain: str, address: str, server: "Host", ns_name: str | None = None,
                 https: tuple[str, ...] | list[str] | None = None) -> Zone:
        """Register ``domain`` (say "example.com"): its zone, on ``server``, says the domain and
        www.domain are at ``address``; the TLD's zone gets the delegation (NS and glue).
        ``https``: ALPN ids (("h3", "h2")) for an HTTPS record (RFC 9460) at the domain, which
        tells browsers before any connection that https://domain (and www, a CNAME) speaks them,
        HTTP/3 on UDP 443 included: ``HTTPS 1 . alpn="h3,h2" ipv4hint=ADDRESS``."""
        domain = canonical(domain.strip("."))
        labels = domain.split(".")
        if len(labels) < 2:
            raise ValueError(f"register a name below a top-level domain, like \"example.com\" (got {domain!r})")
        tld = labels[-1]
        tld_zone = self.tld_zones.get(tld)
        if tld_zone is None:
            raise ValueError(f"cannot register {domain}: there is no server for the top-level domain "
                             f"{tld!r} (have: {', '.join(sorted(self.tld_zones)) or 'none'})")
        ns_name = ns_name or f"ns1.{domain}"
        server_address = self._address(server)
        zone = new_zone(domain, ns_name, server_address)
        zone.add(_rr(domain, RRType.A, A(address), ADDRESS_TTL))
        zone.add(_rr(f"www.{domain}", RRType.CNAME, CNAME(domain), ADDRESS_TTL))
        if https:
            alpn = b"".join(len(p).to_bytes(1, "big") + p.encode("ascii") for p in https)
            hint = bytes(int(x) for x in address.split("."))
            # ServiceMode (priority 1), target "." = the owner name itself (RFC 9460 2.5.2).
            zone.add(_rr(domain, RRType.HTTPS, HTTPS(1, ".", ((SVC_KEYS["alpn"], alpn), (SVC_KEYS["ipv4hint"], hint))),
                         ADDRESS_TTL))
        self.authority_on(server).add_zone(zone)
        tld_zone.add(_rr(domain, RRType.NS, NS(ns_name), NS_TTL))
        if is_subdomain(ns_name, domain):
            tld_zone.add(_rr(ns_name, RRType.A, A(server_address), NS_TTL))  # glue
        self.domains[domain] = (address, server.name)
        return zone

    def readdress(self, domain: str, address: str) -> None:
        """``domain`` (and www.domain) move to ``address``: its zone's A record (and the HTTPS
        record's ipv4hint) change at once; resolvers that cached the old answer keep it until its
        TTL runs out, as on the real internet. ValueError for a domain that was never registered."""
        domain = canonical(domain.strip("."))
        if domain not in self.domains:
            raise ValueError(f"cannot readdress {domain}: it is not registered (have: "
                             f"{', '.join(sorted(self.domains)) or 'none'})")
        _, server_name = self.domains[domain]
        zone = self.authority_on(self.net.host(server_name)).zone(domain)
        zone.replace(domain, RRType.A, [_rr(domain, RRType.A, A(address), ADDRESS_TTL)])
        hint = bytes(int(x) for x in address.split("."))
        https = [replace(rr, data=replace(rr.data, params=tuple((k, hint if k == SVC_KEYS["ipv4hint"] else v)
                                                                for k, v in rr.data.params)))
                 for rr in zone.get(domain, RRType.HTTPS)]
        if https:
            zone.replace(domain, RRType.HTTPS, https)
        self.domains[domain] = (address, server_name)

    def serve_zone(self, host: "Host", zone: Zone) -> None:
        """Serve a zone (from a file, say) on ``host``."""
        self.authority_on(host).add_zone(zone)

    def add_resolver(self, host: "Host") -> ResolverService:
        """Run a recursive resolver on ``host`` (port 53), starting from the root hints."""
        service = ResolverService(RecursiveResolver(host, self.root_hints))
        self.resolvers[host.name] = service
        return service

    def use_nameserver(self, host: "Host", address: str) -> StubResolver:
        """Configure ``host``'s stub resolver, like a nameserver line in /etc/resolv.conf."""
        stub = host.stub_resolver
        stub.nameservers = [address]
        return stub

    # -- running ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start every server as a program on its host (idempotent)."""
        if self._started:
            return
        self._started = True
        for name, service in self.resolvers.items():
            service.resolver.root_hints = list(self.root_hints)
            self.net.spawn(service.serve(self.net.host(name)))
        for name, server in self.authorities.items():
            self.net.spawn(server.serve(self.net.host(name)))
