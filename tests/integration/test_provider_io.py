"""Provider I/O: one pooled session per worker, checked discovery, never blocking the loop."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

import aiohttp
import pytest
from quart import Quart

from app.oidc.extension import EXTENSION
from devstack import LocalIdp
from tests.home_page import is_signed_out, signed_in_as
from tests.hostile_provider import (
    ALL_PATHS,
    DISCOVERY,
    JWKS,
    TOKEN,
    USER,
    USERINFO,
    HostileProvider,
    serving_app,
    sign_in,
    start_sign_in,
)
from tests.in_process_sign_in import in_process_settings, serving_in_process, sign_in_in_process
from tests.metrics_scrape import counted


async def page(hostile_app: Quart, path: str) -> tuple[int, str]:
    response = await hostile_app.test_client().get(path)
    return response.status_code, html.unescape(await response.get_data(as_text=True))


def assert_page(status: int, text: str, expected: int, *words: str) -> None:
    assert status == expected, text
    assert all(word in text for word in words), text
    assert "Traceback" not in text and 'File "' not in text


@pytest.mark.parametrize(
    "issuer",
    [
        pytest.param(lambda p: "https://evil.example/oidc", id="other"),
        pytest.param(lambda p: p.endpoint, id="without-oidc"),
        pytest.param(lambda p: p.issuer + "/", id="trailing-slash"),
    ],
)
async def test_discovery_with_a_foreign_issuer_is_a_502_page_naming_it(
    redis_url: str, hostile: HostileProvider, issuer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    hostile.discovery_changes = {"issuer": issuer(hostile)}
    with caplog.at_level(logging.ERROR):
        async with serving_app(hostile, redis_url) as app:
            status, text = await page(app, "/sign-in")
    assert_page(status, text, 502, "misconfigured", "issuer", issuer(hostile), hostile.issuer)
    assert any(issuer(hostile) in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("jwks_uri", "file:///etc/passwd"),
        ("token_endpoint", "javascript:alert(1)"),
        ("userinfo_endpoint", "/oidc/me"),
    ],
)
async def test_discovery_with_a_non_web_url_is_a_502_page(
    redis_url: str, hostile: HostileProvider, field: str, url: str
) -> None:
    hostile.discovery_changes = {field: url}
    async with serving_app(hostile, redis_url) as app:
        status, text = await page(app, "/sign-in")
    assert_page(status, text, 502, "misconfigured", field, url)


async def test_failed_discovery_is_retried_on_the_next_request(
    redis_url: str, hostile: HostileProvider
) -> None:
    hostile.failing = set(ALL_PATHS)
    async with serving_app(hostile, redis_url) as app:
        assert hostile.hits[DISCOVERY] == 1  # the start-up check
        status, text = await page(app, "/sign-in")
        assert_page(status, text, 502, "could not be reached", hostile.endpoint)
        hostile.failing = set()
        status, _ = await page(app, "/sign-in")
        assert status == 302
        assert hostile.hits[DISCOVERY] == 3


@pytest.mark.parametrize("par", ["false", "true"], ids=["plain", "par"])
@pytest.mark.parametrize("fault", ["down", "foreign-issuer"])
async def test_a_wrong_endpoint_is_named_in_one_log_line_at_start(
    redis_url: str,
    hostile: HostileProvider,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    par: str,
) -> None:
    if fault == "down":
        hostile.failing = set(ALL_PATHS)
    else:
        hostile.discovery_changes = {"issuer": "http://localhost:3001/oidc"}
    with caplog.at_level(logging.WARNING):
        async with serving_app(hostile, redis_url, LOGTO_PAR=par):
            pass
    lines = [r.getMessage() for r in caplog.records if "LOGTO_ENDPOINT" in r.getMessage()]
    assert len(lines) == 1, lines
    assert hostile.endpoint in lines[0]
    if fault == "down":
        assert "unreachable" in lines[0]
    else:
        assert "http://localhost:3001/oidc" in lines[0]


async def test_a_right_endpoint_logs_nothing_at_start(
    redis_url: str, idp: LocalIdp, app_ports: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    before = counted("provider_requests_total", endpoint="discovery")
    with caplog.at_level(logging.WARNING):
        async with serving_in_process(in_process_settings(idp, redis_url, app_ports)):
            pass
    assert not [r for r in caplog.records if "LOGTO_ENDPOINT" in r.getMessage()]
    assert counted("provider_requests_total", endpoint="discovery") == before + 1
    assert counted("provider_requests_total", endpoint="discovery", result="ok") >= 1


async def test_unreachable_jwks_is_a_502_page_and_retried_next_time(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    hostile.failing = {JWKS}
    response = await client.get(await start_sign_in(client, hostile))
    text = await response.get_data(as_text=True)
    assert_page(response.status_code, text, 502, "could not be reached")
    assert await is_signed_out(client)
    hostile.failing = set()
    status, body = await sign_in(client, hostile)
    assert status == 302, body
    assert await signed_in_as(client) == USER["name"]


async def test_token_endpoint_refusal_is_a_400_page(
    redis_url: str, idp: LocalIdp, app_ports: list[int], http: aiohttp.ClientSession
) -> None:
    settings = in_process_settings(idp, redis_url, app_ports, LOGTO_APP_SECRET="wrong-secret")
    async with serving_in_process(settings) as app:
        client = app.test_client()
        callback = await sign_in_in_process(client, http, "wrong-secret")
        body = html.unescape(await callback.get_data(as_text=True))
        assert_page(callback.status_code, body, 400, "Sign-in failed", "invalid_client")
        assert await is_signed_out(client)


async def test_healthz_answers_while_a_callback_waits_for_a_slow_jwks(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    hostile.jwks_delay = 2.0
    client, probe = hostile_app.test_client(), hostile_app.test_client()
    callback_path = await start_sign_in(client, hostile)
    done: list[str] = []

    async def callback() -> int:
        response = await client.get(callback_path)
        done.append("callback")
        return response.status_code

    task = asyncio.create_task(callback())
    async with asyncio.timeout(5):
        await hostile.jwks_requested.wait()  # the callback now waits on the slow JWKS
    loop = asyncio.get_running_loop()
    for _ in range(3):
        started = loop.time()
        assert (await probe.get("/healthz")).status_code == 200
        assert loop.time() - started < 1.0
    done.append("healthz")
    assert await task == 302
    assert done == ["healthz", "callback"]


async def test_provider_requests_reuse_one_pooled_connection(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    hostile.expires_in = 0  # the access token is stale at once: /profile must refresh it
    client = hostile_app.test_client()
    status, body = await sign_in(client, hostile)
    assert status == 302, body
    profile = await client.get("/profile")
    assert profile.status_code == 200, await profile.get_data(as_text=True)
    assert hostile.grants == {"authorization_code": 1, "refresh_token": 1}
    assert hostile.hits[DISCOVERY] == hostile.hits[JWKS] == hostile.hits[USERINFO] == 1
    assert hostile.hits[TOKEN] == 2
    # The stock SDK opens a session (so a connection) per call and fetches keys with urllib.
    assert len(hostile.app_ports) == 1, hostile.app_ports


async def test_provider_session_closes_after_serving(
    redis_url: str, idp: LocalIdp, app_ports: list[int]
) -> None:
    async with serving_in_process(in_process_settings(idp, redis_url, app_ports)) as app:
        pool = app.extensions[EXTENSION].parts.http.session
        assert not pool.closed
    assert pool.closed
