"""Browser fixtures: a real headless Chromium, driven by Playwright, on the served app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    async_playwright,
    expect,
)

from devstack import AppServer, LocalIdp
from tests.home_page import shows_signed_out, signed_in_user

CHROMIUM_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)
# Playwright's own browser download does not work here; the system Chromium with these does.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT_ROOT = Path(__file__).resolve().parents[2] / "test-output"
DEMO_USER = "browseruser"
DEMO_NAME = "Browseruser"  # the provider names a new user after the username


def is_executable(path: str) -> bool:
    """Tell whether `path` is a file this process may run."""
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium() -> str | None:
    """CHROMIUM_PATH (which must exist) if set, else the first usual install path found."""
    if configured := os.environ.get("CHROMIUM_PATH"):
        if not is_executable(configured):
            pytest.fail(f"CHROMIUM_PATH={configured} is not an executable file: fix or unset it")
        return configured
    return next((path for path in CHROMIUM_PATHS if is_executable(path)), None)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium to drive; skipped when there is none, except under CI=true where it fails."""
    if path := find_chromium():
        return path
    where = ", ".join(CHROMIUM_PATHS)
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(f"CI=true but no Chromium found (CHROMIUM_PATH unset; looked in {where})")
    pytest.skip(f"no Chromium in {where}: apt-get install chromium, or set CHROMIUM_PATH")


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """One headless Chromium for the session."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser, app_server: AppServer) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test, with URLs relative to the app."""
    fresh = await browser.new_context(base_url=app_server.url)
    fresh.set_default_timeout(10_000)
    yield fresh
    await fresh.close()


@dataclass
class ConsoleErrors:
    """Console errors of a browser profile, each with the URL of the document or resource."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def record(self, message: ConsoleMessage) -> None:
        """Keep `message` if it is an error."""
        if message.type != "error":
            return
        url = message.location.get("url") or (message.page.url if message.page else "")
        self.seen.append((url, message.text))

    def from_origin(self, origin: str, *, error_pages: Iterable[str] = ()) -> list[str]:
        """The errors of `origin`, less the failed load that each of `error_pages` logs itself."""
        expected = {f"{origin}{path}" for path in error_pages}
        return [
            f"{url}: {text}"
            for url, text in self.seen
            if url.startswith(f"{origin}/")
            and not (url in expected and text.startswith("Failed to load resource"))
        ]


@pytest.fixture
def console_errors(context: BrowserContext) -> ConsoleErrors:
    """The console errors of every page of the test's browser profile."""
    errors = ConsoleErrors()
    context.on("console", errors.record)
    return errors


@pytest.fixture
async def page(context: BrowserContext, console_errors: ConsoleErrors) -> Page:
    """A tab in the test's fresh browser profile, its console watched from the first load."""
    return await context.new_page()


async def home_after(
    page: Page, app_url: str, action: Callable[[], Awaitable[None]]
) -> tuple[int, str]:
    """Do `action` (a click that ends on the app's home page) and return the status and HTML
    the app served for that home page, to read with tests/home_page.py."""
    home = f"{app_url}/"
    async with page.expect_response(
        lambda response: response.url == home and response.request.is_navigation_request()
    ) as served:
        await action()
    response = await served.value
    await expect(page).to_have_url(home)
    return response.status, await response.text()


async def greeted_after(
    page: Page, app_url: str, action: Callable[[], Awaitable[None]]
) -> str | None:
    """The user the home page that `action` ends on greets as signed in, or None."""
    return signed_in_user(*await home_after(page, app_url, action))


async def signed_out_after(page: Page, app_url: str, action: Callable[[], Awaitable[None]]) -> bool:
    """True when `action` ends on the signed-out home page."""
    return shows_signed_out(*await home_after(page, app_url, action))


async def sign_in(
    page: Page,
    app_url: str,
    username: str,
    *,
    button: str = "#sign-in",
    screen: str = "Sign in",
    provider: LocalIdp | None = None,
) -> str | None:
    """From the app's home, click `button`, fill the provider's `screen` (at `provider` when
    given) with `username` and submit it; return the user the home page then greets."""
    await page.goto("/")
    await page.click(button)
    await expect(page.get_by_role("heading", name=screen)).to_be_visible()
    if provider is not None:
        assert page.url.startswith(provider.endpoint), page.url
    await page.fill("input#username", username)
    return await greeted_after(page, app_url, page.locator("button[type=submit]").click)


@pytest.fixture
async def signed_in_browser(page: Page, app_server: AppServer) -> Page:
    """A tab on the app's home, signed in as the demo user."""
    assert await sign_in(page, app_server.url, DEMO_USER) == DEMO_NAME
    return page


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """test-output/<test name>/ at the repo root (git-ignored), for screenshots."""
    test_name: str = request.node.name
    folder = OUTPUT_ROOT / test_name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
