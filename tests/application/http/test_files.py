"""Static files: what a folder serves, and every way of asking for something outside it refused."""

from __future__ import annotations

import os

import pytest
from application.http.httputil import raw_exchange, status_lines, two_hosts

from minternet.application.http import HTTPClient, HTTPError, Request, StaticFiles, content_type, serve
from minternet.application.http.files import safe_segments

SECRET = b"TOP SECRET: outside the served folder"


@pytest.fixture
def site(tmp_path):
    """tmp/www is served; tmp/secret.txt and tmp/private/ are beside it, not in it."""
    root = tmp_path / "www"
    (root / "docs").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>\n")
    (root / "docs" / "index.html").write_text("<h1>docs</h1>\n")
    (root / "docs" / "a b.txt").write_text("spaced\n")
    (root / "style.css").write_text("body{}\n")
    (root / "big.bin").write_bytes(bytes(range(256)) * 2000)  # 512000 bytes: sent in pieces
    (root / "empty").mkdir()
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "key.txt").write_bytes(SECRET)
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")  # a file link pointing out
    os.symlink(tmp_path / "private", root / "outside")  # a folder link pointing out
    os.symlink(root / "style.css", root / "alias.css")  # a link that stays inside: fine
    return root


@pytest.fixture
def net():
    net = two_hosts()
    yield net
    net.close()


def get_raw(net, handler, targets: list[bytes]) -> list[bytes]:
    """Each target as a raw request line on its own connection; the raw answers."""
    async def main():
        server = await serve(net["server"], 80, handler)
        try:
            return [(await raw_exchange(net["client"], b"GET " + t + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))[0]
                    for t in targets]
        finally:
            await server.aclose()
    return net.run_app(main())


# -- the path rules, directly ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt",
    "/docs/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/docs/..%2F..%2Fsecret.txt", "/%2fetc%2fpasswd",
    "/..%5csecret.txt", "/docs/%5c..%5c..%5csecret.txt", "/index.html%00.txt", "/%00", "/./index.html",
])
def test_traversal_forms_are_refused_before_the_file_system_is_asked(path):
    with pytest.raises(HTTPError) as info:
        safe_segments(path)
    assert info.value.status == 403


def test_segments_are_decoded_once_and_empty_ones_skipped():
    assert safe_segments("//docs//a%20b.txt") == ["docs", "a b.txt"]
    assert safe_segments("/%252e%252e/x") == ["%2e%2e", "x"]  # double encoding: a literal name, not ..
    with pytest.raises(HTTPError) as info:
        safe_segments("etc/passwd")
    assert info.value.status == 400


def test_symlinks_pointing_out_are_refused_and_inside_ones_followed(site):
    files = StaticFiles(site)
    for path in ("/leak.txt", "/outside/key.txt", "/outside"):
        with pytest.raises(HTTPError) as info:
            files.resolve(path)
        assert info.value.status == 403, path
    assert files.resolve("/alias.css")[0] == os.path.realpath(site / "style.css")


def test_root_must_be_a_directory(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        StaticFiles(tmp_path / "nope")


# -- through the server, as a client would try it ---------------------------------------------------------
ATTACKS = [
    b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2e%2e%2fsecret.txt", b"/docs/..%2f..%2fsecret.txt",
    b"/..%5csecret.txt", b"/%2fetc%2fpasswd", b"/leak.txt", b"/outside/key.txt", b"/index.html%00",
    b"http://x/../secret.txt",  # absolute form: the path inside is checked the same way
]


@pytest.mark.parametrize("target", ATTACKS)
def test_no_request_reads_outside_the_folder(net, site, target):
    [answer] = get_raw(net, StaticFiles(site), [target])
    assert status_lines(answer) == ["HTTP/1.1 403 Forbidden"]
    assert SECRET not in answer


def test_absolute_file_system_paths_are_paths_inside_the_folder(net, site):
    answers = get_raw(net, StaticFiles(site), [b"/etc/passwd", b"//etc/passwd", b"/" + str(site.parent / "secret.txt").encode()])
    assert [status_lines(a) for a in answers] == [["HTTP/1.1 404 Not Found"]] * 3
    assert not any(SECRET in a or b"root:" in a for a in answers)


def test_files_directories_and_content_types(net, site):
    async def main():
        server = await serve(net["server"], 80, StaticFiles(site))
        async with HTTPClient(net["client"]) as client:
            pages = {p: await client.get(f"http://www.test{p}")
                     for p in ("/", "/docs", "/docs/", "/docs/a%20b.txt", "/style.css", "/alias.css", "/big.bin",
                               "/empty/", "/nope.html")}
            post = await client.post("http://www.test/", b"x")
        await server.aclose()
        return pages, post
    pages, post = net.run_app(main())
    assert pages["/"].body == b"<h1>home</h1>\n" and pages["/"].headers["Content-Type"] == "text/html"
    assert pages["/docs"].status == 301 and pages["/docs"].headers["Location"] == "/docs/"
    assert pages["/docs/"].body == b"<h1>docs</h1>\n"
    assert pages["/docs/a%20b.txt"].body == b"spaced\n"
    assert pages["/style.css"].headers["Content-Type"] == "text/css" == pages["/alias.css"].headers["Content-Type"]
    big = pages["/big.bin"]
    assert big.body == bytes(range(256)) * 2000 and big.headers["Content-Length"] == "512000"
    assert big.headers["Content-Type"] == "application/octet-stream"
    assert pages["/empty/"].status == 404 and pages["/nope.html"].status == 404
    assert post.status == 405 and post.headers["Allow"] == "GET, HEAD"


def test_etag_and_last_modified_give_304(net, site):
    async def main():
        server = await serve(net["server"], 80, StaticFiles(site))
        async with HTTPClient(net["client"]) as client:
            first = await client.get("http://www.test/style.css")
            by_tag = await client.get("http://www.test/style.css", headers={"If-None-Match": first.headers["ETag"]})
            by_date = await client.get("http://www.test/style.css",
                                       headers={"If-Modified-Since": first.headers["Last-Modified"]})
            other = await client.get("http://www.test/style.css", headers={"If-None-Match": '"other"'})
        await server.aclose()
        return first, by_tag, by_date, other
    first, by_tag, by_date, other = net.run_app(main())
    assert first.status == 200 and first.headers["ETag"].startswith('"')
    assert by_tag.status == 304 and by_tag.body == b"" and by_date.status == 304
    assert other.status == 200 and other.body == b"body{}\n"


def test_validators_can_be_left_out_for_identical_runs(site):
    import asyncio
    response = asyncio.run(StaticFiles(site, validators=False)(Request("GET", "/style.css")))
    assert "ETag" not in response.headers and "Last-Modified" not in response.headers


def test_content_type_from_the_extension_only():
    assert content_type("a.html") == "text/html"
    assert content_type("photo.PNG") == "image/png"
    assert content_type("data.json") == "application/json"
    assert content_type("backup.tar.gz") == "application/octet-stream"
    assert content_type("README") == "application/octet-stream"
