"""The certificates of a simulated network's hosts: signed by the network's CA, for the names the
network gives each host (its node name, its addresses, and the DNS names that point at it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..application.tls.ca import CertificateAuthority, HostCertificates

if TYPE_CHECKING:
    from ..host import Host
    from .network import Network


class NodeCertificates(HostCertificates):
    """One host's: its names are read from the network when a server asks, so a host costs one
    small object (no closures, no certificate until a TLS server runs)."""

    __slots__ = ("_network", "_node")

    def __init__(self, network: "Network", node: "Host") -> None:
        self._network = network
        self._node = node

    @property
    def ca(self) -> CertificateAuthority:
        return self._network.ca  # made on first use: most networks never need one

    def default_names(self) -> list[str]:
        return [self._node.name, *self._node.addresses]

    def owns(self, name: str) -> bool:
        from ..application.http.where import where_is
        return where_is(self._network, self._node, name) in self._node.addresses

    def dns_names(self) -> list[str]:
        return [name.rstrip(".") for authority in self._network.dns.authorities.values()
                for zone in authority.zones for name in zone.names() if "*" not in name]
