"""DNS on a host: zones and their files, the answering logic of an authoritative server, the
servers themselves and a resolver. The message codec is :mod:`minternet.wire.dns`."""
