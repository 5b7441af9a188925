"""Liveness and readiness against a real Redis."""

from quart.typing import TestClientProtocol as QuartClient


async def test_health_endpoints_answer(client: QuartClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert (await ready.get_json()) == {"status": "ok", "redis": "ok"}
