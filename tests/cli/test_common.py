"""The one command-line rule (the host first), said in --help and enforced with a hint."""

from __future__ import annotations

import argparse

import pytest

from minternet.cli import COMMAND_MODULES, build_parser, main
from minternet.cli.common import HOST_COMMANDS, from_flag_hint, host_first_usage


def subparsers() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def test_main_help_says_the_rule(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Commands that run on a simulated host take that host first, then the real tool's own arguments" in out
    assert "minternet dig client www.example.com @10.0.2.53" in out


@pytest.mark.parametrize("command", HOST_COMMANDS)
def test_every_host_command_has_host_first_in_its_usage(command):
    usage = subparsers()[command].format_usage()
    assert usage.startswith(f"usage: minternet {command} HOST ")
    assert all(len(line) <= 78 for line in usage.splitlines())


@pytest.mark.parametrize("argv, right", [
    (["ping", "--from", "client", "server", "-c", "3"], "minternet ping client server -c 3"),
    (["traceroute", "server", "--from=client"], "minternet traceroute client server"),
    (["transfer", "--from", "client", "server", "--bytes", "1MB"], "minternet transfer client server --bytes 1MB"),
    (["curl", "http://www.example.com/", "--from", "client"], "minternet curl client http://www.example.com/"),
    (["dig", "www.example.com", "--from", "client"], "minternet dig client www.example.com"),
])
def test_from_host_fails_with_the_right_spelling(capsys, argv, right):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: minternet {argv[0]} HOST")
    assert err.rstrip().endswith(f"minternet {argv[0]}: error: the host comes first: {right}")


def test_from_means_a_time_for_diagram():
    assert from_flag_hint(["diagram", "t.jsonl", "--from", "0.5"]) is None
    assert from_flag_hint([]) is None
    assert from_flag_hint(["ping", "--from"]) == "the host comes first: minternet ping HOST"


def test_usage_wraps_whole_options():
    p = argparse.ArgumentParser(prog="minternet tool")
    for n in range(12):
        p.add_argument(f"--option-{n}", metavar="VALUE")
    p.add_argument("--flag", action="store_true")
    p.add_argument("--hidden", help=argparse.SUPPRESS)
    host_first_usage(p, "HOST ARG")
    lines = p.format_usage().splitlines()
    assert lines[0].startswith("usage: minternet tool HOST ARG [-h] [--option-0 VALUE]")
    assert all(len(line) <= 78 for line in lines) and len(lines) > 2
    assert all(line.startswith(" " * len("usage: minternet tool ") + "[") for line in lines[1:])
    text = " ".join(lines)
    assert "[--flag]" in text and "--hidden" not in text and text.count("[--option-") == 12


def test_every_command_module_registers_through_add_commands():
    seen: list[str] = []
    for module in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        module.add_commands(sub)
        assert sub.choices, module.__name__
        seen += sub.choices
    assert seen == list(subparsers())  # one list, in the order --help shows, nothing added elsewhere
