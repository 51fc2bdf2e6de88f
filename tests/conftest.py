"""Fixtures for tests that drive a real browser.

Browser tests run Debian's Chromium (``chromium`` on the PATH) through the ``playwright`` package,
headless, against pytest-django's ``live_server``. Mark them ``@pytest.mark.browser`` and ask for
``browser_page``: a fresh page in a new, empty browser context (no cookies, no storage), with the
test database made transactional so the live server's thread sees the test's rows on SQLite and
on PostgreSQL alike.

When chromium or a Chinese (CJK) font is missing the browser tests are skipped, with the reason;
with ``CI=true`` they fail instead, so CI never passes without having run them. ``make test``
installs both (``scripts/install-test-deps``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _missing(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


def cjk_font_families() -> list[str]:
    """The font families fontconfig knows for Chinese; empty when none is installed."""
    if shutil.which("fc-list") is None:
        return []
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        _missing("Debian's chromium is not installed (scripts/install-test-deps installs it)")
    if not cjk_font_families():
        _missing(
            "no CJK font is installed, pages would show empty boxes "
            "(scripts/install-test-deps installs one)"
        )
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    """One headless Chromium per test module.

    Playwright's synchronous API keeps an asyncio loop marked as running in this thread while it
    is started, which Django reads as "async context" and refuses ORM calls in. The tests here are
    plain synchronous code, so the check is switched off while the browser runs, and restored.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(browser, live_server, transactional_db):
    """A page in a new, empty context, pointed at nothing yet; ``live_server.url`` is the site.

    The page's console errors (each with the address it came from, in brackets) and uncaught
    exceptions are collected in ``page.errors``, a list of strings, so a test can assert that
    nothing went wrong in the page: a script refused by the Content Security Policy, a missing
    static file.
    """
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} [{m.location.get('url', '')}]") if m.type == "error" else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def browser_login(live_server) -> Callable:
    """Logs ``user`` in through the real login form, as a person would; returns the page."""
    from gongzhi.testing import PASSWORD

    def login(page, user, password: str = PASSWORD, next_path: str = "/"):
        page.goto(f"{live_server.url}{next_path}")
        page.locator("input[name=username]").fill(user.username)
        page.locator("input[name=password]").fill(password)
        with page.expect_navigation():
            page.locator("form:has(input[name=password]) button[type=submit]").click()
        return page

    return login
