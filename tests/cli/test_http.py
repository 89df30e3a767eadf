"""`minternet curl` end to end in the simulation, through the command line."""

from __future__ import annotations

import pytest

from minternet.application.http.apps import SITE
from minternet.cli import main

INDEX = (SITE / "index.html").read_bytes()


def curl(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["curl", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_curl_fetches_the_built_in_site_through_dns(capsys):
    code, out, err = curl(capsys, "client", "http://www.example.com/")
    assert code == 0 and out.encode() == INDEX and err == ""
    assert "You reached a web server inside minternet" in out


def test_curl_v_shows_the_exchange_on_stderr_like_curl(capsys):
    code, out, err = curl(capsys, "client", "http://www.example.com/", "-v")
    lines = err.splitlines()
    assert code == 0 and out.encode() == INDEX
    assert lines[0].startswith("* (minternet started its built-in web site on server (10.0.2.10) port 80")
    assert lines[1].startswith("* Resolved www.example.com to 10.0.2.10 in ")
    assert lines[2:5] == ["*   Trying 10.0.2.10:80...", lines[3], "> GET / HTTP/1.1"]
    assert lines[3].startswith("* Connected to www.example.com (10.0.2.10) port 80 (#0)")
    assert "> Host: www.example.com" in lines and "< HTTP/1.1 200 OK" in lines
    assert f"< Content-Length: {len(INDEX)}" in lines and "< Date: Thu, 01 Jan 2026 00:00:00 GMT" in lines
    assert lines[-1].startswith("* 1 request over 1 TCP connection in ")


def test_curl_runs_are_identical(capsys):
    runs = [curl(capsys, "client", "http://www.example.com/", "-v", "--seed", "7") for _ in range(2)]
    assert runs[0] == runs[1]


def test_two_urls_share_one_connection(capsys):
    code, out, err = curl(capsys, "client", "http://www.example.com/", "http://www.example.com/about.html", "-v")
    assert code == 0 and out.encode() == INDEX + (SITE / "about.html").read_bytes()
    assert err.count("* Re-using existing connection #0 with host www.example.com") == 1
    assert err.count("*   Trying") == 1 and "* 2 requests over 1 TCP connection" in err


def test_head_prints_the_headers_and_no_body(capsys):
    code, out, err = curl(capsys, "client", "http://www.example.com/", "-I")
    assert code == 0 and out.startswith("HTTP/1.1 200 OK\n") and out.endswith("\n\n")
    assert f"Content-Length: {len(INDEX)}\n" in out and "Content-Type: text/html\n" in out and "<html" not in out


def test_post_data_and_chunked_post(capsys, tmp_path):
    code, out, _ = curl(capsys, "client", "http://www.example.com/form", "-d", "name=value")
    assert code == 0 and out.startswith("received 10 bytes (Content-Length) for /form\n")
    data = tmp_path / "upload.bin"
    data.write_bytes(bytes(range(256)) * 100)
    code, out, err = curl(capsys, "client", "http://www.example.com/up", f"-d@{data}",
                          "-H", "Transfer-Encoding: chunked", "-v")
    assert code == 0 and out.startswith("received 25600 bytes (chunked) for /up\n")
    assert "> Transfer-Encoding: chunked" in err and "> POST /up HTTP/1.1" in err


def test_not_found_and_fail(capsys):
    code, out, _ = curl(capsys, "client", "http://www.example.com/nope")
    assert code == 0 and out.startswith("404 Not Found\n")
    code, out, err = curl(capsys, "client", "http://www.example.com/nope", "-f")
    assert code == 22 and out == "" and "returned error: 404" in err


def test_output_file_and_include(capsys, tmp_path):
    target = tmp_path / "page.html"
    code, out, _ = curl(capsys, "client", "http://www.example.com/", "-o", str(target))
    assert code == 0 and out == "" and target.read_bytes() == INDEX
    code, out, _ = curl(capsys, "client", "http://www.example.com/about.html", "-i")
    head, _, body = out.partition("\n\n")
    assert head.startswith("HTTP/1.1 200 OK") and body.encode() == (SITE / "about.html").read_bytes()


def test_node_names_and_addresses_work_as_url_hosts(capsys):
    for url in ("http://server/", "http://10.0.2.10/"):
        code, out, _ = curl(capsys, "client", url)
        assert code == 0 and out.encode() == INDEX


def test_errors_speak_to_the_user(capsys):
    code, _, err = curl(capsys, "client", "http://www.example.com/", "--no-server")
    assert code == 7 and "Failed to connect to www.example.com port 80: Connection refused" in err
    code, _, err = curl(capsys, "client", "http://nope.example.com/")
    assert code == 6 and "Could not resolve host: nope.example.com" in err
    code, _, err = curl(capsys, "client", "ftp://www.example.com/")
    assert code == 2 and "not ftp://" in err
    code, _, err = curl(capsys, "nobody", "http://www.example.com/")
    assert code == 2 and "no host or router named 'nobody'" in err


def test_vv_adds_the_packets(capsys):
    code, out, err = curl(capsys, "client", "http://www.example.com/", "-vv")
    assert code == 0 and "> GET / HTTP/1.1" in err
    assert " tcp " in out and "10.0.1.10" in out  # the timeline of packets goes to stdout


@pytest.mark.parametrize("command", ["curl", "http-serve"])
def test_help(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "example" in capsys.readouterr().out


def test_curl_https_shows_the_tls_handshake_and_writes_the_key_log(capsys, tmp_path):
    pcap = str(tmp_path / "p")
    code, out, err = curl(capsys, "client", "https://www.example.com/", "https://www.example.com/about.html",
                          "-Z", "-v", "--pcap", pcap, "--export-cacert", str(tmp_path / "ca.pem"))
    assert code == 0
    assert "* TLSv1.3 (OUT), TLS handshake, Client hello (1):" in err
    assert "* ALPN: server accepted h2" in err
    assert "* 2 requests over 1 TCP connection" in err
    assert f"-o tls.keylog_file:{pcap}/sslkeylog.txt" in err
    assert "BEGIN CERTIFICATE" in (tmp_path / "ca.pem").read_text()
    code, out, err = curl(capsys, "client", "https://www.example.com/", "--http1.1", "-v")
    assert code == 0 and "* ALPN: server accepted http/1.1" in err and "< HTTP/1.1 200 OK" in err


def test_curl_http3_v_tells_the_quic_handshake_like_curl(capsys, tmp_path):
    pcap = str(tmp_path / "p")
    code, out, err = curl(capsys, "client", "--http3", "https://www.example.com/", "https://www.example.com/about.html",
                          "-Z", "-v", "--pcap", pcap)
    lines = err.splitlines()
    assert code == 0 and out.encode().startswith(INDEX)
    assert lines[0].startswith("* (minternet started its built-in web site on server (10.0.2.10) "
                               "TCP and UDP port 443 (HTTPS, HTTP/3)")
    assert lines[2:5] == ["*   Trying 10.0.2.10:443...", "* Connect socket over QUIC to 10.0.2.10:443",
                          "* ALPN: offers h3"]
    assert lines[5].startswith("* QUIC cipher selection: TLS_AES_256_GCM_SHA384:")
    assert lines[6] == "* QUIC (OUT), Initial, TLS handshake, Client hello (1):"
    at = lines.index("* Connected to www.example.com (10.0.2.10) port 443 (#0)")
    assert lines[at + 1] == "* using HTTP/3" and "* ALPN: server accepted h3" in lines[:at]
    assert "> GET / HTTP/3" in lines and "> GET /about.html HTTP/3" in lines
    assert lines.count("< HTTP/3 200") == 2 and f"< content-length: {len(INDEX)}" in lines
    assert "* 2 requests over 1 QUIC connection in " in err
    keylog = (tmp_path / "p" / "sslkeylog.txt").read_text()
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in keylog and "SERVER_TRAFFIC_SECRET_0" in keylog


def test_curl_http3_runs_are_identical_and_http3_only(capsys):
    runs = [curl(capsys, "client", "--http3", "https://www.example.com/", "-v", "--seed", "7") for _ in range(2)]
    assert runs[0][0] == 0 and runs[0] == runs[1]
    code, out, err = curl(capsys, "client", "--http3-only", "https://www.example.com/", "-i")
    assert code == 0 and out.startswith("HTTP/3 200\n") and out.encode().endswith(INDEX)
    # Over TCP the answer says the origin speaks HTTP/3 too.
    code, out, err = curl(capsys, "client", "https://www.example.com/", "-I")
    assert code == 0 and 'alt-svc: h3=":443"; ma=86400' in out.splitlines()
