"""The one provider boundary: every call to Logto (and to API_URL) goes through here.

One pooled aiohttp session per worker carries every request: the SDK's token and userinfo
requests, discovery, JWKS, revocation, pushed authorization requests, the Account API and
the API call. Each request is bounded by
PROVIDER_TIMEOUT (and PROVIDER_CONNECT_TIMEOUT) and counted in the provider metrics; an
operation of several requests is bounded as a whole by `ProviderHttp.call()`, which turns
every failure into the one error type (a 502 or 504 AppError).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pydantic
from logto import LogtoException, OidcProviderMetadata

from app.config import Settings
from app.errors import AppError
from app.observability.metrics import provider_request

logger = logging.getLogger("app.provider")
URL_FIELDS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "end_session_endpoint",
    "revocation_endpoint",
    "pushed_authorization_request_endpoint",
)


class ProviderMetadata(OidcProviderMetadata):  # type: ignore[misc]
    """The discovery document as the SDK reads it, plus the RFC 7009 revocation endpoint and
    the RFC 9126 pushed authorization request endpoint (Logto's /oidc/request)."""

    revocation_endpoint: str | None = None
    pushed_authorization_request_endpoint: str | None = None


class ProviderRefused(LogtoException):  # type: ignore[misc]
    """Logto answered a request with a 4xx: its status and (JSON) body, when it had one."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}

    @property
    def code(self) -> str:
        """Logto's error code (`code` of its API errors, `error` of OAuth's), else ""."""
        return str(self.body.get("code") or self.body.get("error") or "")


class ProviderMisconfigured(AppError):
    """The provider published something this app must not trust; shown as a 502 page."""


def misconfigured(problem: str) -> ProviderMisconfigured:
    """The 502 error that names `problem` (logged where it is caught)."""
    return ProviderMisconfigured(502, f"The sign-in service is misconfigured: {problem}.")


class ProviderHttp:
    """One worker's pooled aiohttp session to the provider; all provider requests use it."""

    def __init__(self, settings: Settings) -> None:
        self.endpoint = settings.logto_endpoint
        self.timeout = settings.PROVIDER_TIMEOUT
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=settings.PROVIDER_CONNECT_TIMEOUT, total=settings.PROVIDER_TIMEOUT
        )
        self._session: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        """Bound a provider operation by PROVIDER_TIMEOUT and turn its failures into pages."""
        try:
            async with asyncio.timeout(self.timeout):
                yield
        except TimeoutError as error:
            raise AppError(
                504,
                f"The sign-in service at {self.endpoint} did not answer in time. Please try again.",
            ) from error
        except (aiohttp.ClientError, pydantic.ValidationError) as error:
            logger.warning("Identity provider unavailable: %s", describe(error))
            raise AppError(
                502,
                f"The sign-in service at {self.endpoint} (LOGTO_ENDPOINT) could not be "
                "reached. Please try again.",
            ) from error
        except ProviderMisconfigured as error:
            logger.error("Identity provider refused: %s", error.message)
            raise

    async def start(self) -> None:
        """Open the pool, inside the worker's event loop (before serving)."""
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        """Close the pool (after serving)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open pooled session."""
        if self._session is None:
            raise RuntimeError("The provider session opens when the app starts serving.")
        return self._session

    async def document(self, url: str, endpoint: str | None = None) -> Any:
        """The JSON document at `url` (discovery, JWKS); an error status raises ClientError."""
        document, _ = await self.cacheable_document(url, endpoint)
        return document

    async def cacheable_document(
        self, url: str, endpoint: str | None = None
    ) -> tuple[Any, float | None]:
        """The JSON document at `url` and its `Cache-Control: max-age` in seconds, if any."""
        with provider_request(url, endpoint):
            async with self.session.get(url) as response:
                response.raise_for_status()
                return await response.json(), max_age(response.headers.get("Cache-Control"))

    async def sdk_request(
        self, method: str, url: str, endpoint: str | None = None, **kwargs: Any
    ) -> Any:
        """The JSON answer to a token or userinfo request.

        A refusal (4xx) raises LogtoException(body) as in the SDK; a provider failure (5xx)
        raises ClientResponseError, shown as the 502 page rather than as a failed sign-in.
        """
        with provider_request(url, endpoint):
            async with self.session.request(method, url, **kwargs) as response:
                if response.status >= 500:
                    response.raise_for_status()
                if response.status != 200:
                    raise LogtoException(await response.text())
                return await response.json()

    async def revoke(self, url: str, form: dict[str, str]) -> None:
        """Post an RFC 7009 revocation; any answer but 200 raises ClientResponseError."""
        with provider_request(url, "revocation"):
            async with self.session.post(url, data=form) as response:
                response.raise_for_status()

    async def push_authorization(self, url: str, form: list[tuple[str, str]]) -> str:
        """Post a pushed authorization request (RFC 9126); the `request_uri` Logto answers.

        A refusal (4xx) raises ProviderRefused, a failure (5xx, no request_uri) ClientError.
        """
        with provider_request(url, "par"):
            async with self.session.post(url, data=form) as response:
                if response.status >= 500:
                    response.raise_for_status()
                body = await _json_body(response)
                if response.status not in (200, 201):
                    raise ProviderRefused(response.status, body)
            request_uri = body.get("request_uri") if isinstance(body, dict) else None
            if not isinstance(request_uri, str) or not request_uri:
                raise aiohttp.ClientPayloadError("the pushed request's answer has no request_uri")
        return request_uri

    async def account_request(
        self, method: str, url: str, token: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Call Logto's Account API with the user's opaque access token; its JSON answer.

        A refusal (4xx) raises ProviderRefused, a failure (5xx) ClientResponseError.
        """
        with provider_request(url, "account"):
            headers = {"Authorization": f"Bearer {token}"}
            async with self.session.request(method, url, headers=headers, json=body) as response:
                if response.status >= 500:
                    response.raise_for_status()
                answer = await _json_body(response)
                if response.status >= 300:
                    raise ProviderRefused(response.status, answer)
        return answer if isinstance(answer, dict) else {}

    async def api_get(self, url: str, token: str, limit: int) -> tuple[int, str]:
        """GET an API with a bearer token: its status and (at most `limit` bytes of) body."""
        with provider_request(url, "api"):
            headers = {"Authorization": f"Bearer {token}"}
            async with self.session.get(url, headers=headers) as response:
                body = await response.content.read(limit)
                return response.status, body.decode(errors="replace")


def max_age(cache_control: str | None) -> float | None:
    """The max-age of a Cache-Control header (0 for no-store or no-cache), if it gives one."""
    for directive in (cache_control or "").lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in {"no-store", "no-cache"}:
            return 0.0
        if name == "max-age" and value.strip().isdigit():
            return float(value.strip())
    return None


async def _json_body(response: aiohttp.ClientResponse) -> Any:
    """The JSON body of `response`, or None when it has none (or not JSON)."""
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


def describe(error: BaseException) -> str:
    """A short description of a provider I/O failure for logs and pages."""
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


async def fetch_metadata(http: ProviderHttp, endpoint: str) -> ProviderMetadata:
    """Logto's discovery document for `endpoint`, refused unless it describes that endpoint."""
    document = await http.document(f"{endpoint}/oidc/.well-known/openid-configuration")
    metadata: ProviderMetadata = ProviderMetadata.model_validate(document)
    check_metadata(metadata, expected_issuer=f"{endpoint}/oidc")
    return metadata


def check_metadata(metadata: OidcProviderMetadata, expected_issuer: str) -> None:
    """Raise ProviderMisconfigured for a foreign issuer or an endpoint that is no web URL."""
    if metadata.issuer != expected_issuer:
        raise misconfigured(
            f"its discovery document names the issuer {metadata.issuer!r}, "
            f"not {expected_issuer!r} (LOGTO_ENDPOINT + /oidc)"
        )
    # An https provider must not send the app to plain http for keys or tokens.
    schemes = ("https",) if expected_issuer.startswith("https://") else ("http", "https")
    for field in URL_FIELDS:
        url = getattr(metadata, field)
        if url is not None and not is_web_url(url, schemes):
            raise misconfigured(f"its {field} {url!r} is not an {' or '.join(schemes)} URL")


def is_web_url(url: str, schemes: tuple[str, ...]) -> bool:
    """True for an absolute URL with one of `schemes` and a host."""
    parts = urlsplit(url)
    return parts.scheme in schemes and bool(parts.hostname)
