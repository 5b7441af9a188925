"""Sign-in, sign-up and sign-out clicked through in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, Route, expect

from devstack import AppServer, LocalIdp
from tests.browser.conftest import DEMO_NAME, DEMO_USER, ConsoleErrors, sign_in, signed_out_after


async def test_sign_in_and_out_in_a_real_browser(
    page: Page, app_server: AppServer, idp: LocalIdp, output_dir: Path
) -> None:
    assert await sign_in(page, app_server.url, DEMO_USER, provider=idp) == DEMO_NAME
    await expect(page).to_have_url(f"{app_server.url}/")
    await expect(page.locator(".user-name")).to_have_text(DEMO_NAME)
    screenshot = output_dir / "signed-in-home.png"
    await page.screenshot(path=screenshot, full_page=True)
    print(f"screenshot of the signed-in home: {screenshot}")

    await page.locator("header nav").get_by_role("link", name="Profile").click()
    await expect(page).to_have_url(f"{app_server.url}/profile")
    await expect(page.get_by_role("heading", name="Browseruser")).to_be_visible()
    await expect(page.locator("#email")).to_contain_text("browseruser@example.test")
    await page.get_by_text("ID token claims").click()  # the raw claims are collapsed
    await expect(page.locator("tr:has(th:text-is('iss')) td").first).to_have_text(idp.issuer)

    await page.locator(".brand").click()
    assert await signed_out_after(page, app_server.url, page.locator("#sign-out").click)
    await expect(page.locator("#sign-in")).to_be_visible()


async def test_signed_out_browser_must_sign_in_again_for_profile(
    signed_in_browser: Page, idp: LocalIdp, app_server: AppServer
) -> None:
    page = signed_in_browser
    assert await signed_out_after(page, app_server.url, page.locator("#sign-out").click)
    await page.goto("/profile")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.startswith(idp.endpoint), "the provider's session ended too"


async def test_create_account_opens_the_providers_sign_up_screen(
    page: Page, app_server: AppServer, idp: LocalIdp
) -> None:
    signed_up = await sign_in(
        page,
        app_server.url,
        "newbrowseruser",
        button="#sign-up",
        screen="Create account",
        provider=idp,
    )
    assert signed_up == "Newbrowseruser"


async def test_app_pages_work_under_strict_csp_without_console_errors(
    signed_in_browser: Page, console_errors: ConsoleErrors, app_server: AppServer
) -> None:
    page = signed_in_browser
    statuses = {
        "/": 200,
        "/profile": 200,
        "/call-api": 200,
        "/organizations": 200,
        "/sign-out": 200,
        "/no-such-page": 404,
    }
    for path, status in statuses.items():
        response = await page.goto(path)
        assert response is not None and response.status == status, path
        policy = await response.header_value("content-security-policy") or ""
        assert "script-src 'none'" in policy and "style-src 'self'" in policy, path
        # The stylesheet loaded under the policy: the page background is the app's paper colour.
        await expect(page.locator("html")).to_have_css("background-color", "rgb(247, 248, 251)")
    error_pages = [path for path, status in statuses.items() if status >= 400]
    assert console_errors.from_origin(app_server.url, error_pages=error_pages) == []


async def test_console_error_check_catches_a_csp_violation(
    page: Page, console_errors: ConsoleErrors, app_server: AppServer
) -> None:
    """The CSP test above could pass by seeing nothing; here a violation must be seen."""
    home = await page.goto("/")
    assert home is not None
    policy = await home.header_value("content-security-policy") or ""

    # A fake page, on purpose: the real app never serves inline script to violate its CSP.
    async def inline_script_page(route: Route) -> None:
        body = "<!doctype html><title>probe</title><script>document.title = 'ran'</script>"
        headers = {"Content-Type": "text/html", "Content-Security-Policy": policy}
        await route.fulfill(status=200, body=body, headers=headers)

    await page.route(f"{app_server.url}/csp-probe", inline_script_page)
    await page.goto("/csp-probe")
    await expect(page).to_have_title("probe")
    errors = console_errors.from_origin(app_server.url)
    assert any("Content Security Policy" in error for error in errors), errors
