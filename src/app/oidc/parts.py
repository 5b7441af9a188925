"""The parts that Logto sign-in is made of, created once per app from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from logto import LogtoConfig, UserInfoScope

from app.config import Settings
from app.oidc.client import PooledLogtoClient
from app.oidc.provider import ProviderHttp
from app.oidc.transactions import TransactionCookie
from app.sessions.store import SessionStore
from app.storage import SessionStorage


@dataclass(frozen=True)
class Parts:
    """The settings, the provider pool, the SDK client, the session store, the sign-in cookie."""

    settings: Settings
    http: ProviderHttp
    client: PooledLogtoClient
    store: SessionStore
    sign_ins: TransactionCookie

    @classmethod
    def create(cls, settings: Settings) -> Parts:
        """Every part for `settings` (nothing opened yet: see LogtoAuth's serving hooks)."""
        config = LogtoConfig(
            endpoint=settings.logto_endpoint,
            appId=settings.logto_app_id,
            appSecret=settings.logto_app_secret,
            scopes=[sdk_scope(scope) for scope in settings.scopes],
            resources=settings.resources,
        )
        http = ProviderHttp(settings)
        return cls(
            settings=settings,
            http=http,
            client=PooledLogtoClient(config, http, storage=SessionStorage()),
            store=SessionStore(settings),
            sign_ins=TransactionCookie(settings),
        )

    @property
    def redirect_uri(self) -> str:
        """The callback URL registered with Logto."""
        return f"{self.settings.base_url}/callback"

    @property
    def post_sign_out_uri(self) -> str:
        """Where Logto sends the browser after sign-out."""
        return f"{self.settings.base_url}/"


def sdk_scope(scope: str) -> str | UserInfoScope:
    """The SDK's enum member for a scope it knows (it checks organizations by member), else the
    scope itself."""
    try:
        return UserInfoScope(scope)
    except ValueError:
        return scope
