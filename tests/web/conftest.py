"""Browser fixtures for the live view's end-to-end tests: Debian's chromium driven by Playwright.

Never Playwright's own browser downloads: ``executable_path`` points at /usr/bin/chromium. The
tests skip, saying why, when chromium or the playwright package is missing. A failing test saves
a screenshot of the page into a temporary folder and prints its path.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = os.environ.get("MINTERNET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def browser_context():
    """One headless chromium per test module, with a fresh profile. Not per session: Playwright's
    sync API keeps an event loop running in the main thread, and later tests need asyncio.run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install playwright; make test does it)")
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install chromium; make test does it as root)")
    profile = tempfile.mkdtemp(prefix="minternet-chromium-")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS,  # the fresh profile goes in as --user-data-dir
            viewport={"width": 1400, "height": 850})
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context, request):
    pg = browser_context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        folder = tempfile.mkdtemp(prefix="minternet-web-failure-")
        path = os.path.join(folder, f"{request.node.name}.png")
        try:
            pg.screenshot(path=path, full_page=True)
            print(f"\nscreenshot of the failing page: {path}")
        except Exception as exc:  # noqa: BLE001 - the test failure matters more than the picture
            print(f"\ncould not take a screenshot: {exc}")
    pg.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
