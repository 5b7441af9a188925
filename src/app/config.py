"""Settings read once from the environment (and `.env` in development)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.redis_urls import RedisUrlError, parse_redis_url

# Values that match the local identity provider started by `scripts/run`.
DEV_LOGTO_ENDPOINT = "http://localhost:3001"
DEV_LOGTO_APP_ID = "dev-app"
DEV_LOGTO_APP_SECRET = "dev-secret-change-me"  # noqa: S105 - public dev value

REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "LOGTO_ENDPOINT",
    "LOGTO_APP_ID",
    "LOGTO_APP_SECRET",
    "REDIS_URL",
    "BASE_URL",
)
DEV_BASE_URL = "http://localhost:3000"
MIN_SECRET_KEY_LENGTH = 32
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ORGANIZATIONS_SCOPE = "urn:logto:scope:organizations"
ORGANIZATIONS_RESOURCE = "urn:logto:resource:organizations"
DIRECT_SIGN_IN_METHODS = ("social", "sso")
# A connector's target (social) or id (sso): URL-safe, as Logto's are (azure-ad, 8fks2ldq0a).
CONNECTOR_TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,63}")
# A word that begins another LOGTO_DIRECT_SIGN_IN entry; other words continue a label.
ENTRY_START = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:")
MAX_LABEL = 64


class SettingsError(Exception):
    """Raised when the settings cannot start the app; one line per problem."""


@dataclass(frozen=True)
class DirectSignIn:
    """One LOGTO_DIRECT_SIGN_IN entry: a button that goes straight to a Logto connector."""

    method: Literal["social", "sso"]
    target: str
    label: str

    @property
    def value(self) -> str:
        """Logto's `direct_sign_in` value, `method:target` (also the /sign-in?direct= value)."""
        return f"{self.method}:{self.target}"


def parse_direct_sign_in(text: str) -> tuple[DirectSignIn, ...]:
    """The entries of LOGTO_DIRECT_SIGN_IN: `method:target[=Label]`, space-separated.

    A label may hold spaces (`sso:acme=Acme SSO`): a word that does not begin with
    `word:` continues the label before it. Raises ValueError naming the first bad entry.
    """
    groups: list[list[str]] = []
    for word in text.split():
        if ENTRY_START.match(word) or not groups or "=" not in groups[-1][0]:
            groups.append([word])
        else:
            groups[-1].append(word)
    entries: dict[str, DirectSignIn] = {}
    for words in groups:
        entry = _direct_sign_in_entry(" ".join(words))
        if entry.value in entries:
            raise ValueError(f"{entry.value!r} is listed twice")
        entries[entry.value] = entry
    return tuple(entries.values())


def _direct_sign_in_entry(text: str) -> DirectSignIn:
    spec, has_label, label = text.partition("=")
    method, _, target = spec.partition(":")
    if method not in DIRECT_SIGN_IN_METHODS:
        raise ValueError(
            f"{text!r} is not method:target[=Label] with method social or sso "
            "(e.g. social:azure-ad=Microsoft, sso:<connector id>=Acme)"
        )
    if not CONNECTOR_TARGET.fullmatch(target):
        raise ValueError(
            f"{text!r}: the connector target {target!r} must be 1-64 letters, digits, "
            "'.', '_', '~' or '-' (the connector's target, or an SSO connector's id)"
        )
    label = label.strip() if has_label else target
    if not label or len(label) > MAX_LABEL or not label.isprintable():
        raise ValueError(f"{text!r}: the label must be 1-{MAX_LABEL} printable characters")
    return DirectSignIn("social" if method == "social" else "sso", target, label)


class Settings(BaseSettings):
    """Every setting of the service; names match the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    APP_ENV: Literal["development", "production", "test"] = "development"
    LOGTO_ENDPOINT: str | None = None
    LOGTO_APP_ID: str | None = None
    LOGTO_APP_SECRET: SecretStr | None = None
    BASE_URL: str | None = None
    REDIS_URL: str | None = None
    SECRET_KEY: SecretStr | None = None
    REDIS_TIMEOUT: float = Field(default=2.0, gt=0, description="seconds per Redis call")
    PROVIDER_CONNECT_TIMEOUT: float = Field(default=3.0, gt=0, description="seconds to connect")
    PROVIDER_TIMEOUT: float = Field(default=10.0, gt=0, description="seconds per provider call")
    SESSION_LIFETIME: int = Field(default=14 * 24 * 3600, gt=0, description="absolute, seconds")
    SESSION_IDLE_TIMEOUT: int = Field(default=24 * 3600, gt=0, description="idle, seconds")
    SESSION_CACHE_SIZE: int = Field(
        default=10_000, ge=0, description="sessions each worker keeps in memory; 0: none"
    )
    MAX_SESSIONS_PER_USER: int = Field(default=50, gt=0, description="app sessions per user")
    LOGTO_SCOPES: str = "email"
    LOGTO_RESOURCES: str | None = None
    API_RESOURCE: str | None = None
    API_URL: str | None = None
    METRICS_TOKEN: SecretStr | None = None
    LOG_FORMAT: Literal["text", "json"] | None = None
    ACCESS_LOG: bool = False
    HOST: str = "0.0.0.0"  # noqa: S104 - the Procfile's default: listen on every interface
    PORT: int = Field(default=3000, gt=0, lt=65536)
    WEB_CONCURRENCY: int = Field(default=2, gt=0, description="hypercorn workers")
    LOGTO_DIRECT_SIGN_IN: str = ""
    LOGTO_PAR: bool = False
    REAUTH_MAX_AGE: int = Field(default=600, gt=0, description="seconds since authentication")

    def model_post_init(self, context: object, /) -> None:
        """Outside production, an unset SECRET_KEY becomes a random key for this process."""
        if self.SECRET_KEY is None and not self.is_production:
            self.SECRET_KEY = SecretStr(secrets.token_urlsafe(32))

    @field_validator("ACCESS_LOG", "LOGTO_PAR", mode="before")
    @classmethod
    def _blank_is_off(cls, value: object) -> object:
        return value or False  # ACCESS_LOG= (empty) is off, as the Procfile always read it

    @field_validator("LOGTO_DIRECT_SIGN_IN")
    @classmethod
    def _direct_sign_in_is_usable(cls, value: str) -> str:
        try:
            parse_direct_sign_in(value)
        except ValueError as error:  # one line naming the bad entry
            reason = {"reason": str(error)}
            raise PydanticCustomError("direct_sign_in", "{reason}", reason) from None
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url_is_usable(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_redis_url(value)
            except RedisUrlError as error:  # one line that says why, without the password
                raise PydanticCustomError("redis_url", "{reason}", {"reason": str(error)}) from None
        return value

    @property
    def is_production(self) -> bool:
        """True when the app must refuse unsafe defaults."""
        return self.APP_ENV == "production"

    @property
    def log_format(self) -> Literal["text", "json"]:
        """LOG_FORMAT, else json in production and text elsewhere."""
        return self.LOG_FORMAT or ("json" if self.is_production else "text")

    @property
    def base_url(self) -> str:
        """BASE_URL without a trailing slash."""
        return (self.BASE_URL or DEV_BASE_URL).rstrip("/")

    @property
    def uses_https(self) -> bool:
        """True when the public origin is https, so cookies must be Secure."""
        return self.base_url.startswith("https://")

    @property
    def logto_endpoint(self) -> str:
        """The Logto origin, without a trailing slash or /oidc."""
        endpoint = (self.LOGTO_ENDPOINT or DEV_LOGTO_ENDPOINT).rstrip("/")
        return endpoint.removesuffix("/oidc")

    @property
    def logto_app_id(self) -> str:
        """The Logto application id."""
        return self.LOGTO_APP_ID or DEV_LOGTO_APP_ID

    @property
    def logto_app_secret(self) -> str:
        """The Logto application secret."""
        return (
            self.LOGTO_APP_SECRET.get_secret_value()
            if self.LOGTO_APP_SECRET
            else DEV_LOGTO_APP_SECRET
        )

    @property
    def scopes(self) -> list[str]:
        """Extra scopes asked for at sign-in (the SDK adds openid, offline_access and profile)."""
        defaults = {"openid", "offline_access", "profile"}
        return _unique(scope for scope in self.LOGTO_SCOPES.split() if scope not in defaults)

    @property
    def resources(self) -> list[str]:
        """API resource indicators requested at sign-in: LOGTO_RESOURCES, else API_RESOURCE.

        Organization permissions are granted only when the sign-in also asked for Logto's
        reserved organizations resource, so it is added whenever organizations are asked for.
        """
        if self.LOGTO_RESOURCES is not None:
            resources = self.LOGTO_RESOURCES.split()
        else:
            resources = [self.API_RESOURCE] if self.API_RESOURCE else []
        if ORGANIZATIONS_SCOPE in self.scopes:
            resources.append(ORGANIZATIONS_RESOURCE)
        return _unique(resources)

    @cached_property
    def direct_sign_in(self) -> tuple[DirectSignIn, ...]:
        """The LOGTO_DIRECT_SIGN_IN buttons, in their order (checked when the settings load)."""
        return parse_direct_sign_in(self.LOGTO_DIRECT_SIGN_IN)

    def direct_sign_in_entry(self, value: str) -> DirectSignIn | None:
        """The LOGTO_DIRECT_SIGN_IN entry whose `method:target` is `value`, if listed."""
        return next((entry for entry in self.direct_sign_in if entry.value == value), None)

    @property
    def api_url(self) -> str:
        """The URL that /call-api calls: API_URL, else this app's own /api/me."""
        return self.API_URL or f"{self.base_url}/api/me"

    @property
    def redis_url(self) -> str:
        """The Redis URL for sessions."""
        return self.REDIS_URL or "redis://127.0.0.1:6379/0"

    def missing_in_production(self) -> list[str]:
        """Names of required settings that are not set."""
        return [name for name in REQUIRED_IN_PRODUCTION if not getattr(self, name)]

    def production_problems(self) -> list[str]:
        """One line per setting that production cannot run with: missing or unsafe."""
        problems = [
            f"{name} is required when APP_ENV=production" for name in self.missing_in_production()
        ]
        secret = self.SECRET_KEY.get_secret_value() if self.SECRET_KEY else None
        if secret is not None and len(secret) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                f"(it has {len(secret)}); generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if self.BASE_URL and not _is_safe_public_url(self.BASE_URL):
            problems.append(
                f"BASE_URL must be an https:// origin (plain http only for localhost, "
                f"127.0.0.1 or [::1]); it is {self.BASE_URL!r}"
            )
        return problems

    def check(self) -> None:
        """Raise SettingsError naming every missing or unsafe setting, in production only."""
        if not self.is_production:
            return
        if problems := self.production_problems():
            raise SettingsError("\n".join(problems))

    @property
    def secret_key(self) -> str:
        """SECRET_KEY (outside production, generated when unset)."""
        if self.SECRET_KEY is None:
            raise SettingsError("SECRET_KEY is required when APP_ENV=production")
        return self.SECRET_KEY.get_secret_value()

    def cookie_name(self, name: str) -> str:
        """`name` with the __Host- prefix under https, which binds a cookie to this origin."""
        return f"__Host-{name}" if self.uses_https else name


def _unique(items: Iterable[str]) -> list[str]:
    """`items` without repeats, in their first order."""
    return list(dict.fromkeys(items))


def _is_safe_public_url(url: str) -> bool:
    """True for an https URL with a host, or an http URL on a loopback host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)


def load_settings() -> Settings:
    """Read and check the settings, turning every problem into one SettingsError line."""
    try:
        settings = Settings()
    except ValidationError as error:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise SettingsError("\n".join(lines)) from None
    settings.check()
    return settings


@cache
def process_settings() -> Settings:
    """The settings of this process, read from the environment once (see load_settings)."""
    return load_settings()
