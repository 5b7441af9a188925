"""Errors are pages, never tracebacks: an unknown page, an unexpected error."""

from __future__ import annotations

from tests.unit.offline_app import offline_app


async def test_unknown_page_is_a_404_page() -> None:
    async with offline_app() as app:
        response = await app.test_client().get("/no-such-page")
    assert response.status_code == 404
    body = await response.get_data(as_text=True)
    assert "Page not found" in body
    assert "Traceback" not in body


async def test_unexpected_error_is_a_500_page_without_traceback() -> None:
    async with offline_app() as app:

        @app.get("/_test/boom")
        async def boom() -> str:
            raise RuntimeError("secret internal detail")

        response = await app.test_client().get("/_test/boom")
    body = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret internal detail" not in body and "Traceback" not in body
