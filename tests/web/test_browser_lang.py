"""End to end: the live view in Korean and English (headless chromium, see conftest.py)."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("aiohttp")

from minternet.sim.example import example_text  # noqa: E402
from minternet.sim.topology import loads  # noqa: E402
from minternet.web.server import ServerThread  # noqa: E402
from minternet.web.session import Session  # noqa: E402

# Latin words that may stay on the Korean page: protocol and program names, units, the tools'
# names, and the field names of the layer view as Wireshark shows them.
PROTOCOLS = {"ARP", "ICMP", "UDP", "DNS", "TCP", "HTTP", "IPv4", "IP", "Ethernet", "MTU", "TTL", "MAC", "QUIC",
             "TLS", "SYN", "ACK", "FIN", "RST", "EtherType", "PAWS", "LAN"}
NAMES = {"minternet", "ping", "traceroute", "dig", "curl", "transfer", "pcap", "JSON", "lines", "Wireshark",
         "English", "KB", "ms", "us", "SW", "OTHER"}
FIELDS = {"destination", "source", "ethertype", "operation", "sender", "target", "version", "header", "length",
          "TOS", "total", "identification", "flags", "fragment", "offset", "protocol", "checksum", "options",
          "type", "code", "rest", "of", "data", "identifier", "sequence", "number", "port", "acknowledgment",
          "window", "urgent", "pointer", "payload", "ID", "opcode", "rcode", "questions", "answers", "authority",
          "additional", "question", "answer", "start", "line", "body"}
ALLOWED = PROTOCOLS | NAMES | FIELDS

# The page's interface, not its data: names and addresses from the topology, the events'
# summaries (packets, as tcpdump writes them), what programs print, field values and bytes.
INTERFACE_TEXT = """(more) => {
  const data = (more ? more + ', ' : '') + '#netname, #topo .node text, #topo .link title, #topo .node title, .row .s, .row .n, .row .t,'
    + ' #detail .summary, #detail .field .v, #detail #hex, #detail h3, #runHost, #nodeSel, #linkSel,'
    + ' #hostFilter option:not([value=""]), #clock, #speedText, #count, #lang';
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { if (node.textContent.trim()) out.push(node.textContent.trim()); return; }
    if (node.nodeType !== Node.ELEMENT_NODE || node.matches(data) || node.matches('script, style')) return;
    for (const a of node.matches('.row') ? [] : ['title', 'placeholder', 'aria-label']) if (node.getAttribute(a)) out.push(node.getAttribute(a));
    node.childNodes.forEach(walk);
  };
  walk(document.body);
  out.push(document.title);
  return out;
}"""


def english_left(texts: list[str], names: set[str] = frozenset()) -> list[str]:
    """Latin words that are neither allowed nor the names of the network's nodes."""
    return sorted({w for s in texts for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", s) if w not in ALLOWED | names})


@pytest.fixture
def served(request):
    lang = getattr(request, "param", None)
    topo = loads(example_text(), "(test)", seed=0, out=lambda line: None)
    session = Session(topo)
    server = ServerThread(session, lang=lang)
    yield session, server
    server.stop()
    session.close()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("window.mv && window.mv.topo && window.mv.features.actions !== undefined")


def busy_page(page) -> None:
    """A ping's packets in the list and one packet's layers open: most of the page's words shown."""
    page.select_option("#runApp", "ping")
    page.click("#runGo")
    page.wait_for_function("mv.lastStatus && mv.lastStatus.key === 'srv.started'")
    page.evaluate("v => { const s = document.getElementById('speed'); s.value = v; s.dispatchEvent(new Event('input')); }", 0)
    page.click("#play")
    page.wait_for_function("mv.events.some(e => e.proto === 'icmp' && e.layer === 'link')", timeout=20000)
    page.click("#play")
    i = page.evaluate("mv.events.find(e => e.proto === 'icmp' && e.layer === 'link' && e.event === 'send').i")
    page.evaluate("i => mv.select(i)", i)
    page.locator(f".row[data-i='{i}']").click()
    page.locator("#detail .layer[data-layer=ICMP]").wait_for()


@pytest.mark.parametrize("served", ["ko"], indirect=True)
def test_the_korean_page_has_no_english_left(page, served):
    session, server = served
    open_page(page, server.url)
    assert page.evaluate("document.documentElement.lang") == "ko"
    busy_page(page)
    texts = page.evaluate(INTERFACE_TEXT)
    assert "재생" in " ".join(texts) and "프로그램 실행" in texts
    left = english_left(texts, set(session.net.nodes))
    assert left == [], (left, [s for s in texts if any(w in s for w in left)][:30])
    # The words around the data are Korean too: the event column, the detail's heading, the map.
    assert page.locator(".row .e", has_text="링크 보냄").count() > 0
    assert "링크 보냄" in page.text_content("#detail h3")
    assert "이벤트" in page.text_content("#count")
    assert page.text_content("#status") == "client에서 ping을(를) 시작했습니다"
    # A mistake the server reports, in Korean.
    page.fill("#runTarget", "")
    page.click("#runGo")
    page.wait_for_function("document.getElementById('status').textContent.includes('어디로 보낼지')")


def test_the_english_page_and_the_switch(page, served):
    session, server = served
    page.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})
    open_page(page, server.url)
    assert page.text_content("#play") == "▶ play"
    busy_page(page)
    english = page.evaluate(INTERFACE_TEXT)
    assert "run a program" in english and english_left(english)  # the check above can fail
    page.select_option("#lang", "ko")
    page.wait_for_function("document.documentElement.lang === 'ko'")
    assert "lang=ko" in page.url
    assert english_left(page.evaluate(INTERFACE_TEXT), set(session.net.nodes)) == []
    assert page.text_content("#status") == "client에서 ping을(를) 시작했습니다"  # said before, said again
    assert page.locator("#detail .layer[data-layer=ICMP]").count() == 1
    page.reload()  # the choice is in the address, so it stays
    open_page(page, page.url)
    assert page.text_content("#play") == "▶ 재생"
    page.select_option("#lang", "en")
    assert page.text_content("#play") == "▶ play"


def test_the_language_follows_the_flag_then_the_browser(page, served):
    _, server = served
    page.set_extra_http_headers({"Accept-Language": "ko-KR,ko;q=0.9"})
    open_page(page, server.url)
    assert page.text_content("#runGo") == "실행"
    page.set_extra_http_headers({"Accept-Language": "fr-FR"})  # neither: navigator.languages decides
    page.add_init_script("Object.defineProperty(navigator, 'languages', { get: () => ['ko-KR'] })")
    open_page(page, server.url)
    assert page.text_content("#runGo") == "실행"
    server.server.lang = "en"  # as --lang en: the flag beats the browser
    open_page(page, server.url)
    assert page.text_content("#runGo") == "run"
