"""The TOML line locator shared by topology files and TOML zones."""

from __future__ import annotations

import tomllib

import pytest

from minternet.tomlpos import TOP, TomlLines, decode_error

TEXT = """\
name = "lab"
seed = 3

[routing]
reconverge = "2s"

[[host]]
name = "a"
interfaces = {
  eth0 = "10.0.0.1/24",
  eth1 = "10.0.1.1/24" }

[[host]]
"name" = "b"

record = "inline: a key of [[host]] #2, not of the top level"
"""


def test_keys_tables_and_arrays() -> None:
    where = TomlLines(TEXT)
    assert where.line(TOP, 0, "seed") == 2
    assert where.line(TOP, 0, "missing") == 1  # the top level starts at line 1
    assert where.line("routing") == 4 and where.line("routing", 0, "reconverge") == 5
    assert where.line("host", 0) == 7 and where.line("host", 0, "name") == 8
    assert where.line("host", 1, "name") == 14  # a quoted key
    assert where.line("host", 1, "interfaces") == 13  # not there: the table's header
    assert where.line("host", 2) is None
    assert where.line(TOP, 0, "record") == 1  # a key of [[host]] #2 is no key of the top level


def test_a_needle_is_found_inside_its_table_only() -> None:
    where = TomlLines(TEXT)
    assert where.line("host", 0, "interfaces", needle="eth1") == 11
    assert where.line("host", 0, "interfaces", needle="nowhere") == 9  # the key's line
    assert where.line("host", 1, None, needle="eth1") == 13  # not in [[host]] #2: its header


def test_inline_tables_fall_back_to_their_top_level_key() -> None:
    where = TomlLines('origin = "x"\nsoa = { mname = "ns1" }\nrecord = [\n  { type = "A" },\n]\n')
    assert where.line("soa", 0, "mname") == 2
    assert where.line("record", 0, "type") == 3


def test_decode_error_gives_the_line_and_a_message_without_the_position() -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as exc:
        tomllib.loads('a = 1\nb = \n')
    line, message = decode_error(exc.value)
    assert line == 2 and "line" not in message and message
