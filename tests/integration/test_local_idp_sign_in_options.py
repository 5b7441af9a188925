"""The local provider's sign-in options behave like Logto's: direct sign-in, login_hint, PAR,
re-authentication with prompt=login and max_age, and the Account API (/api/my-account)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import aiohttp
import jwt
import pytest

from devstack import LocalIdp, free_port
from devstack.idp import API_SCOPES
from tests.auth_actions import forms_of

CLIENT_ID = "options-test-app"
CLIENT_SECRET = "options-test-secret"
API = "http://127.0.0.1:9/api"
# Nothing listens there: the client stops at the redirect and takes the code from its URL.
REDIRECT_URI = f"http://127.0.0.1:{free_port()}/callback"
SCOPE = "openid offline_access profile email"
DEFAULT_FIELDS = {
    "name": "Edit",
    "avatar": "Edit",
    "username": "ReadOnly",
    "email": "ReadOnly",
    "phone": "ReadOnly",
}


def local_idp(**switches: Any) -> LocalIdp:
    return LocalIdp(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[REDIRECT_URI.removesuffix("/callback") + "/"],
        api_resources={API: API_SCOPES},
        **switches,
    )


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalIdp]:
    """The local provider as Logto is by default: PAR announced, Account Center on."""
    with local_idp() as idp:
        yield idp


@pytest.fixture(scope="module")
def provider_without_par() -> Iterator[LocalIdp]:
    """A provider started with PAR off and the Account Center off."""
    with local_idp(par=False, account_center=False) as idp:
        yield idp


@dataclass
class Visit:
    """Where a browser ended up: the callback URL (no page) or a page of the provider."""

    url: str
    status: int
    page: str

    @property
    def code(self) -> str | None:
        if not self.url.startswith(REDIRECT_URI):
            return None
        return parse_qs(urlsplit(self.url).query).get("code", [None])[0]


@dataclass
class Browser:
    """One browser's cookies and the relying party's side of the code flow with PKCE."""

    idp: LocalIdp
    http: aiohttp.ClientSession
    verifier: str = ""

    def authorization_params(self, **extra: str) -> dict[str, str]:
        """A fresh PKCE pair and the authorization request's parameters, plus `extra`."""
        self.verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPE,
            "prompt": "consent",
            "code_challenge": base64.urlsafe_b64encode(digest).decode().rstrip("="),
            "code_challenge_method": "S256",
            "state": secrets.token_urlsafe(16),
            **extra,
        }

    async def authorize(self, **extra: str) -> Visit:
        """Start an authorization request; prompt=consent unless `extra` overrides it."""
        params = {key: value for key, value in self.authorization_params(**extra).items() if value}
        return await self.browse(f"{self.idp.issuer}/auth?{urlencode(params)}")

    async def browse(self, url: str, data: dict[str, str] | None = None) -> Visit:
        """GET (or POST `data` to) `url`, following redirects up to a page or the callback."""
        method = "GET" if data is None else "POST"
        for _ in range(10):
            if url.startswith(REDIRECT_URI):
                return Visit(url, 302, "")
            async with self.http.request(method, url, data=data, allow_redirects=False) as resp:
                if resp.status not in (302, 303):
                    return Visit(url, resp.status, await resp.text())
                url = urljoin(url, resp.headers["Location"])
            method, data = "GET", None
        raise AssertionError(f"too many redirects, last {url}")

    async def submit(self, visit: Visit, **fields: str) -> Visit:
        """Submit the sign-in form of `visit` with its own fields overridden by `fields`."""
        assert visit.status == 200 and 'id="username"' in visit.page, visit.page
        form = forms_of(visit.page)[0]
        return await self.browse(urljoin(visit.url, form.action), data={**form.fields, **fields})

    async def tokens(self, visit: Visit) -> dict[str, Any]:
        """Exchange the code of a visit that reached the callback."""
        assert visit.code, f"no code at {visit.url}: {visit.page[:400]}"
        status, tokens = await self.token(
            grant_type="authorization_code",
            code=visit.code,
            redirect_uri=REDIRECT_URI,
            code_verifier=self.verifier,
        )
        assert status == 200, tokens
        return tokens

    async def sign_in(self, username: str, **extra: str) -> dict[str, Any]:
        """The whole flow through the form (fields such as auth_age in `extra` with `form_`)."""
        fields = {key[5:]: value for key, value in extra.items() if key.startswith("form_")}
        params = {key: value for key, value in extra.items() if not key.startswith("form_")}
        visit = await self.authorize(**params)
        return await self.tokens(await self.submit(visit, username=username, **fields))

    async def token(self, **form: str) -> tuple[int, dict[str, Any]]:
        data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
        async with self.http.post(f"{self.idp.issuer}/token", data=data) as resp:
            return resp.status, await resp.json()

    async def claims(self, token: str, audience: str = CLIENT_ID) -> dict[str, Any]:
        """The claims of a JWT signed with one of the provider's keys."""
        async with self.http.get(f"{self.idp.issuer}/jwks") as resp:
            keys = jwt.PyJWKSet.from_dict(await resp.json())
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(key for key in keys.keys if key.key_id == kid)
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=["ES384"], audience=audience, issuer=self.idp.issuer
        )
        return claims

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"}
        async with self.http.get(f"{self.idp.issuer}/me", headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            user: dict[str, Any] = await resp.json()
            return user

    async def my_account(
        self, method: str, token: str | None, body: Any = None
    ) -> tuple[int, dict[str, Any]]:
        """Call Logto's Account API with `token` as the bearer token (none when None)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.http.request(
            method, self.idp.account_api_url, headers=headers, json=body
        ) as resp:
            return resp.status, await resp.json()

    async def switch(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a test switch (/dev/account-center, /dev/auth-time)."""
        async with self.http.post(url, json=body) as resp:
            assert resp.status == 200, await resp.text()
            answer: dict[str, Any] = await resp.json()
            return answer


@pytest.fixture
def browser(provider: LocalIdp, http: aiohttp.ClientSession) -> Browser:
    """A new browser at the default provider."""
    return Browser(provider, http)


@pytest.fixture
async def account_center(browser: Browser) -> AsyncIterator[Browser]:
    """The browser, with the provider's Account Center put back as it was after the test."""
    yield browser
    await browser.switch(
        browser.idp.account_center_url, {"enabled": True, "fields": DEFAULT_FIELDS}
    )


@pytest.fixture
async def auth_time(browser: Browser) -> AsyncIterator[Browser]:
    """The browser, with the provider's auth_time offset back to 0 after the test."""
    yield browser
    await browser.switch(browser.idp.auth_time_url, {"offset": 0})


def assert_recent(auth_time: int, seconds_ago: int = 0) -> None:
    expected = time.time() - seconds_ago
    assert expected - 10 <= auth_time <= expected + 2, (auth_time, expected)


# direct_sign_in and login_hint


@pytest.mark.parametrize(
    ("direct", "username", "name"),
    [
        ("social:azure-ad", "azure-ad-demo", "Azure AD Demo"),
        ("social:github", "github-demo", "GitHub Demo"),
        ("sso:8fks2ldq0a", "sso-8fks2ldq0a-demo", "8fks2ldq0a SSO Demo"),
    ],
)
async def test_direct_sign_in_signs_in_the_connector_user_without_a_form(
    browser: Browser, direct: str, username: str, name: str
) -> None:
    visit = await browser.authorize(direct_sign_in=direct)
    assert visit.code, f"expected the callback at once, got {visit.status}: {visit.page[:300]}"
    claims = await browser.claims((await browser.tokens(visit))["id_token"])
    assert (claims["username"], claims["name"]) == (username, name)
    assert claims["email"] == f"{username}@example.test" and claims["email_verified"] is True

    browser.http.cookie_jar.clear()  # another browser: the same connector, the same user
    again = await browser.claims(
        (await browser.tokens(await browser.authorize(direct_sign_in=direct)))["id_token"]
    )
    assert again["sub"] == claims["sub"]


async def test_connector_users_are_not_the_users_of_the_form(browser: Browser) -> None:
    direct = await browser.tokens(await browser.authorize(direct_sign_in="social:azure-ad"))
    browser.http.cookie_jar.clear()
    typed = await browser.sign_in("azure-ad-demo")
    subjects = [(await browser.claims(tokens["id_token"]))["sub"] for tokens in (direct, typed)]
    assert subjects[0] != subjects[1]


@pytest.mark.parametrize("direct", ["passkey:anything", "social:", "social", "google"])
async def test_direct_sign_in_with_an_unknown_method_shows_the_form(
    browser: Browser, direct: str
) -> None:
    visit = await browser.authorize(direct_sign_in=direct)
    assert visit.status == 200 and 'id="username"' in visit.page
    tokens = await browser.tokens(await browser.submit(visit, username="fallback"))
    assert (await browser.claims(tokens["id_token"]))["username"] == "fallback"


async def test_login_hint_prefills_the_username_html_escaped(browser: Browser) -> None:
    hint = "ann\"<b>&'x@example.test"
    visit = await browser.authorize(login_hint=hint)
    assert forms_of(visit.page)[0].fields["username"] == hint
    assert (
        "<b>" not in visit.page
        and 'value="ann&#34;&#60;b&#62;&#38;&#39;x@example.test"' in visit.page
    )

    plain = await browser.authorize()
    assert forms_of(plain.page)[0].fields["username"] == ""


async def test_login_hint_and_direct_sign_in_work_through_par(browser: Browser) -> None:
    status, pushed = await push(browser, browser.authorization_params(login_hint="dora"))
    assert status == 201, pushed
    visit = await browser.browse(auth_url(browser.idp, pushed["request_uri"]))
    assert forms_of(visit.page)[0].fields["username"] == "dora"

    status, pushed = await push(
        browser, browser.authorization_params(direct_sign_in="social:google")
    )
    visit = await browser.browse(auth_url(browser.idp, pushed["request_uri"]))
    claims = await browser.claims((await browser.tokens(visit))["id_token"])
    assert claims["username"] == "google-demo"


# Pushed authorization requests


async def push(browser: Browser, params: dict[str, str], **credentials: str) -> tuple[int, Any]:
    """POST the authorization parameters to /oidc/request (client_secret_post by default)."""
    data = {**params, **(credentials or {"client_secret": CLIENT_SECRET})}
    data = {key: value for key, value in data.items() if value}
    async with browser.http.post(browser.idp.par_endpoint, data=data) as resp:
        return resp.status, await resp.json()


def auth_url(idp: LocalIdp, request_uri: str) -> str:
    return f"{idp.issuer}/auth?{urlencode({'client_id': CLIENT_ID, 'request_uri': request_uri})}"


async def discovery(browser: Browser, idp: LocalIdp) -> dict[str, Any]:
    async with browser.http.get(f"{idp.issuer}/.well-known/openid-configuration") as resp:
        document: dict[str, Any] = await resp.json()
        return document


async def test_pushed_authorization_request_completes_a_sign_in(browser: Browser) -> None:
    document = await discovery(browser, browser.idp)
    assert document["pushed_authorization_request_endpoint"] == browser.idp.par_endpoint
    assert browser.idp.par_endpoint.endswith("/oidc/request")
    assert not document.get("require_pushed_authorization_requests"), "PAR is optional"

    status, pushed = await push(browser, browser.authorization_params())
    assert status == 201, pushed
    assert pushed["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert isinstance(pushed["expires_in"], int) and pushed["expires_in"] > 0

    visit = await browser.browse(auth_url(browser.idp, pushed["request_uri"]))
    tokens = await browser.tokens(await browser.submit(visit, username="parker"))
    assert (await browser.claims(tokens["id_token"]))["username"] == "parker"
    assert tokens["refresh_token"], "the pushed request's scope and prompt were used"

    again = await browser.browse(auth_url(browser.idp, pushed["request_uri"]))
    error = parse_qs(urlsplit(again.url).query).get("error")
    assert error == ["invalid_request_uri"], "a request_uri is good for one authorization request"


@pytest.mark.parametrize("credentials", [{"client_secret": ""}, {"client_secret": "wrong"}])
async def test_pushed_authorization_request_needs_the_client_secret(
    browser: Browser, credentials: dict[str, str]
) -> None:
    status, answer = await push(browser, browser.authorization_params(), **credentials)
    assert (status, answer["error"]) == (401, "invalid_client")


async def test_discovery_has_no_par_endpoint_when_par_is_off(
    browser: Browser, provider_without_par: LocalIdp
) -> None:
    document = await discovery(browser, provider_without_par)
    assert "pushed_authorization_request_endpoint" not in document
    assert document["authorization_endpoint"].endswith("/oidc/auth")
    async with browser.http.post(provider_without_par.par_endpoint, data={}) as resp:
        assert resp.status == 404


# Re-authentication: prompt=login, max_age and auth_time


async def test_prompt_login_with_max_age_asks_again_despite_a_session(browser: Browser) -> None:
    first = await browser.claims((await browser.sign_in("rita", max_age="86400"))["id_token"])
    assert_recent(first["auth_time"])

    silent = await browser.authorize(prompt="", max_age="600")
    assert silent.code, "a live session signs in without a form"

    visit = await browser.authorize(prompt="login consent", max_age="600")
    assert visit.status == 200 and 'id="username"' in visit.page, "asked again"
    tokens = await browser.tokens(await browser.submit(visit, username="rita"))
    claims = await browser.claims(tokens["id_token"])
    assert claims["sub"] == first["sub"]
    assert_recent(claims["auth_time"])
    assert claims["auth_time"] >= first["auth_time"]

    status, refreshed = await browser.token(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert status == 200, refreshed
    assert (await browser.claims(refreshed["id_token"]))["auth_time"] == claims["auth_time"]


async def test_auth_age_makes_this_sign_in_older(browser: Browser) -> None:
    tokens = await browser.sign_in("sid", max_age="86400", form_auth_age="3600")
    claims = await browser.claims(tokens["id_token"])
    assert_recent(claims["auth_time"], seconds_ago=3600)

    # Older than this max_age: the provider itself asks for the user again, as Logto does.
    visit = await browser.authorize(prompt="", max_age="600")
    assert visit.status == 200 and 'id="username"' in visit.page
    fresh = await browser.claims(
        (await browser.tokens(await browser.submit(visit, username="sid")))["id_token"]
    )
    assert_recent(fresh["auth_time"])


async def test_auth_age_query_on_the_interaction_prefills_the_field(browser: Browser) -> None:
    visit = await browser.authorize(max_age="86400")
    prefilled = await browser.browse(f"{visit.url}?auth_age=900")
    assert forms_of(prefilled.page)[0].fields["auth_age"] == "900"
    tokens = await browser.tokens(await browser.submit(prefilled, username="tia"))
    assert_recent((await browser.claims(tokens["id_token"]))["auth_time"], seconds_ago=900)


async def test_invalid_auth_age_is_refused_on_the_form(browser: Browser) -> None:
    visit = await browser.authorize(max_age="86400")
    refused = await browser.submit(visit, username="uri", auth_age="-5")
    assert refused.status == 400 and "auth_age must be" in refused.page


async def test_auth_time_offset_switch_applies_to_following_sign_ins(auth_time: Browser) -> None:
    browser = auth_time
    assert await browser.switch(browser.idp.auth_time_url, {"offset": 7200}) == {"offset": 7200}
    direct = await browser.tokens(
        await browser.authorize(direct_sign_in="social:azure-ad", max_age="86400")
    )
    assert_recent((await browser.claims(direct["id_token"]))["auth_time"], seconds_ago=7200)

    browser.http.cookie_jar.clear()
    own_age = await browser.sign_in("vera", max_age="86400", form_auth_age="60")
    assert_recent((await browser.claims(own_age["id_token"]))["auth_time"], seconds_ago=60)

    await browser.switch(browser.idp.auth_time_url, {"offset": 0})
    browser.http.cookie_jar.clear()
    now = await browser.sign_in("vera", max_age="86400")
    assert_recent((await browser.claims(now["id_token"]))["auth_time"])


async def test_switches_take_json_only(browser: Browser) -> None:
    for url in (browser.idp.auth_time_url, browser.idp.account_center_url):
        async with browser.http.post(url, data={"offset": "1", "enabled": "false"}) as resp:
            assert resp.status == 415
    async with browser.http.post(browser.idp.auth_time_url, json={"offset": -1}) as resp:
        assert resp.status == 400
    async with browser.http.post(
        browser.idp.account_center_url, json={"fields": {"name": "Maybe"}}
    ) as resp:
        assert resp.status == 400
    async with browser.http.get(browser.idp.account_center_url) as resp:
        assert await resp.json() == {"enabled": True, "fields": DEFAULT_FIELDS}


# The Account API


async def test_account_api_shows_the_profile_for_the_opaque_token(browser: Browser) -> None:
    tokens = await browser.sign_in("wanda")
    sub = (await browser.claims(tokens["id_token"]))["sub"]
    status, account = await browser.my_account("GET", tokens["access_token"])
    assert status == 200, account
    assert account["id"] == sub
    assert (account["username"], account["name"], account["avatar"]) == ("wanda", "Wanda", None)
    assert account["primaryEmail"] == "wanda@example.test"
    assert "primaryPhone" not in account, "only with the phone scope, as in Logto"
    assert isinstance(account["createdAt"], int) and isinstance(account["lastSignInAt"], int)
    assert "customData" not in account and "identities" not in account, "fields Off by default"


async def test_account_api_refuses_missing_unknown_and_api_tokens(browser: Browser) -> None:
    tokens = await browser.sign_in("xena", resource=API, scope=f"{SCOPE} {' '.join(API_SCOPES)}")
    status, api = await browser.token(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"], resource=API
    )
    assert status == 200 and api["access_token"].count(".") == 2, "a JWT for the API"
    cases = [
        (None, "auth.authorization_header_missing"),
        ("not-a-token", "auth.unauthorized"),
        (api["access_token"], "auth.unauthorized"),
    ]
    for token, code in cases:
        for method in ("GET", "PATCH"):
            status, answer = await browser.my_account(method, token, {"name": "Nope"})
            assert (status, answer["code"]) == (401, code), (method, token)
            assert answer["message"]
    status, _ = await browser.my_account("GET", tokens["access_token"])
    assert status == 200


async def test_patching_the_name_shows_at_userinfo_and_in_refreshed_id_tokens(
    browser: Browser,
) -> None:
    tokens = await browser.sign_in("yara")
    status, account = await browser.my_account(
        "PATCH", tokens["access_token"], {"name": "Yara Q. Renamed"}
    )
    assert (status, account["name"], account["username"]) == (200, "Yara Q. Renamed", "yara")
    assert (await browser.userinfo(tokens["access_token"]))["name"] == "Yara Q. Renamed"

    status, refreshed = await browser.token(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert status == 200, refreshed
    claims = await browser.claims(refreshed["id_token"])
    assert claims["name"] == "Yara Q. Renamed"
    old = await browser.claims(tokens["id_token"])
    assert claims["updated_at"] > old["updated_at"]

    status, account = await browser.my_account("GET", refreshed["access_token"])
    assert account["name"] == "Yara Q. Renamed"


async def test_names_of_up_to_128_characters_fit(browser: Browser) -> None:
    token = (await browser.sign_in("zane"))["access_token"]
    status, answer = await browser.my_account("PATCH", token, {"name": "n" * 129})
    assert status == 422
    assert answer["code"] == "entity.value_too_long" and answer["message"]
    assert (await browser.userinfo(token))["name"] == "Zane", "a refused change changes nothing"

    status, answer = await browser.my_account("PATCH", token, {"name": "é" * 128})
    assert (status, answer["name"]) == (200, "é" * 128), "characters, not bytes"


async def test_avatar_and_empty_patch(browser: Browser) -> None:
    token = (await browser.sign_in("abby"))["access_token"]
    avatar = "https://example.test/abby.png"
    status, answer = await browser.my_account("PATCH", token, {"avatar": avatar})
    assert (status, answer["avatar"], answer["name"]) == (200, avatar, "Abby")
    assert (await browser.userinfo(token))["picture"] == avatar
    status, answer = await browser.my_account("PATCH", token, {})
    assert (status, answer["avatar"]) == (200, avatar)


@pytest.mark.parametrize(
    "body",
    [
        ["name", "x"],
        "x",
        5,
        {"name": 5},
        {"name": ["x"]},
        {"avatar": "not a url"},
        {"customData": []},
    ],
)
async def test_account_api_refuses_an_invalid_body(browser: Browser, body: Any) -> None:
    token = (await browser.sign_in("bert"))["access_token"]
    status, answer = await browser.my_account("PATCH", token, body)
    assert (status, answer["code"]) == (400, "guard.invalid_input"), answer
    assert (await browser.userinfo(token))["name"] == "Bert"


async def test_account_api_answers_unparsable_json_and_other_methods(browser: Browser) -> None:
    token = (await browser.sign_in("cora"))["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = browser.idp.account_api_url
    async with browser.http.patch(url, headers=headers, data="{name") as resp:
        assert resp.status == 400 and "message" in await resp.json()
    form = {"Authorization": f"Bearer {token}"}
    async with browser.http.patch(url, headers=form, data={"name": "Cora Form"}) as resp:
        assert resp.status == 200 and (await resp.json())["name"] == "Cora Form"
    async with browser.http.delete(url, headers=headers) as resp:
        assert resp.status == 405 and resp.headers["Allow"] == "GET, PATCH"
    async with browser.http.get(f"{url}/sessions", headers=headers) as resp:
        assert resp.status == 404


async def test_account_center_off_refuses_every_call(account_center: Browser) -> None:
    browser = account_center
    token = (await browser.sign_in("cleo"))["access_token"]
    switched = await browser.switch(browser.idp.account_center_url, {"enabled": False})
    assert switched["enabled"] is False
    for method, body in (("GET", None), ("PATCH", {"name": "Off"})):
        status, answer = await browser.my_account(method, token, body)
        expected = "Logto's koa-account-center: assertThat(..., 'account_center.not_enabled')"
        assert status == 400, expected
        assert answer == {
            "code": "account_center.not_enabled",
            "message": "Account center is not enabled.",
        }
    status, _ = await browser.my_account("GET", None)
    assert status == 401, "the token is checked first"

    await browser.switch(browser.idp.account_center_url, {"enabled": True})
    status, answer = await browser.my_account("PATCH", token, {"name": "Cleo On"})
    assert (status, answer["name"]) == (200, "Cleo On")


async def test_account_center_off_at_start(
    browser: Browser, provider_without_par: LocalIdp
) -> None:
    browser.idp = provider_without_par
    token = (await browser.sign_in("dino"))["access_token"]
    status, answer = await browser.my_account("GET", token)
    assert (status, answer["code"]) == (400, "account_center.not_enabled")


async def test_fields_that_are_not_editable_are_refused(account_center: Browser) -> None:
    browser = account_center
    token = (await browser.sign_in("enzo"))["access_token"]
    await browser.switch(browser.idp.account_center_url, {"fields": {"name": "ReadOnly"}})
    for body in ({"name": "Enzo 2"}, {"username": "enzo2"}, {"customData": {"a": 1}}):
        status, answer = await browser.my_account("PATCH", token, body)
        assert (status, answer["code"]) == (400, "account_center.field_not_editable"), body
        assert answer["message"] == "Field is not editable."
    status, account = await browser.my_account("GET", token)
    assert account["name"] == "Enzo", "ReadOnly fields are shown"

    await browser.switch(browser.idp.account_center_url, {"fields": {"name": "Off"}})
    status, account = await browser.my_account("GET", token)
    assert status == 200 and "name" not in account and account["username"] == "enzo"

    await browser.switch(browser.idp.account_center_url, {"fields": {"username": "Edit"}})
    status, answer = await browser.my_account("PATCH", token, {"username": "enzo2"})
    assert (status, answer["code"]) == (401, "verification_record.permission_denied")
