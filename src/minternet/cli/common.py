"""What every ``minternet`` subcommand shares: loading the network, closing it, the common options,
argument types, and the one command-line rule for commands that run on a simulated host."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from ..runtime import NS_PER_S
from ..sim.example import load_example
from ..sim.topology import Topology, load
from ..sim.units import parse_size, parse_time

# The rule: a command that runs on a simulated host takes that host first, then the real tool's own
# arguments and flags, shaped like the real tool. Said once here, in `minternet --help`, and in the
# usage of each such command.
HOST_RULE = ("Commands that run on a simulated host take that host first, then the real tool's own "
             "arguments: minternet ping client server -c 3  |  minternet traceroute client server  |  "
             "minternet dig client www.example.com @10.0.2.53 +norecurse  |  "
             "minternet curl client http://www.example.com/  |  minternet transfer client server --bytes 1MB")
HOST_COMMANDS = ("ping", "traceroute", "transfer", "dig", "curl")


class UsageError(Exception):
    """A command line argparse accepted but the command cannot: reported like argparse's own
    errors (usage, then ``minternet CMD: error: ...``, exit status 2)."""


def load_topology(args: argparse.Namespace, out: Callable[[str], None] = print) -> Topology:
    """The network a command runs on (``-t FILE`` or the built-in example), with the trace,
    pcap and timeline printing its options ask for."""
    if getattr(args, "topology", None):
        topo = load(args.topology, seed=args.seed, out=out)
    else:
        topo = load_example(seed=args.seed, out=out)
    for warning in topo.warnings:
        print(f"minternet: warning: {warning}", file=sys.stderr)
    net = topo.network
    if args.trace:
        net.trace_to(args.trace)
    if args.pcap:
        net.capture(args.pcap, nanosecond=args.pcap_ns)
    if args.verbose:
        # -v: IP-level events, ARP, faults and route changes; -vv: also every frame on every link.
        layers = None if args.verbose > 1 else {"ip", "icmp", "udp", "tcp", "arp", "fault", "route"}
        net.print_timeline(sys.stdout, layers=layers)
    return topo


def finish_run(args: argparse.Namespace, topo: Topology) -> None:
    """Close the network; print the counters (--stats) and where the pcap and trace went."""
    net = topo.network
    net.close()
    if getattr(args, "stats", False):
        print()
        for node in net.hosts:
            text = node.netstat()
            if "\n" in text:
                print(text)
        link_drops = {k: v for k, v in sorted(net.stats.items()) if v}
        if link_drops:
            print("links:")
            for k, v in link_drops.items():
                print(f"    {v:>8}  {k.replace('drop.', 'dropped: ')}")
    if args.pcap:
        print(f"\npcap files written to {args.pcap}/ (one per interface; open them in Wireshark)", file=sys.stderr)
    if args.trace:
        print(f"trace written to {args.trace} (JSON lines)", file=sys.stderr)


def add_common(p: argparse.ArgumentParser, topology_flag: bool = True) -> None:
    """The options every command that runs a network takes."""
    if topology_flag:
        p.add_argument("-t", "--topology", metavar="FILE",
                       help="topology file (TOML); default: the built-in example internet")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same run); default: the file's or 0")
    p.add_argument("--trace", metavar="FILE", help="write every event as JSON lines to FILE")
    p.add_argument("--pcap", metavar="DIR", help="write a pcap file per interface into DIR")
    p.add_argument("--pcap-ns", action="store_true", help="nanosecond pcap timestamps (default: microseconds)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="print the timeline of packets as they move (-vv: every frame on every link)")
    p.add_argument("--stats", action="store_true", help="print each node's counters at the end, like netstat -s")


def time_arg(text: str) -> int:
    """A time like 1.5, 200ms or 2s (seconds without a unit), in nanoseconds."""
    try:
        return parse_time(text if any(c.isalpha() for c in text) else f"{text}s")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def rto_min_arg(text: str) -> int:
    """TCP's minimum RTO term: more than 0 and at most 120s (Linux's TCP_RTO_MAX), as the
    topology's ``tcp = { rto_min = ... }`` requires."""
    ns = time_arg(text)
    if not 0 < ns <= 120 * NS_PER_S:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 120s (Linux's TCP_RTO_MAX), "
                                         f"got {text!r}")
    return ns


def size_arg(text: str) -> int:
    """A size like 1000000, 10MB or 64KiB, in bytes."""
    try:
        return parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (like 1000000, 10MB, 64KiB)") from None


def host_first_usage(p: argparse.ArgumentParser, positionals: str) -> None:
    """Set the usage of a command that runs on a host so that it reads as the rule does:
    ``minternet ping HOST DEST [-c COUNT] ...`` (argparse would put the positionals last).
    Call it after every option is added."""
    parts = []
    for action in p._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        flag = action.option_strings[0]
        if action.nargs == 0:
            parts.append(f"[{flag}]")
        else:
            metavar = action.metavar or (f"{{{','.join(map(str, action.choices))}}}" if action.choices
                                         else action.dest.upper())
            parts.append(f"[{flag} {metavar}]")
    # Wrapped the way argparse wraps its own: whole [options] only, continued under the first argument.
    indent = " " * (len("usage: ") + len(p.prog) + 1)
    lines = [f"{p.prog} {positionals}"]
    for part in parts:
        if len("usage: ") + len(lines[-1]) + 1 + len(part) > 78:
            lines.append(indent + part)
        else:
            lines[-1] += " " + part
    p.usage = "\n".join(lines).replace("%", "%%")


def from_flag_hint(argv: list[str]) -> str | None:
    """For ``minternet CMD ... --from HOST ...`` on a command that runs on a host: the message that
    names the right spelling (the host first); None for any other command line."""
    if not argv or argv[0] not in HOST_COMMANDS:
        return None
    rest = argv[1:]
    for i, word in enumerate(rest):
        if word == "--from" or word.startswith("--from="):
            if word == "--from":
                host = rest[i + 1] if i + 1 < len(rest) else "HOST"
                others = rest[:i] + rest[i + 2:]
            else:
                host = word.split("=", 1)[1] or "HOST"
                others = rest[:i] + rest[i + 1:]
            return f"the host comes first: minternet {argv[0]} {' '.join([host, *others])}"
    return None
