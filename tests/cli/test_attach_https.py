"""``minternet attach --serve-https``'s services, on a simulated host (no TAP, no root): the same
folder over HTTPS (HTTP/2 and HTTP/1.1 by ALPN) and HTTP/3, a certificate for the host's names
from a CA whose PEM is written out, Alt-Svc on every response. Through a real TAP with curl and
gtlsclient: tests/interop/test_attach_https.py."""

from __future__ import annotations

import argparse

from application.http.httputil import SERVER, two_hosts
from cryptography import x509

from minternet.application.http import fetch
from minternet.application.http.h3 import fetch_h3
from minternet.cli.attach import add_commands, cmd_attach, https_names, start_https

ALT_SVC = 'h3=":443"; ma=86400'


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    return parser.parse_args(["attach", "--tap", "t", "--address", "10.77.0.2/24", *argv])


def test_options_and_the_certificates_names():
    args = parse("--serve-https", "www", "--cacert", "ca.pem", "--tls-name", "www.example.com",
                 "--tls-name", "example.com", "--name", "box")
    assert (args.serve_https, args.cacert, args.https_port) == ("www", "ca.pem", 443)
    assert https_names(args) == ["www.example.com", "example.com", "box", "10.77.0.2"]
    assert https_names(parse()) == ["mini", "10.77.0.2"]


def test_tls_options_without_serve_https_are_an_error(capsys):
    assert cmd_attach(parse("--cacert", "ca.pem", "--keylog", "k.txt")) == 2
    assert "--cacert, --keylog go with --serve-https DIR" in capsys.readouterr().err


def test_one_folder_over_http2_http1_and_http3(tmp_path):
    (tmp_path / "www").mkdir()
    page = b"<h1>hello</h1>\n" * 1000
    (tmp_path / "www" / "index.html").write_bytes(page)
    net = two_hosts()
    server, client = net["server"], net["client"]
    client.stub_resolver.add_host("www.example.com", SERVER)
    cacert = tmp_path / "ca.pem"
    lines: list[str] = []

    async def run() -> list:
        servers = await start_https(server, str(tmp_path / "www"), names=["www.example.com", SERVER],
                                    cacert=str(cacert), log=lines.append)
        pem = cacert.read_text()
        got = [await fetch(client, "https://www.example.com/index.html", cafile=str(cacert)),
               await fetch(client, f"https://{SERVER}/index.html", cafile=str(cacert), http_version="1.1"),
               await fetch_h3(client, "https://www.example.com/index.html", cadata=pem),
               await fetch(client, "https://www.example.com/nothing-here", cafile=str(cacert))]
        for s in servers:
            await s.aclose()
        return got

    h2, h1, h3, missing = net.run_app(run(), timeout="60s")
    assert [r.http_version for r in (h2, h1, h3)] == ["2", "1.1", "3"]
    for r in (h2, h1, h3):
        assert r.status == 200 and r.body == page
        assert r.headers["alt-svc"] == ALT_SVC
    assert missing.status == 404 and missing.headers["alt-svc"] == ALT_SVC  # errors say it too
    ca = x509.load_pem_x509_certificate(cacert.read_bytes())
    assert ca.subject.rfc4514_string().startswith("CN=minternet attach CA ")  # not the simulated CA's name
    assert any("HTTPS serving" in line and "www.example.com, 10.0.0.2" in line for line in lines)
