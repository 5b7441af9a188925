"""The sign-in options' settings and rules: LOGTO_DIRECT_SIGN_IN, LOGTO_PAR, REAUTH_MAX_AGE,
login hints, the authorization parameters, auth_time, names and Logto's refusals."""

from __future__ import annotations

import json
import time

import pytest

from app.config import DirectSignIn, Settings, SettingsError, load_settings
from app.errors import AppError
from app.oidc.account import ProfileRefused, checked_name, refused
from app.oidc.authorization import (
    SignInOptions,
    authorization_request,
    checked_login_hint,
    extra_parameters,
)
from app.oidc.provider import ProviderMetadata, ProviderRefused
from app.oidc.reauth import ReauthenticationRefused, check_reauthentication, is_recent
from app.oidc.transactions import TransactionCookie

SDK_URL = (
    "https://t.logto.app/oidc/auth?client_id=app&redirect_uri=https%3A%2F%2Fa.test%2Fcallback"
    "&response_type=code&scope=email+openid+offline_access+profile&resource=https%3A%2F%2Fapi"
    "&resource=urn%3Alogto%3Aresource%3Aorganizations&prompt=consent&code_challenge=abc"
    "&code_challenge_method=S256&state=xyz"
)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


# LOGTO_DIRECT_SIGN_IN


def test_direct_sign_in_entries_are_parsed_once_with_labels() -> None:
    loaded = settings(LOGTO_DIRECT_SIGN_IN="social:azure-ad=Microsoft  sso:acme=Acme SSO social:x")
    assert loaded.direct_sign_in == (
        DirectSignIn("social", "azure-ad", "Microsoft"),
        DirectSignIn("sso", "acme", "Acme SSO"),
        DirectSignIn("social", "x", "x"),
    )
    assert loaded.direct_sign_in is loaded.direct_sign_in, "parsed once"
    assert [entry.value for entry in loaded.direct_sign_in] == [
        "social:azure-ad",
        "sso:acme",
        "social:x",
    ]
    assert loaded.direct_sign_in_entry("sso:acme") == DirectSignIn("sso", "acme", "Acme SSO")
    assert loaded.direct_sign_in_entry("sso:acme=Acme SSO") is None


def test_no_direct_sign_in_by_default() -> None:
    assert settings().direct_sign_in == ()


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("google", "'google' is not method:target[=Label] with method social or sso"),
        ("passkey:x", "'passkey:x' is not method:target"),
        ("social:", "the connector target '' must be"),
        ("sso:a/b", "the connector target 'a/b' must be"),
        ("social:x=", "the label must be"),
        ("social:x social:x=Again", "'social:x' is listed twice"),
        ("social:azure-ad=Microsoft oops:x", "'oops:x' is not method:target"),
    ],
)
def test_a_bad_direct_sign_in_entry_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    monkeypatch.setenv("LOGTO_DIRECT_SIGN_IN", value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message and message.startswith("LOGTO_DIRECT_SIGN_IN: ")
    assert named in message


def test_par_and_reauth_max_age_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (settings().LOGTO_PAR, settings().REAUTH_MAX_AGE) == (False, 600)
    assert settings(LOGTO_PAR="true", REAUTH_MAX_AGE="300").REAUTH_MAX_AGE == 300
    monkeypatch.setenv("LOGTO_PAR", "")
    assert load_settings().LOGTO_PAR is False, "LOGTO_PAR= (empty) is off"
    monkeypatch.setenv("REAUTH_MAX_AGE", "0")
    with pytest.raises(SettingsError, match="REAUTH_MAX_AGE"):
        load_settings()


def test_discovery_reads_the_pushed_authorization_request_endpoint() -> None:
    document = {
        "issuer": "https://t.logto.app/oidc",
        "authorization_endpoint": "https://t.logto.app/oidc/auth",
        "token_endpoint": "https://t.logto.app/oidc/token",
        "userinfo_endpoint": "https://t.logto.app/oidc/me",
        "jwks_uri": "https://t.logto.app/oidc/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES384"],
    }
    assert ProviderMetadata.model_validate(document).pushed_authorization_request_endpoint is None
    announced = {
        **document,
        "pushed_authorization_request_endpoint": "https://t.logto.app/oidc/request",
    }
    metadata = ProviderMetadata.model_validate(announced)
    assert metadata.pushed_authorization_request_endpoint == "https://t.logto.app/oidc/request"


# login_hint and the authorization parameters


@pytest.mark.parametrize("hint", [None, "", "ann@example.test", "x" * 254, "Zoë 张"])
def test_usable_login_hints(hint: str | None) -> None:
    assert checked_login_hint(hint) == (hint or None)


@pytest.mark.parametrize("hint", ["x" * 255, "a\nb", "a\x00", "\x1b[31m", "\x7f", "a\x85b"])
def test_login_hints_too_long_or_with_control_characters_are_400(hint: str) -> None:
    with pytest.raises(AppError) as raised:
        checked_login_hint(hint)
    assert raised.value.status == 400


def test_an_unlisted_direct_sign_in_is_400() -> None:
    loaded = settings(LOGTO_DIRECT_SIGN_IN="social:google")
    options = SignInOptions.checked(
        loaded, direct_sign_in="social:google", login_hint=None, reauthenticate=False
    )
    assert options.direct_sign_in == "social:google"
    for value in ("social:github", "", "google"):
        with pytest.raises(AppError) as raised:
            SignInOptions.checked(
                loaded, direct_sign_in=value, login_hint=None, reauthenticate=False
            )
        assert raised.value.status == 400


def test_every_sign_in_asks_for_max_age_and_a_reauthentication_for_login() -> None:
    loaded = settings(SESSION_LIFETIME=86400, REAUTH_MAX_AGE=300)
    plain = extra_parameters(loaded, None, "n0nce", SignInOptions())
    assert plain == {"nonce": "n0nce", "max_age": "86400"}
    options = SignInOptions(direct_sign_in="sso:acme", login_hint="ann", reauthenticate=True)
    again = extra_parameters(loaded, "signUp", "n0nce", options)
    assert again == {
        "nonce": "n0nce",
        "first_screen": "register",
        "direct_sign_in": "sso:acme",
        "login_hint": "ann",
        "prompt": "login consent",
        "max_age": "300",
    }


def test_the_authorization_request_keeps_the_sdks_parameters_and_replaces_the_prompt() -> None:
    endpoint, params = authorization_request(SDK_URL, {"prompt": "login consent", "nonce": "n"})
    assert endpoint == "https://t.logto.app/oidc/auth"
    assert [value for name, value in params if name == "resource"] == [
        "https://api",
        "urn:logto:resource:organizations",
    ]
    assert dict(params)["scope"] == "email openid offline_access profile"
    assert [value for name, value in params if name == "prompt"] == ["login consent"]
    assert dict(params)["nonce"] == "n" and dict(params)["state"] == "xyz"


# auth_time


def test_auth_time_within_the_max_age_is_recent() -> None:
    now = time.time()
    assert is_recent({"auth_time": int(now) - 599}, 600, now)
    assert not is_recent({"auth_time": int(now) - 601}, 600, now)
    assert not is_recent({}, 600, now) and not is_recent({"auth_time": None}, 600, now)
    assert not is_recent({"auth_time": "soon"}, 600, now)
    assert not is_recent({"auth_time": int(now) + 3600}, 600, now), "from the future"


@pytest.mark.parametrize(
    ("claims", "current", "reason"),
    [
        ({"sub": "mallory", "auth_time": "NOW"}, "ann", "another user"),
        ({"sub": "ann", "auth_time": "NOW"}, "bob", "now signed in as another user"),
        ({"sub": "ann"}, "ann", "no auth_time"),
        ({"sub": "ann", "auth_time": "OLD"}, "ann", "not within the last 600 seconds"),
    ],
)
def test_a_reauthentication_must_be_recent_and_of_the_same_user(
    claims: dict[str, object], current: str, reason: str
) -> None:
    now = int(time.time())
    times = {"NOW": now, "OLD": now - 3600}
    claims = {name: times.get(str(value), value) for name, value in claims.items()}
    with pytest.raises(ReauthenticationRefused) as raised:
        check_reauthentication(claims, "ann", current, 600)
    assert raised.value.status == 400 and reason in raised.value.message
    check_reauthentication({"sub": "ann", "auth_time": now}, "ann", "ann", 600)
    check_reauthentication({"sub": "ann", "auth_time": now}, "ann", None, 600)


# Names and Logto's refusals


@pytest.mark.parametrize(
    ("name", "sent"), [("Ann", "Ann"), ("  Ann Lee ", "Ann Lee"), ("é" * 128, "é" * 128)]
)
def test_usable_names(name: str, sent: str) -> None:
    assert checked_name(name) == sent


@pytest.mark.parametrize("name", ["", "   ", "x" * 129, "Ann\nLee", "Ann\tLee", "\x00"])
def test_names_refused_here(name: str) -> None:
    with pytest.raises(ProfileRefused) as raised:
        checked_name(name)
    assert raised.value.status == 400 and raised.value.message.endswith("Nothing was changed.")


@pytest.mark.parametrize(
    ("status", "body", "expected", "words"),
    [
        (400, {"code": "account_center.not_enabled"}, 409, "Account Center is not enabled"),
        (400, {"code": "account_center.field_not_editable"}, 409, "not set to Edit"),
        (422, {"code": "entity.value_too_long"}, 400, "too long"),
        (400, {"code": "guard.invalid_input"}, 400, "invalid"),
        (401, {"code": "auth.unauthorized"}, 401, "did not accept this sign-in"),
        (403, {"code": "auth.forbidden"}, 403, "auth.forbidden"),
        (400, None, 400, "(400)"),
    ],
)
def test_logtos_refusals_are_messages(status: int, body: object, expected: int, words: str) -> None:
    refusal = refused(ProviderRefused(status, body))
    assert refusal.status == expected and words in refusal.message
    assert refusal.message.endswith("Nothing was changed.")


# The pending sign-in names the user a re-authentication is for


def test_a_transaction_carries_the_expected_user_and_old_cookies_still_read() -> None:
    cookie = TransactionCookie(settings(SECRET_KEY="k" * 32))
    started = time.time()
    plain = {"sdk_session": "{}", "next": "/", "nonce": "n", "started": started}
    reauth = {**plain, "expected_sub": "user-1", "max_age": 600}
    forged = [{**plain, "expected_sub": 7, "max_age": 600}, {**plain, "expected_sub": "u"}]
    entries = {"old": plain, "reauth": reauth, "forged-sub": forged[0], "no-max-age": forged[1]}
    value = cookie.fernet.encrypt(json.dumps(entries).encode()).decode()
    read = cookie.read(value)
    assert set(read) == {"old", "reauth"}
    assert not read["old"].reauthenticates and read["old"].expected_sub is None
    assert read["reauth"].reauthenticates
    assert (read["reauth"].expected_sub, read["reauth"].max_age) == ("user-1", 600)
