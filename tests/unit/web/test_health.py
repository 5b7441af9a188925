"""The probes: liveness needs neither Redis nor Logto."""

from __future__ import annotations

from tests.unit.offline_app import offline_app


async def test_liveness_needs_no_redis() -> None:
    async with offline_app() as app:
        response = await app.test_client().get("/healthz")
    assert response.status_code == 200 and await response.get_json() == {"status": "ok"}
