"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Playwright never downloads a browser here: it launches the system's chromium.
Without it the browser tests are skipped with the reason, unless
FUSESHARE_REQUIRE_BROWSER is set (then they fail). Screenshots of every step
are kept in artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fuseshare.config import Settings
from tests.integration.web.live_server import LiveServer
from tests.integration.web.web_site import WebSite, build_site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"


def _unavailable(why: str) -> None:
    if os.environ.get("FUSESHARE_REQUIRE_BROWSER"):
        pytest.fail(f"a browser is required (FUSESHARE_REQUIRE_BROWSER) but {why}")
    pytest.skip(f"{why}; install Debian's chromium (./run test does as root) to run browser tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped on purpose: Playwright's sync API runs an event loop in this thread
    while it is open, which would break the asyncio tests that run after these."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def served(
    sqlite_template: Path, tmp_path: Path, settings: Settings
) -> Iterator[tuple[WebSite, LiveServer]]:
    path = tmp_path / "browser.sqlite3"
    shutil.copy(sqlite_template, path)
    site = build_site(f"sqlite:///{path}", settings)
    with LiveServer(site.app, site.board).running() as server:
        yield site, server
    site.app.state.store.engine.dispose()


class Shots:
    """Numbered screenshots per test: artifacts/screenshots/<test>/<nn>-<step>.png."""

    def __init__(self, page: Any, test_name: str) -> None:
        self.page = page
        self.folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, step: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def shots(page: Any, request: pytest.FixtureRequest) -> Shots:
    return Shots(page, request.node.name)
