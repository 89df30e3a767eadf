"""The ``minternet`` command: one module per family of subcommands, each with ``add_commands``.

The modules are in :data:`COMMAND_MODULES`, in the order ``minternet --help`` lists their commands;
a new family is a module with ``add_commands(subparsers)`` added to that list. Heavy imports stay
inside the command functions, so that ``minternet --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import sys

from ..sim.topology import TopologyError
from . import attach, demo, diagram, dns, http, plot, programs, sim, web
from .common import HOST_RULE, UsageError, from_flag_hint

COMMAND_MODULES = [
    sim,  # ping, traceroute, run, show, routes, check, example, transfer
    dns,  # dig, dns-serve
    http,  # http-serve, curl
    programs,  # exec
    diagram,  # diagram
    plot,  # plot
    attach,  # attach
    web,  # web
    demo,  # demo
]


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the top-level options and every module's subcommands."""
    parser = argparse.ArgumentParser(
        prog="minternet",
        description="A miniature internet: simulated hosts, routers and links where every packet "
                    "can be watched. Commands run on a topology file (-t FILE) or on the built-in example.",
        epilog=f"{HOST_RULE}.   Start with: minternet demo   |   minternet ping client server -v   |   "
               "minternet example > my.toml")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"minternet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def main(argv: list[str] | None = None) -> int:
    """Run ``minternet`` with ``argv`` (default: the process's arguments); returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    hint = from_flag_hint(argv)
    if hint:
        _subparser(parser, argv[0]).error(hint)  # exits with status 2, like any usage error
    # dig's "@SERVER" may come anywhere on its line: pull it out before argparse sees it (only for
    # dig: curl's "-d @file" means something else).
    at = []
    if argv and argv[0] == "dig":
        at = [a for a in argv[1:] if a.startswith("@")]
        argv = [a for a in argv if not (a.startswith("@") and a in at)]
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) == "dig" and not any(w.startswith("-") for w in extra):
        # dig's words may stand between its +flags, as with the real dig (argparse stops at the first
        # flag); its EDNS +options (+edns=N, +bufsize=N, ...) are read with them (cli/dns.py _dig_flags).
        args.words += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")  # what parse_args says
    if hasattr(args, "server"):
        args.server = at[0] if at else None
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as exc:
        _subparser(parser, args.command).error(str(exc))
    except TopologyError as exc:
        print(f"minternet: error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"minternet: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 2  # not reached: error() exits


if __name__ == "__main__":
    sys.exit(main())
