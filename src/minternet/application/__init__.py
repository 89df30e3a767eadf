"""Programs that run on a host: ping, traceroute (DNS and HTTP come with their issues)."""
