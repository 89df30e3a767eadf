"""The internet layer: IPv4 routing, forwarding, fragmentation and reassembly, ICMP."""
