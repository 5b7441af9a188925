"""GET /metrics: counters that move with real traffic, summed over two workers, behind a token."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devstack import AppServer, free_port
from devstack.ports import LOOPBACK
from tests.auth_actions import AuthActions
from tests.conftest import provider_for, server_settings
from tests.metrics_scrape import delta, scrape, total, worker_file_samples
from tests.server_processes import environment, worker_processes

METRICS_TOKEN = "metrics-scraper-token-for-tests"
HEALTHZ = {"route": "/healthz", "method": "GET", "status": "200"}


@pytest.fixture(scope="module")
def metered_server(redis_url: str) -> Iterator[AppServer]:
    """The app with METRICS_TOKEN, 2 workers, its own provider."""
    port = free_port()
    with provider_for([port]) as idp:
        settings = {**server_settings(idp, redis_url, port), "METRICS_TOKEN": METRICS_TOKEN}
        with AppServer(settings, port=port, workers=2) as server:
            yield server


async def test_a_sign_in_a_page_and_a_sign_out_move_their_counters(
    metered_server: AppServer, http: aiohttp.ClientSession
) -> None:
    browser = AuthActions(metered_server.url, http)
    before = await scrape(http, metered_server.url, METRICS_TOKEN)

    landed = await browser.sign_in("metered")
    assert landed.status == 200 and "Metered" in landed.text
    assert (await browser.get("/profile")).status == 200
    assert (await browser.get("/call-api")).status == 200  # the API token: a refresh
    await browser.sign_out()
    refused = await browser.get("/callback?state=forged&code=forged")
    assert refused.status == 400
    after = await scrape(http, metered_server.url, METRICS_TOKEN)

    def moved(name: str, **labels: str) -> float:
        return delta(before, after, name, **labels)

    assert moved("sign_ins_started_total", mode="sign_in") == 1
    assert moved("sign_ins_completed_total") == 1
    assert moved("sign_ins_failed_total", reason="rejected") == 1
    assert moved("token_refreshes_total", result="ok") == 1
    assert moved("token_refreshes_total") == 1, "one refresh, nothing else"
    assert moved("provider_requests_total", endpoint="token", result="ok") == 2  # code, refresh
    assert moved("provider_requests_total", endpoint="userinfo", result="ok") == 1
    assert moved("provider_requests_total", endpoint="revocation", result="ok") == 1
    assert moved("provider_requests_total", endpoint="api", result="ok") == 1  # API_URL
    assert moved("provider_request_duration_seconds_count", endpoint="token") == 2
    assert moved("http_requests_total", route="/callback", status="302") == 1
    assert moved("http_requests_total", route="/callback", status="400") == 1
    assert moved("http_requests_total", route="/profile", status="200") == 1
    assert moved("http_requests_total", route="/sign-out", method="POST", status="302") == 1
    assert moved("http_request_duration_seconds_count", route="/profile", method="GET") == 1
    assert moved("redis_errors_total") == 0
    assert moved("http_requests_total", route="/metrics", status="200") == 1  # the first scrape


async def test_requests_on_both_workers_are_summed(
    metered_server: AppServer, http: aiohttp.ClientSession
) -> None:
    assert metered_server.pid is not None
    workers = await both_workers(metered_server.pid)
    directory = Path(environment(workers[0])["PROMETHEUS_MULTIPROC_DIR"])
    files = [directory / f"counter_{pid}.db" for pid in workers]

    before = await scrape(http, metered_server.url, METRICS_TOKEN)
    served_before = [served_healthz(file) for file in files]
    sent = 0
    # Each request on a new connection: the kernel spreads connections over both workers.
    while sent < 40 or 0 in grown(files, served_before):
        assert sent < 400, "the kernel never gave the second worker a connection"
        await asyncio.gather(*(get_on_new_connection(metered_server.port) for _ in range(20)))
        sent += 20
    after = await scrape(http, metered_server.url, METRICS_TOKEN)

    per_worker = grown(files, served_before)
    assert all(count > 0 for count in per_worker), per_worker
    assert delta(before, after, "http_requests_total", **HEALTHZ) == sent == sum(per_worker)


async def both_workers(pgid: int) -> list[int]:
    """The two worker PIDs, once both have written their metrics file."""
    for _ in range(200):
        workers = worker_processes(pgid)
        if len(workers) == 2:
            return workers
        await asyncio.sleep(0.05)
    raise AssertionError(f"two workers never ran: {worker_processes(pgid)}")


def grown(files: list[Path], before: list[float]) -> list[float]:
    """How many more GET /healthz each worker answered since `before`."""
    return [served_healthz(file) - count for file, count in zip(files, before, strict=True)]


def served_healthz(counter_file: Path) -> float:
    """How many GET /healthz one worker has answered, from its own metrics file."""
    if not counter_file.exists():
        return 0.0
    return total(worker_file_samples(str(counter_file)), "http_requests_total", **HEALTHZ)


async def get_on_new_connection(port: int) -> None:
    """GET /healthz on a connection of its own, closed after the answer."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        writer.write(
            f"GET /healthz HTTP/1.1\r\nHost: {LOOPBACK}\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_metrics_need_the_token(
    metered_server: AppServer, http: aiohttp.ClientSession
) -> None:
    url = f"{metered_server.url}/metrics"
    for headers, error in [
        ({}, "missing_token"),
        ({"Authorization": "Bearer not-the-token"}, "invalid_token"),
        ({"Authorization": f"Basic {METRICS_TOKEN}"}, "missing_token"),
        ({"Authorization": f"Bearer {METRICS_TOKEN}x"}, "invalid_token"),
    ]:
        async with http.get(url, headers=headers) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await response.json())["error"] == error
            assert "Set-Cookie" not in response.headers
            assert "http_requests_total" not in await response.text()


async def test_metrics_are_not_found_without_a_token_configured(
    app_server: AppServer, http: aiohttp.ClientSession
) -> None:
    for headers in ({}, {"Authorization": "Bearer anything"}):
        async with http.get(f"{app_server.url}/metrics", headers=headers) as response:
            assert response.status == 404
            assert "http_requests_total" not in await response.text()
