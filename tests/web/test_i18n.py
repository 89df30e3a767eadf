"""The live view's catalogue (static/i18n.json): every word in both languages, every key used exists."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from minternet.web.i18n import LANGS, Message, best_language, catalogue, text
from minternet.web.session import ActionError

STATIC = resources.files("minternet").joinpath("web", "static")
SLOT = re.compile(r"\{(\w+)\}")


def test_every_message_in_both_languages_with_the_same_slots():
    for key, entry in catalogue().items():
        assert set(entry) == set(LANGS), key
        assert all(entry[lang].strip() for lang in LANGS), key
        assert set(SLOT.findall(entry["en"])) == set(SLOT.findall(entry["ko"])), key
        if key != "_comment" and not key.startswith(("event.", "reason.", "layer.")):
            assert entry["ko"] != entry["en"] or not re.search("[a-z]{3}", entry["en"]), f"{key} is not translated"


def used_keys() -> set[str]:
    keys = set()
    for name in ("app.js", "detail.js", "i18n.js", "tour.js", "tcpplot.js", "index.html"):
        f = STATIC.joinpath(name)
        if not f.is_file():
            continue
        src = f.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\bt\('([\w.-]+)'[,)]", src))
        keys |= set(re.findall(r'data-i18n(?:-title|-placeholder|-aria)?="([\w.-]+)"', src))
        keys |= set(re.findall(r"dataset\.i18n\w* = '([\w.-]+)'", src))
    for name in ("session.py", "server.py"):
        src = resources.files("minternet").joinpath("web", name).read_text(encoding="utf-8")
        keys |= set(re.findall(r'(?:ActionError|Message)\("([\w.-]+)"', src))
    return keys


def test_every_key_the_page_and_server_use_is_in_the_catalogue():
    keys = used_keys()
    assert len(keys) > 60
    missing = sorted(k for k in keys if k not in catalogue())
    assert not missing


def test_messages_carry_their_key_and_read_as_english():
    m = Message("srv.started", app="ping", host="client")
    assert m == "ping started on client" and m.to_json()["key"] == "srv.started"
    assert text("srv.started", "ko", app="ping", host="client") == "client에서 ping을(를) 시작했습니다"
    err = ActionError("err.no-node", name="mars")
    assert str(err) == "no node named 'mars'" and err.to_json()["args"] == {"name": "mars"}
    assert ActionError("a sentence of its own").to_json() == {"message": "a sentence of its own"}


@pytest.mark.parametrize("header, lang", [
    ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"), ("en-US,en;q=0.9", "en"), ("fr-FR, ko;q=0.5", "ko"),
    ("en;q=0.2, ko;q=0.8", "ko"), ("fr, de", None), ("", None), (None, None), ("ko;q=0", None), ("ko;q=x, en", "en")])
def test_accept_language(header, lang):
    assert best_language(header) == lang
