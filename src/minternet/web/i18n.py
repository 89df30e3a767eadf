"""The live view's words in English and Korean: one catalogue, ``static/i18n.json``.

The page reads the same file (static/i18n.js). What the server tells the page (an action's result,
an error) goes as a :class:`Message`: a ``str`` in English, as before, that also carries its key and
values, so the page shows it in the reader's language.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

LANGS = ("en", "ko")
_SLOT = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """key -> {"en": text, "ko": text}."""
    f = resources.files("minternet").joinpath("web", "static", "i18n.json")
    return json.loads(f.read_text(encoding="utf-8"))


def fill(template: str, values: dict[str, Any]) -> str:
    """``{name}`` -> value, as the page does (no format specs: values come formatted)."""
    return _SLOT.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def text(key: str, lang: str = "en", **values: Any) -> str:
    entry = catalogue()[key]
    return fill(entry.get(lang) or entry["en"], values)


class Message(str):
    """A line for the user: the English text, with ``key`` and ``values`` for the page to translate."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, **values: Any) -> "Message":
        values = {k: str(v) for k, v in values.items()}
        self = super().__new__(cls, text(key, "en", **values))
        self.key, self.values = key, values
        return self

    def to_json(self) -> dict[str, Any]:
        return {"message": str(self), "key": self.key, "args": self.values}


def best_language(accept: str | None) -> str | None:
    """The first of our languages an Accept-Language header asks for (RFC 9110 12.5.4), if any."""
    if not accept:
        return None
    ranked = []
    for n, part in enumerate(accept.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.append((-q, n, tag.strip().lower().split("-")[0]))
    for q, _, lang in sorted(ranked):
        if q < 0 and lang in LANGS:
            return lang
    return None
