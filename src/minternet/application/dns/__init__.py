"""DNS on a host: the zone model (zone) and its two file forms (masterfile for RFC 1035, zonetoml,
zonefile to read either), the answering logic of an authoritative server (authority), the servers
themselves (server), the client side of a query over UDP and TCP (exchange), a recursive resolver
(resolver), the stub resolver of every host (stub) and dig's output (dig). The message codec is
:mod:`minternet.wire.dns`; the registrar that builds a simulated internet's DNS out of these is
:mod:`minternet.sim.dns_registrar`."""
