"""What a person sees of the sign-in options in a real Chromium: connector buttons, the step-up
round trip before a sensitive action, and editing their name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from devstack import AppServer, LocalIdp

DEFAULT_FIELDS = {"name": "Edit", "avatar": "Edit", "username": "ReadOnly"}


@pytest.fixture
async def options_page(browser: Browser, options_server: AppServer) -> AsyncIterator[Page]:
    """A tab in a fresh profile on the app with connector buttons and PAR on."""
    context = await browser.new_context(base_url=options_server.url)
    context.set_default_timeout(10_000)
    yield await context.new_page()
    await context.close()


async def switch(url: str, body: dict[str, Any]) -> None:
    """Change a test switch of the local provider."""
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        assert response.status == 200, await response.text()


@pytest.fixture
async def account_center(idp: LocalIdp) -> AsyncIterator[str]:
    """The provider's Account Center switch, put back as it was after the test."""
    yield idp.account_center_url
    await switch(idp.account_center_url, {"enabled": True, "fields": DEFAULT_FIELDS})


async def screenshot(page: Page, output_dir: Path, name: str) -> None:
    """Save a full-page screenshot under test-output/<test>/ and say where."""
    path = output_dir / name
    await page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")


async def sign_in_an_hour_ago(page: Page, username: str) -> None:
    """Sign in from the home page, telling the local provider it happened an hour ago."""
    await page.goto("/")
    await page.click("#sign-in")
    await page.fill("input#username", username)
    await page.fill("input#auth_age", "3600")
    await page.click("button[type=submit]")
    await expect(page.locator(".user-name")).to_be_visible()


async def test_connector_buttons_on_the_home_sign_in_directly(
    options_page: Page, options_server: AppServer, output_dir: Path
) -> None:
    page = options_page
    await page.goto("/")
    buttons = page.locator("a.connector")
    await expect(buttons).to_have_text(["Continue with Microsoft", "Continue with Acme SSO"])
    await expect(page.locator("#sign-in")).to_be_visible()
    await screenshot(page, output_dir, "home-with-connector-buttons.png")

    await page.get_by_role("link", name="Continue with Microsoft").click()
    await expect(page).to_have_url(f"{options_server.url}/")  # no form: straight through
    await expect(page.locator(".user-name")).to_have_text("Azure AD Demo")
    await expect(page.locator("a.connector")).to_have_count(0)
    await screenshot(page, output_dir, "signed-in-through-microsoft.png")


async def test_step_up_then_profile_edit_in_a_real_browser(
    page: Page, app_server: AppServer, idp: LocalIdp, output_dir: Path
) -> None:
    await sign_in_an_hour_ago(page, "stepbrowser")
    await page.locator("header nav").get_by_role("link", name="Profile").click()
    await expect(page.locator("input#name")).to_have_value("Stepbrowser")
    await page.fill("input#name", "Step Browser")
    await page.click("#save-name")

    # An hour-old sign-in: Logto asks the person to sign in again first.
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.startswith(idp.endpoint)
    await screenshot(page, output_dir, "step-up-sign-in-again.png")
    await page.fill("input#username", "stepbrowser")
    await page.click("button[type=submit]")

    await expect(page).to_have_url(f"{app_server.url}/profile")
    await expect(page.locator(".person h1")).to_have_text("Stepbrowser")
    await screenshot(page, output_dir, "step-up-back-on-the-profile.png")

    await page.fill("input#name", "Step Browser")
    await page.click("#save-name")
    await expect(page.locator("#profile-saved")).to_be_visible()
    await expect(page.locator(".person h1")).to_have_text("Step Browser")
    await expect(page.locator("header .who")).to_have_text("Step Browser")
    await screenshot(page, output_dir, "profile-edited.png")

    await page.locator(".brand").click()
    await expect(page.locator(".user-name")).to_have_text("Step Browser")


async def test_a_refused_profile_edit_says_why_in_a_real_browser(
    page: Page, account_center: str, output_dir: Path
) -> None:
    await page.goto("/")
    await page.click("#sign-in")
    await page.fill("input#username", "refusebrowser")
    await page.click("button[type=submit]")
    await page.goto("/profile")

    await page.fill("input#name", "   ")
    await page.click("#save-name")
    await expect(page.locator("#profile-problem")).to_contain_text("Please enter a name.")

    await switch(account_center, {"enabled": False})
    await page.fill("input#name", "Refused Rename")
    await page.click("#save-name")
    problem = page.locator("#profile-problem")
    await expect(problem).to_contain_text("Account Center is not enabled")
    await expect(problem).to_contain_text("Nothing was changed.")
    await expect(page.locator(".person h1")).to_have_text("Refusebrowser")
    await screenshot(page, output_dir, "profile-edit-refused.png")
