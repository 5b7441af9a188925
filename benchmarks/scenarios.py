"""What is measured: the wrk scenarios (app and baselines) and the sign-in flows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """One URL of one server under wrk, with the signed-in cookie of `session` if any."""

    key: str
    label: str
    server: str  # app, asgi, quart or peer
    path: str
    session: str | None = None  # app or peer
    note: str = ""


SCENARIOS = (
    Scenario("limit", "bare ASGI page (limit)", "asgi", "/"),
    Scenario("anonymous_home", "app: anonymous GET /", "app", "/"),
    Scenario("bare_quart", "bare Quart page", "quart", "/"),
    Scenario("home", "app: signed-in GET /", "app", "/", session="app"),
    Scenario("peer", "Flask peer: signed-in GET /", "peer", "/", session="peer"),
    Scenario(
        "profile",
        "app: signed-in GET /profile",
        "app",
        "/profile",
        session="app",
        note="calls the provider's userinfo endpoint on every request",
    ),
    Scenario(
        "sign_in",
        "app: GET /sign-in (302)",
        "app",
        "/sign-in",
        note="no cookie: the pending sign-in goes to an encrypted cookie, nothing to Redis",
    ),
)

FLOWS = {
    "flow_app": "sign-in flow through the app",
    "flow_provider": "sign-in flow, provider alone",
}
