"""End to end: the live view in headless chromium (see conftest.py for the browser)."""

from __future__ import annotations

import concurrent.futures

import pytest

pytest.importorskip("aiohttp")

from minternet.sim.example import example_text  # noqa: E402
from minternet.sim.topology import loads  # noqa: E402
from minternet.web.server import ServerThread  # noqa: E402
from minternet.web.session import Session  # noqa: E402


def serve(text: str | None = None):
    topo = loads(text or example_text(), "(test)", seed=0, out=lambda line: None)
    session = Session(topo)
    return session, ServerThread(session)


@pytest.fixture
def live():
    session, server = serve()
    yield session, server
    server.stop()
    session.close()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("window.mv && window.mv.topo && window.mv.features.actions !== undefined")


def set_speed(page, log10: float) -> None:
    """The speed slider is logarithmic: 10**value virtual seconds per second."""
    page.evaluate("v => { const s = document.getElementById('speed'); s.value = v;"
                  " s.dispatchEvent(new Event('input')); }", log10)


def run_program(page, app: str, host: str, target: str) -> None:
    page.select_option("#runHost", host)
    page.select_option("#runApp", app)
    page.fill("#runTarget", target)
    page.click("#runGo")
    page.wait_for_selector("#status:has-text('started on')")


def test_example_plays_packets_arrive_and_ping_replies(page, live):
    session, server = live
    open_page(page, server.url)
    assert page.locator("#topo .node").count() == len(session.net.nodes)
    assert page.locator("#topo .link").count() == len(session.net.links)
    assert page.locator("#topo .link text").first.text_content() == "1 ms"
    run_program(page, "ping", "client", "server")
    page.click("#play")
    # A frame is drawn on its link while it crosses it...
    page.wait_for_function("Number(document.getElementById('packets').dataset.count) > 0", timeout=15000)
    assert page.locator("#packets circle.packet").first.get_attribute("fill")
    # ...and the replies come back into the event list.
    set_speed(page, 0)
    page.locator(".row", has_text="bytes from 10.0.2.10: icmp_seq=1").wait_for(timeout=20000)
    page.click("#play")  # pause
    t = page.evaluate("mv.T")
    page.click("#back")
    assert page.evaluate("mv.T") < t
    page.fill("#jumpTo", "soon")
    page.click("#jump")
    assert "is not a time" in page.text_content("#status")
    page.fill("#jumpTo", "1ms")
    page.click("#jump")
    assert page.evaluate("mv.T") == 1_000_000
    page.click("#step")
    t = page.evaluate("mv.T")
    assert t > 1_000_000
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("mv.T") > t
    # At the live edge a step asks the server to run the next moment (ping's next request).
    page.click("#live")
    page.wait_for_function("mv.T === mv.serverNow")
    before = page.evaluate("[mv.events.length, mv.serverNow]")
    page.click("#step")
    page.wait_for_function("b => mv.events.length > b[0] && mv.T > b[1] && mv.T === mv.serverNow", arg=before)


def test_tcp_segment_sequence_number_in_the_layer_view(page, live):
    _, server = live
    open_page(page, server.url)
    run_program(page, "transfer", "client", "server")
    set_speed(page, 0)
    page.click("#play")
    page.wait_for_function("mv.events.some(e => e.proto === 'tcp' && e.layer === 'link' && e.summary.includes('[S.]'))",
                           timeout=20000)
    page.click("#play")  # pause
    for proto in ("arp", "icmp", "udp", "dns", "http", "other"):
        page.uncheck(f"input[data-proto={proto}]")
    page.evaluate("() => { const b = document.getElementById('list'); b.scrollTop = 0;"
                  " b.dispatchEvent(new Event('scroll')); }")  # the handshake is at the top
    row = page.locator(".row", has_text="[S]").filter(has_text="link send").first
    summary = row.text_content()
    row.click()
    field = page.locator("#detail .layer[data-layer=TCP] .field", has_text="sequence number")
    field.wait_for()
    seq = field.locator(".v").text_content()
    assert f"seq={seq} " in summary
    field.click()
    lit = page.locator("#hex b.hl")
    assert lit.count() == 4
    assert int("".join(lit.all_text_contents()), 16) == int(seq)
    assert page.locator("#detail .layer").evaluate_all("ls => ls.map(l => l.dataset.layer)") == ["Ethernet", "IPv4", "TCP"]


def test_router_down_shows_drops(page, live):
    _, server = live
    open_page(page, server.url)
    page.click("#topo .node[data-node=r2]")
    assert page.input_value("#nodeSel") == "r2"
    page.click("#nodeDown")
    page.wait_for_selector("#topo .node.down[data-node=r2]")
    run_program(page, "ping", "client", "server")
    set_speed(page, -0.5)
    page.click("#play")
    # The mark of a drop is on screen for a moment only: read where it is while it is there.
    where = page.wait_for_function("() => { const g = document.querySelector('#drops g.drop');"
                                   " return g && mv.events[Number(g.dataset.i)].node; }", timeout=20000)
    assert where.json_value() == "r2"
    page.locator(".row.drop", has_text="node-down").first.wait_for(timeout=5000)
    page.select_option("#kindFilter", "drop")
    classes = page.locator("#list .row").evaluate_all("rows => rows.map(r => r.className)")  # at one instant
    assert classes and all(" drop" in c for c in classes), classes
    page.select_option("#kindFilter", "")
    # A link's loss and delay change while it runs, and its label says so.
    # (The click goes to the link itself: a drop's mark, still flying, may cover the line's middle.)
    page.locator("#topo .link[data-link='3'] line.hit").dispatch_event("click")
    assert page.input_value("#linkSel") == "3"
    page.fill("#linkLoss", "0.25")
    page.fill("#linkDelay", "40ms")
    page.click("#linkSet")
    page.wait_for_selector("#topo .link[data-link='3'] text:has-text('40 ms, loss 25%')")


def test_replay_of_a_recorded_trace(page, tmp_path):
    from minternet.application.ping import ping
    from minternet.web.session import ReplaySession
    trace = tmp_path / "trace.jsonl"

    def record() -> None:
        topo = loads(example_text(), "(test)", seed=0, out=lambda line: None)
        topo.network.trace_to(str(trace))
        topo.network.run_app(ping(topo.network.host("client"), "10.0.2.10", count=1))
        topo.network.close()
    # On a thread of its own: Playwright's sync API keeps an asyncio loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(record).result()
    session = ReplaySession.from_file(loads(example_text(), "(test)", out=lambda line: None).network, str(trace))
    server = ServerThread(session)
    try:
        open_page(page, server.url)
        assert page.text_content("#mode") == "replay"
        assert page.locator("#runGo").is_disabled() and page.locator("#nodeDown").is_disabled()
        set_speed(page, -0.5)
        page.click("#play")
        page.wait_for_function("Number(document.getElementById('packets').dataset.count) > 0", timeout=15000)
        page.wait_for_function("n => mv.events.length === n", arg=len(session._recorded), timeout=20000)
        # Stop in the middle of an echo request's flight and click the packet itself.
        page.click("#play")
        page.evaluate("() => { const f = mv.flights.find(f => f.proto === 'icmp');"
                      " mv.following = false; mv.T = (f.t0 + f.t1) / 2; }")
        dot = page.locator("#packets circle.packet[data-proto=icmp]").first
        dot.wait_for()
        dot.dispatch_event("click")
        page.locator("#detail .layer[data-layer=ICMP] .field", has_text="sequence number").wait_for()
    finally:
        server.stop()
        session.close()


def test_10000_events_stay_usable(page):
    session, server = serve()
    try:
        ex = session.executor
        ex.submit(session.act, {"cmd": "run", "app": "transfer", "host": "client", "target": "server",
                                "bytes": 1_000_000}).result()
        for t in range(1, 30):  # until the transfer has made 10,000 events (a few seconds of virtual time)
            ex.submit(session.advance, t * 1_000_000_000).result()
            if len(session.events) >= 10_000:
                break
        n = len(session.events)
        assert n >= 10_000
        open_page(page, server.url)
        page.wait_for_function("n => mv.events.length >= n", arg=n, timeout=20000)
        assert page.locator("#list .row").count() < 100  # the DOM holds only the rows in view
        # Timed inside the page (not through Playwright's round trips): 20 scrolls across the whole
        # list and three filter changes, each redrawing the visible rows.
        ms = page.evaluate("""() => {
            const b = document.getElementById('list'), t0 = performance.now();
            for (let k = 0; k < 20; k++) { b.scrollTop = k / 20 * b.scrollHeight; b.dispatchEvent(new Event('scroll')); }
            const tcp = document.querySelector('input[data-proto=tcp]');
            tcp.click(); tcp.click();
            const host = document.getElementById('hostFilter');
            host.value = 'r1'; host.dispatchEvent(new Event('change'));
            return performance.now() - t0; }""")
        assert ms < 1000, f"20 scrolls and 3 filter changes over {n} events took {ms:.0f} ms"
        assert page.locator("#list .row").count() < 100
        first = page.locator("#list .row").first
        assert "r1" in first.text_content()
        assert page.evaluate("mv.events.length") == n
        # Frames per second with the transfer in full flight: the animation keeps up.
        page.evaluate("() => { const f = mv.flights[Math.floor(mv.flights.length / 2)];"
                      " mv.following = false; mv.T = f.t0; }")
        fps = page.evaluate("""() => new Promise((done) => {
            let frames = 0; const t0 = performance.now();
            const tick = () => { frames++; if (performance.now() - t0 < 1000) requestAnimationFrame(tick);
                                 else done(frames * 1000 / (performance.now() - t0)); };
            requestAnimationFrame(tick); })""")
        assert page.evaluate("Number(document.getElementById('packets').dataset.count)") > 0
        assert fps >= 15, f"{fps:.0f} frames per second"
    finally:
        server.stop()
        session.close()


def fifty_nodes() -> str:
    """25 routers in a chain, a host on each: 50 nodes."""
    parts = []
    for i in range(25):
        ifaces = {"eth2": f"10.{i}.0.1/24"}
        if i > 0:
            ifaces["eth0"] = f"172.16.{i - 1}.2/30"
        if i < 24:
            ifaces["eth1"] = f"172.16.{i}.1/30"
        body = ", ".join(f'{k} = "{v}"' for k, v in ifaces.items())
        parts.append(f'[[router]]\nname = "r{i}"\ninterfaces = {{ {body} }}\n')
        parts.append(f'[[host]]\nname = "h{i}"\ninterfaces = {{ eth0 = "10.{i}.0.10/24" }}\ngateway = "10.{i}.0.1"\n')
        parts.append(f'[[link]]\nendpoints = ["h{i}:eth0", "r{i}:eth2"]\ndelay = "1ms"\n')
        if i < 24:
            parts.append(f'[[link]]\nendpoints = ["r{i}:eth1", "r{i + 1}:eth0"]\ndelay = "2ms"\n')
    return "\n".join(parts)


def test_a_50_node_topology_renders(page):
    session, server = serve(fifty_nodes())
    try:
        open_page(page, server.url)
        assert page.locator("#topo .node").count() == 50
        assert page.locator("#topo .link").count() == 49
        boxes = page.locator("#topo .node .shape").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })")
        svg = page.locator("#topo").bounding_box()
        for x, y, w, h in boxes:
            assert svg["x"] <= x and x + w <= svg["x"] + svg["width"] + 1
        centres = {(round(x + w / 2), round(y + h / 2)) for x, y, w, h in boxes}
        assert len(centres) == 50  # no two nodes drawn on top of each other
        run_program(page, "ping", "h0", "h24")
        set_speed(page, 0.5)
        page.click("#play")
        page.locator(".row", has_text="bytes from 10.24.0.10").first.wait_for(timeout=20000)
    finally:
        server.stop()
        session.close()


def test_dig_and_curl_from_the_page(page, live):
    session, server = live
    if not session.features()["curl"]:
        pytest.skip("this version has no HTTP client")
    open_page(page, server.url)
    page.select_option("#runApp", "dig")
    assert page.input_value("#runTarget") == "www.example.com"  # each program suggests its target
    page.click("#runGo")
    page.select_option("#runApp", "curl")
    page.click("#runGo")
    set_speed(page, 0.5)
    page.select_option("#kindFilter", "app")  # only what programs print: a few rows, all in view
    page.click("#play")
    page.locator(".row", has_text="dig www.example.com: ").first.wait_for(timeout=20000)
    page.locator(".row", has_text="HTTP 200 OK").first.wait_for(timeout=20000)
    page.select_option("#kindFilter", "")
    page.uncheck("input[data-proto=http]")
    assert page.evaluate("mv.events.some(e => e.proto === 'http')")
    assert page.locator("#list .row.p-http").count() == 0


def test_the_tcp_panel_plots_the_selected_connection(page, live):
    session, server = live
    open_page(page, server.url)
    assert page.locator("#tcpplot").is_hidden()
    page.select_option("#linkSel", str(next(i for i, l in enumerate(session.net.links) if "r1" in l.name)))
    page.fill("#linkLoss", "0.25")  # with this seed: one segment lost, fast-retransmitted
    page.click("#linkSet")
    page.wait_for_selector("#status:has-text('loss')")
    run_program(page, "transfer", "client", "server")
    set_speed(page, 1)
    page.click("#play")
    page.wait_for_function("mv.events.some(e => e.layer === 'app' && e.summary.includes('SHA-256'))",
                           timeout=30000)  # the transfer is over
    page.click("#play")  # pause
    for proto in ("arp", "icmp", "udp", "dns", "http", "other"):
        page.uncheck(f"input[data-proto={proto}]")
    page.evaluate("() => { const b = document.getElementById('list'); b.scrollTop = 0;"
                  " b.dispatchEvent(new Event('scroll')); }")
    page.locator(".row", has_text="[S]").filter(has_text="link send").first.click()
    page.wait_for_function("document.querySelector('#tpSvg .tp-data') !== null", timeout=10000)
    assert page.locator("#tcpplot").is_visible()
    title = page.text_content("#tcpplot .tp-title")
    assert ":5001" in title and "client" in title
    # What the panel drew is what the server's series says, which is the trace's.
    conn = page.get_attribute("#tpSvg", "data-conn")
    series = session.tcp_series(conn=conn)
    drawn = {k: int(page.get_attribute(f"#tpSvg .tp-{k}", "data-count"))
             for k in ("data", "retransmission", "ack", "window", "lost")}
    retx = sum(1 for s in series["segments"] if s["retransmission"])
    assert drawn == {"data": len(series["segments"]) - retx, "retransmission": retx, "ack": len(series["acks"]),
                     "window": len(series["acks"]), "lost": len(series["lost"])}
    assert retx > 0 and drawn["lost"] > 0 and drawn["data"] > 10
    assert int(page.get_attribute("#tpSvg .tp-cwnd", "data-count")) == len(series["cc"]) > 0
    # The playhead follows the time.
    x0 = float(page.get_attribute("#tpHead", "x1"))
    page.fill("#jumpTo", "0.01")
    page.click("#jump")
    page.wait_for_function(f"Number(document.getElementById('tpHead').getAttribute('x1')) < {x0}")
    page.click("#tpClose")
    assert page.locator("#tcpplot").is_hidden()
