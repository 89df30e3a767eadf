"""Named header field offsets, for the code that reads or patches bytes without decoding them.

In the style of smoltcp's ``mod field``: each name is an ``int`` (a one-byte field) or a ``slice``
(a multi-byte field) relative to the start of its own header, so ``ip[IPV4_TTL]`` and
``ip[IPV4_SRC]`` read an IPv4 header wherever it sits. The fast paths (a router's forwarding,
the TAP driver's offloads, the simulated switch, the diagram builder) use these instead of raw
indexes; the codecs (ethernet.py, ipv4.py, tcp.py, ...) still parse with ``struct``.

The ``FRAME_*`` names are the same fields at their place in an Ethernet frame whose IPv4 header
has no options (IHL 5), which is how the fast paths see most frames; code that takes IHL into
account computes ``ETH_HEADER_LEN + ihl + TCP_...`` instead. All are module-level constants: a
hot loop binds the ones it uses to locals.
"""

from __future__ import annotations


def shifted(field: int | slice, by: int) -> int | slice:
    """``field`` moved ``by`` bytes: where a header's field sits when the header starts at ``by``."""
    if isinstance(field, slice):
        return slice(field.start + by, field.stop + by)
    return field + by


# -- Ethernet II (IEEE 802.3), in the frame --------------------------------------------------------
ETH_DST = slice(0, 6)
ETH_SRC = slice(6, 12)
ETH_TYPE = slice(12, 14)
ETH_HEADER_LEN = 14
ETH_PAYLOAD = ETH_HEADER_LEN  # where the header ends and the packet begins
ETH_DST_FIRST = 0  # the first byte of the destination: bit 0 set = group (broadcast/multicast)
ETH_SRC_FIRST = 6
ETH_TYPE_IPV4 = b"\x08\x00"  # the EtherType field's bytes, to compare with frame[ETH_TYPE]
ETH_TYPE_ARP = b"\x08\x06"

# -- IPv4 (RFC 791 section 3.1), in the IP header --------------------------------------------------
IPV4_VER_IHL = 0  # version (high nibble) and header length in 32-bit words (low nibble)
IPV4_TOS = 1
IPV4_LENGTH = slice(2, 4)  # total length, header included
IPV4_IDENT = slice(4, 6)
IPV4_FLG_OFF = slice(6, 8)  # flags (3 bits) and fragment offset (13 bits)
IPV4_FLAGS = 6  # the byte holding the flags and the fragment offset's high bits
IPV4_FRAG_LOW = 7  # the fragment offset's low byte
IPV4_TTL = 8
IPV4_PROTOCOL = 9
IPV4_CHECKSUM = slice(10, 12)
IPV4_SRC = slice(12, 16)
IPV4_DST = slice(16, 20)
IPV4_ADDRESSES = slice(12, 20)  # both addresses: the pseudo-header's address words
IPV4_OPTIONS = 20
IPV4_MIN_HEADER_LEN = 20
IPV4_VER_IHL_PLAIN = 0x45  # version 4, IHL 5: no options
IPV4_DF_BIT = 0x40  # in the IPV4_FLAGS byte
IPV4_FRAG_MASK = 0x3F  # in the IPV4_FLAGS byte: MF and the offset's high bits (a fragment)

# -- TCP (RFC 9293 section 3.1), in the TCP header -------------------------------------------------
TCP_SRC_PORT = slice(0, 2)
TCP_DST_PORT = slice(2, 4)
TCP_SEQ = slice(4, 8)
TCP_ACK = slice(8, 12)
TCP_DATA_OFFSET = 12  # header length in 32-bit words (high nibble)
TCP_FLAGS = 13
TCP_WINDOW = slice(14, 16)
TCP_CHECKSUM = slice(16, 18)
TCP_URGENT = slice(18, 20)
TCP_OPTIONS = 20
TCP_MIN_HEADER_LEN = 20
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK_BIT, TCP_URG, TCP_ECE, TCP_CWR = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)

# -- UDP (RFC 768), in the UDP header --------------------------------------------------------------
UDP_SRC_PORT = slice(0, 2)
UDP_DST_PORT = slice(2, 4)
UDP_LENGTH = slice(4, 6)
UDP_CHECKSUM = slice(6, 8)
UDP_HEADER_LEN = 8

# -- ARP for IPv4 over Ethernet (RFC 826), in the ARP packet ---------------------------------------
ARP_FIXED = slice(0, 6)  # hardware type, protocol type, their lengths
ARP_IPV4_OVER_ETHERNET = b"\x00\x01\x08\x00\x06\x04"  # htype 1, ptype 0x0800, hlen 6, plen 4
ARP_OPER = slice(6, 8)
ARP_SHA = slice(8, 14)  # sender hardware address
ARP_SPA = slice(14, 18)  # sender protocol address
ARP_THA = slice(18, 24)
ARP_TPA = slice(24, 28)
ARP_LEN = 28

# -- the same, in an Ethernet frame with a 20-byte IPv4 header -------------------------------------
FRAME_IPV4_VER_IHL = shifted(IPV4_VER_IHL, ETH_HEADER_LEN)
FRAME_IPV4_TOS = shifted(IPV4_TOS, ETH_HEADER_LEN)
FRAME_IPV4_LENGTH = shifted(IPV4_LENGTH, ETH_HEADER_LEN)
FRAME_IPV4_IDENT = shifted(IPV4_IDENT, ETH_HEADER_LEN)
FRAME_IPV4_FLAGS = shifted(IPV4_FLAGS, ETH_HEADER_LEN)
FRAME_IPV4_FRAG_LOW = shifted(IPV4_FRAG_LOW, ETH_HEADER_LEN)
FRAME_IPV4_TTL = shifted(IPV4_TTL, ETH_HEADER_LEN)
FRAME_IPV4_PROTOCOL = shifted(IPV4_PROTOCOL, ETH_HEADER_LEN)
FRAME_IPV4_CHECKSUM = shifted(IPV4_CHECKSUM, ETH_HEADER_LEN)
FRAME_IPV4_SRC = shifted(IPV4_SRC, ETH_HEADER_LEN)
FRAME_IPV4_DST = shifted(IPV4_DST, ETH_HEADER_LEN)
FRAME_IPV4_ADDRESSES = shifted(IPV4_ADDRESSES, ETH_HEADER_LEN)
FRAME_IPV4_HEADER = slice(ETH_HEADER_LEN, ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN)
FRAME_L4 = ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN  # where the transport header starts (34)
FRAME_TCP_PORTS = slice(FRAME_L4, FRAME_L4 + 4)
FRAME_TCP_SEQ = shifted(TCP_SEQ, FRAME_L4)
FRAME_TCP_ACK = shifted(TCP_ACK, FRAME_L4)
FRAME_TCP_DATA_OFFSET = shifted(TCP_DATA_OFFSET, FRAME_L4)
FRAME_TCP_FLAGS = shifted(TCP_FLAGS, FRAME_L4)
FRAME_TCP_WINDOW = shifted(TCP_WINDOW, FRAME_L4)
FRAME_TCP_CHECKSUM = shifted(TCP_CHECKSUM, FRAME_L4)
FRAME_TCP_OPTIONS = shifted(TCP_OPTIONS, FRAME_L4)
FRAME_TCP_MIN = FRAME_L4 + TCP_MIN_HEADER_LEN  # the shortest TCP/IPv4 frame (54)
FRAME_ARP_FIXED = shifted(ARP_FIXED, ETH_HEADER_LEN)
FRAME_ARP_OPER = shifted(ARP_OPER, ETH_HEADER_LEN)
FRAME_ARP_SHA = shifted(ARP_SHA, ETH_HEADER_LEN)
FRAME_ARP_SPA = shifted(ARP_SPA, ETH_HEADER_LEN)
FRAME_ARP_TPA = shifted(ARP_TPA, ETH_HEADER_LEN)
FRAME_ARP_END = ETH_HEADER_LEN + ARP_LEN  # the shortest ARP frame (42)
