"""The network interface layer: interfaces (MAC, MTU, addresses) and ARP."""
