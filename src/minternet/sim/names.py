"""The one rule for the names of nodes (hosts, routers, switches), wherever a node is made: a
topology file's ``name = ...``, :meth:`Network.add_host`, ``add_router`` and ``add_switch``.

A name is letters, digits, '-', '_' and '.', starting with a letter or digit. Why so narrow:
names are written next to other things, so the characters that join or separate them are out
(':' joins a node to its interface in "r1:eth0", ',' separates names in ``--hosts a,b``, and
spaces separate the columns of traces and timelines); and a name is a file name in pcap
output (``client-eth0.pcap``), so '/' is out as well.
"""

from __future__ import annotations

import re

__all__ = ["check_node_name", "NODE_NAME"]

NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_node_name(name: object) -> str:
    """``name`` if it is a valid node name; ValueError saying what a valid one looks like."""
    if not isinstance(name, str) or not NODE_NAME.fullmatch(name):
        raise ValueError(f"bad node name {name!r}: use letters, digits, '-', '_' and '.', starting with "
                         "a letter or digit, like \"client\" or \"r1\"")
    return name
