"""What a signed-in person sees on each page, on a phone and on a desktop.

What a page says (the header, the greeting, error pages) is tested without a browser in
tests/integration/test_signed_in_pages.py; here is what needs one: layout and the real
browser's own session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, ViewportSize, expect

from devstack import AppServer
from tests.browser.conftest import signed_out_after

PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
DATE = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC")


async def test_profile_shows_the_person_first_with_readable_dates(signed_in_browser: Page) -> None:
    page = signed_in_browser
    await page.goto("/profile")
    await expect(page.locator(".person h1")).to_have_text("Browseruser")
    await expect(page.locator("#email")).to_contain_text("browseruser@example.test")
    await expect(page.locator("#signed-in-at")).to_have_text(DATE)
    await expect(page.locator("details.raw").first).not_to_have_attribute("open", "")
    raw = await page.locator("details.raw").first.inner_text()
    assert "at_hash" not in raw.split("ID token claims")[0]


async def test_call_api_shows_the_apis_answer(signed_in_browser: Page) -> None:
    page = signed_in_browser
    await page.locator("header nav").get_by_role("link", name="Call API").click()
    await expect(page.locator("#api-status")).to_have_text("200")
    await expect(page.locator("#api-answer")).to_contain_text('"sub": "user_')
    await expect(page.locator("#api-scopes")).to_contain_text("read:profile")


async def test_organizations_show_roles_and_permissions(signed_in_browser: Page) -> None:
    page = signed_in_browser
    await page.goto("/organizations")
    acme, globex = page.locator("#org-org_acme"), page.locator("#org-org_globex")
    await expect(acme.locator("h2")).to_have_text("Acme")
    await expect(acme.locator(".roles")).to_have_text("admin")
    await expect(acme.locator(".permissions")).to_contain_text("manage:billing")
    await expect(globex.locator(".roles")).to_have_text("member")
    await expect(globex.locator(".permissions")).not_to_contain_text("manage:billing")


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_pages_fit_the_screen(
    signed_in_browser: Page, app_server: AppServer, output_dir: Path, size: str
) -> None:
    page = signed_in_browser
    await page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    for name, path in [
        ("home", "/"),
        ("profile", "/profile"),
        ("call-api", "/call-api"),
        ("organizations", "/organizations"),
        ("sessions", "/sessions"),
    ]:
        await page.goto(path)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways on a {size}"
        shot = output_dir / f"{name}-{size}.png"
        await page.screenshot(path=shot, full_page=True)
        print(f"screenshot: {shot}")


async def test_the_sessions_page_as_a_person_sees_it(
    signed_in_browser: Page, app_server: AppServer, output_dir: Path
) -> None:
    page = signed_in_browser
    await page.locator("header nav").get_by_role("link", name="Sessions").click()
    current = page.locator("li.session.current")
    await expect(current).to_have_count(1)
    await expect(current.locator(".this-browser")).to_have_text("This browser")
    await expect(current.locator(".agent")).to_contain_text("Chrome")
    await expect(current.locator(".agent")).to_contain_text("Linux")
    await expect(current.locator(".times")).to_contain_text("Signed in")
    await expect(page.locator("#sign-out-everywhere")).to_be_visible()
    await page.screenshot(path=output_dir / "sessions.png", full_page=True)
    end_here = current.get_by_role("button", name="Sign out")
    assert await signed_out_after(page, app_server.url, end_here.click)
