"""Any worker on any host that reaches the same Redis serves the same signed-in user."""

import asyncio

from devstack import AppServer
from tests.auth_actions import AuthActions


async def test_sign_in_on_one_host_is_signed_in_on_the_other(
    auth: AuthActions, app_server: AppServer, second_app_server: AppServer
) -> None:
    other = AuthActions(second_app_server.url, auth.http)  # same browser, other host
    await auth.sign_in("olivia")
    assert "Olivia" in (await other.get("/")).text
    profile = await other.get("/profile")
    assert profile.status == 200 and "Profile of Olivia" in profile.text


async def test_sign_out_on_one_host_signs_out_on_both(
    auth: AuthActions, app_server: AppServer, second_app_server: AppServer
) -> None:
    other = AuthActions(second_app_server.url, auth.http)
    await auth.sign_in("peggy")
    assert "Peggy" in (await other.get("/")).text
    await auth.sign_out()
    for host in (auth, other):
        home = await host.get("/")
        assert 'id="sign-in"' in home.text and "Peggy" not in home.text


async def test_fifty_requests_across_two_workers_are_all_signed_in(
    auth: AuthActions, app_server: AppServer
) -> None:
    await auth.sign_in("quentin")
    session_id = auth.session_id()
    assert session_id

    async def home_text() -> str:
        # A new connection per request, so the kernel spreads them over both workers.
        async with auth.http.get(
            f"{app_server.url}/", headers={"Connection": "close"}, allow_redirects=False
        ) as resp:
            assert resp.status == 200
            return await resp.text()

    pages = await asyncio.gather(*(home_text() for _ in range(50)))
    assert sum("Quentin" in page for page in pages) == 50
    assert auth.session_id() == session_id, "reading the session never replaces it"
