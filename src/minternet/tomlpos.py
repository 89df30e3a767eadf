"""Where things are in a TOML text, for error messages that name a line.

tomllib gives values but no positions, so topology files (:mod:`minternet.sim.topology`) and TOML
zones (:mod:`minternet.application.dns.zonetoml`) both scan the text once with
:class:`TomlLines` and ask it for the line of a table, of a key in it, or of a word inside a
key's value. A light scan, not a second parser: it knows ``[table]``, ``[[array]]`` and
``key =`` at the start of a line, which is how these files are written. It lives outside sim/
and application/ because both use it and neither may import the other.
"""

from __future__ import annotations

import re
import tomllib

__all__ = ["TomlLines", "decode_error"]

TOP = ""  # the name of the top level, the keys before any table header


class TomlLines:
    """The lines of the tables and keys of one TOML text.

    A table is named by its name and, for the tables of an array (``[[host]]``), its index:
    ``("host", 2)`` is the third ``[[host]]``; a plain ``[routing]`` is index 0, and the keys
    before any header are the table ``TOP``. Each key is found at its first line in its table.
    """

    _HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\-\"]+)\s*\]")
    _KEY = re.compile(r"\s*\"?([A-Za-z0-9_\-]+)\"?\s*=")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # (table, index) -> [header line, last line of its body]; the top level starts at line 1
        self._spans: dict[tuple[str, int], list[int]] = {(TOP, 0): [1, len(self.lines)]}
        self._keys: dict[tuple[str, int], dict[str, int]] = {(TOP, 0): {}}
        counts: dict[str, int] = {}
        current = (TOP, 0)
        for no, line in enumerate(self.lines, start=1):
            if m := self._HEADER.match(line):
                name = m.group(2).strip('"')
                if m.group(1) == "[[":
                    counts[name] = counts.get(name, -1) + 1
                    table = (name, counts[name])
                else:
                    table = (name, 0)
                self._spans[current][1] = no - 1  # the table before ends where this one starts
                current = table
                self._spans.setdefault(current, [no, len(self.lines)])
                self._keys.setdefault(current, {})
            elif m := self._KEY.match(line):
                self._keys[current].setdefault(m.group(1), no)

    def line(self, table: str = TOP, index: int = 0, key: str | None = None,
             needle: str | None = None) -> int | None:
        """The line of ``key`` in the table (its header line when the key is not found), or with
        ``needle`` the first line from the key to the table's end that contains that text (say
        one interface of an ``interfaces = { ... }`` written over several lines).

        A table without a header of its own may be written inline at the top level (``record =
        [{...}]``, ``soa = {...}``): then the line of that key. None when it is nowhere.
        """
        span = self._spans.get((table, index))
        if span is None:
            return self._keys[(TOP, 0)].get(table)
        keys = self._keys[(table, index)]
        start = keys.get(key, span[0]) if key is not None else span[0]
        if needle is not None:
            for no in range(start, span[1] + 1):
                if needle in self.lines[no - 1]:
                    return no
        return start


_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)")


def decode_error(exc: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    """The line a TOML syntax error is on and its message without the position, for a
    ``FILE:LINE: not valid TOML: message`` report."""
    m = _POSITION.search(str(exc))
    return (int(m.group(1)) if m else None), _POSITION.sub("", str(exc))
