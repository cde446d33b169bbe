"""Fixtures of the console's tests: a daemon, Debian's chromium driven by Playwright (never
a downloaded browser), and a fresh browser context (its own cookies) per test.

- ``console_daemon``: an API-only daemon (``--no-network``) for the pages and forms;
  endpoints there turn available once accepted, which the live-status test needs.
- ``strict_daemon``: ``--strict-auth`` with a credentials file of two keys.
- ``browser``: chromium launched from ``/usr/bin/chromium`` (scripts/setup installs it).
- ``open_console(daemon, account=None, path="", region=None)``: a new page (a context of
  its own) at a console page, as ``account`` in ``region`` when given (``?account=&region=``,
  which set the session cookie).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pocketlink.harness import Daemon
from pocketlink.polling import PATIENCE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = "/_pocketlink/console"
# Playwright's waits (its actions' and its expect's, 5 s by default): the console's pages
# call the API, which a busy machine slows.
TIMEOUT_MS = PATIENCE * 1000
expect.set_options(timeout=TIMEOUT_MS)
STRICT_KEYS = {"AKIACONSOLEPROVIDER": ("provider-secret", "111111111111"),
               "AKIACONSOLECONSUMER": ("consumer-secret", "222222222222")}


def pytest_collection_modifyitems(items):
    """The tests that drive chromium are marked ``browser``."""
    for item in items:
        if "tests/console" in str(item.fspath) and \
                {"browser", "open_console"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


def new_account() -> str:
    return f"8{secrets.randbelow(10**11):011d}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium a module: Playwright's sync driver runs an event loop in this thread
    until it exits, and tests after the console's start loops of their own
    (``asyncio.run``)."""
    assert Path(CHROMIUM).exists(), "the console's tests drive Debian's chromium: scripts/setup"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def console_daemon(make_daemon) -> Daemon:
    return make_daemon("--no-network", "--max-request-rate", "1000000")


@pytest.fixture(scope="module")
def strict_daemon(make_daemon, tmp_path_factory) -> Daemon:
    path = tmp_path_factory.mktemp("console-credentials") / "credentials.toml"
    path.write_text("".join(
        f'[[credentials]]\naccess_key = "{key}"\nsecret_key = "{secret}"\naccount = "{account}"\n'
        for key, (secret, account) in STRICT_KEYS.items()))
    path.chmod(0o600)
    return make_daemon("--no-network", "--strict-auth", "--credentials", str(path))


@pytest.fixture
def open_console(browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_page(daemon: Daemon, account: str | None = None, path: str = "",
                  region: str | None = None) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        asked = {"account": account, "region": region}
        query = "&".join(f"{k}={v}" for k, v in asked.items() if v)
        query = f"?{query}" if query else ""
        page.goto(f"{daemon.endpoint}{ROOT}/{path}{query}")
        return page

    yield open_page
    for context in contexts:
        context.close()


def console_url(daemon: Daemon, path: str) -> str:
    return f"{daemon.endpoint}{ROOT}/{path}"


def detail(page: Page, label: str) -> str:
    """The value of a details panel's field, as shown (its copy button's word left out)."""
    return page.locator("dl.details div").filter(
        has=page.locator("dt", has_text=re.compile(f"^{re.escape(label)}$"))).locator(
        "dd").inner_text().replace("Copy", "").strip()
