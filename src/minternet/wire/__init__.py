"""Pure packet codecs: bytes -> frozen typed object -> bytes. No state, no time.

Every ``decode`` validates lengths, versions, offsets and checksums and raises
:class:`MalformedPacket` (and nothing else) on bad input.
"""

from .arp import ARP, ARPOp
from .checksum import incremental_update, internet_checksum, is_valid, ones_sum, pseudo_header_sum
from .dissect import Dissection, dissect
from .errors import MalformedPacket
from .ethernet import BROADCAST, EtherType, Ethernet, mac_from_str, mac_to_str
from .icmp import ICMP, ICMPType, TimeExceededCode, UnreachCode
from .ipv4 import IPFlags, IPProto, IPv4
from .pcap import PcapWriter
from .tcp import (EOL, MSS, NOP, TCP, OptionsCutShort, Sack, SackPermitted, TCPFlags, Timestamps,
                  UnknownOption, WindowScale)
from .udp import UDP

__all__ = [
    "ARP", "ARPOp", "BROADCAST", "Dissection", "EOL", "EtherType", "Ethernet", "ICMP", "ICMPType",
    "IPFlags", "IPProto", "IPv4", "MSS", "MalformedPacket", "NOP", "OptionsCutShort", "PcapWriter", "Sack",
    "SackPermitted", "TCP", "TCPFlags", "TimeExceededCode", "Timestamps", "UDP", "UnknownOption",
    "UnreachCode", "WindowScale", "dissect", "incremental_update", "internet_checksum", "is_valid",
    "mac_from_str", "mac_to_str", "ones_sum", "pseudo_header_sum",
]
