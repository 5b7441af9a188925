"""The Logto SDK's client and OIDC core, subclassed for pooled, non-blocking provider I/O."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pydantic
from logto import (
    AccessToken,
    IdTokenClaims,
    LogtoClient,
    LogtoConfig,
    OidcProviderMetadata,
    Storage,
    TokenResponse,
    UserInfoResponse,
)
from logto.OidcCore import OidcCore
from logto.utilities import OrganizationUrnPrefix, removeFalsyKeys

from app.oidc.jwt_verifier import (
    ACCESS_TOKEN_CLAIMS,
    ACCESS_TOKEN_TYPE,
    ASYMMETRIC_ALGORITHMS,
    Expected,
    TokenRejected,
    checked_header,
    verify_jwt,
)
from app.oidc.keys import JwksCache
from app.oidc.provider import ProviderHttp, fetch_metadata

EXPIRY_MARGIN = 60  # seconds: the SDK's own margin for clock skew, for long-lived tokens


class UserInfo(UserInfoResponse):  # type: ignore[misc]
    """The userinfo answer with every claim Logto sends, not only the SDK's fields."""

    model_config = pydantic.ConfigDict(extra="allow")


class PooledOidcCore(OidcCore):  # type: ignore[misc]
    """OidcCore whose requests use the worker's pool and whose token check uses cached keys."""

    def __init__(self, metadata: OidcProviderMetadata, http: ProviderHttp) -> None:
        # No super().__init__(): it builds a PyJWKClient, whose key fetch blocks the event loop.
        self.metadata = metadata
        self.http = http
        self.jwks = JwksCache(lambda: http.cacheable_document(metadata.jwks_uri))
        self.algorithms = (
            frozenset(metadata.id_token_signing_alg_values_supported) & ASYMMETRIC_ALGORITHMS
        )

    async def fetchTokenByCode(
        self,
        clientId: str,
        clientSecret: str | None,
        redirectUri: str,
        code: str,
        codeVerifier: str,
    ) -> TokenResponse:
        """Exchange the authorization code (with its PKCE verifier) for tokens."""
        return await self._token_request(
            {
                "grant_type": "authorization_code",
                "client_id": clientId,
                "client_secret": clientSecret,
                "redirect_uri": redirectUri,
                "code": code,
                "code_verifier": codeVerifier,
            }
        )

    async def fetchTokenByRefreshToken(
        self, clientId: str, clientSecret: str | None, refreshToken: str, resource: str = ""
    ) -> TokenResponse:
        """Trade the refresh token for new tokens for `resource` (an API or organization URN)."""
        organization = resource.startswith(OrganizationUrnPrefix)
        return await self._token_request(
            {
                "grant_type": "refresh_token",
                "client_id": clientId,
                "client_secret": clientSecret,
                "refresh_token": refreshToken,
                "resource": None if organization else resource,
                "organization_id": resource.removeprefix(OrganizationUrnPrefix)
                if organization
                else None,
            }
        )

    async def fetchUserInfo(self, accessToken: str) -> UserInfoResponse:
        """The user's claims from the userinfo endpoint."""
        answer = await self.http.sdk_request(
            "GET",
            self.metadata.userinfo_endpoint,
            headers={"Authorization": f"Bearer {accessToken}"},
        )
        return UserInfo.model_validate(answer)

    async def verify(self, token: str, expected: Expected) -> dict[str, Any]:
        """Verify any JWT of this provider, fetching an unknown kid's key first (rate limited)."""
        header = checked_header(token, expected.algorithms)
        await self.jwks.ensure(header["kid"])
        return verify_jwt(token, self.jwks.keys, expected)

    def expect_access_token(self, audience: str) -> Expected:
        """What a Logto access token for the API `audience` must look like (RFC 9068)."""
        return Expected(
            self.metadata.issuer,
            audience,
            self.algorithms,
            claims=ACCESS_TOKEN_CLAIMS,
            typ=ACCESS_TOKEN_TYPE,
            typ_required=True,
            azp=False,
        )

    def verifyIdToken(self, idToken: str, clientId: str) -> None:
        """Verify the ID token with cached keys only; its key was fetched beforehand."""
        expected = Expected(self.metadata.issuer, clientId, self.algorithms)
        claims = verify_jwt(idToken, self.jwks.keys, expected)
        try:
            IdTokenClaims.model_validate(claims)
        except pydantic.ValidationError as error:
            # The SDK reads these claims on every page; refuse what it could not read.
            fields = ", ".join(sorted({str(problem["loc"][0]) for problem in error.errors()}))
            raise TokenRejected(f"malformed claims: {fields}") from error

    async def _token_request(self, form: dict[str, Any]) -> TokenResponse:
        answer = await self.http.sdk_request(
            "POST", self.metadata.token_endpoint, data=removeFalsyKeys(form)
        )
        return TokenResponse.model_validate(answer)


class PooledLogtoClient(LogtoClient):  # type: ignore[misc]
    """LogtoClient with checked discovery, pooled requests and asynchronous key lookup."""

    _oidcCore: PooledOidcCore | None

    def __init__(self, config: LogtoConfig, http: ProviderHttp, storage: Storage) -> None:
        super().__init__(config, storage=storage)
        self.http = http

    async def getOidcCore(self) -> PooledOidcCore:
        """The OIDC core for the checked discovery document; a failed fetch is retried next call."""
        if self._oidcCore is None:
            metadata = await fetch_metadata(self.http, self.config.endpoint)
            self._oidcCore = PooledOidcCore(metadata, self.http)
        return self._oidcCore

    async def _handleTokenResponse(self, resource: str, tokenResponse: TokenResponse) -> None:
        """Get the ID token's key into the cache, refuse an ID token about someone else, then
        let the SDK verify and store the tokens."""
        if tokenResponse.id_token is not None:
            core = await self.getOidcCore()
            header = checked_header(tokenResponse.id_token, core.algorithms)
            await core.jwks.ensure(header["kid"])
            self._check_same_user(core, tokenResponse.id_token)
        await super()._handleTokenResponse(resource, tokenResponse)

    def _check_same_user(self, core: PooledOidcCore, id_token: str) -> None:
        """OpenID Connect Core 12.2: an ID token that replaces the stored one must have the same
        iss, sub and aud (a refresh, or a re-authentication of the signed-in user)."""
        stored = self._storage.get("idToken")
        if stored is None:
            return  # a first sign-in: nothing to compare with
        expected = Expected(core.metadata.issuer, self.config.appId, core.algorithms)
        new = verify_jwt(id_token, core.jwks.keys, expected)
        old = jwt.decode(stored, options={"verify_signature": False})
        for claim in ("iss", "sub", "aud"):
            if _as_set(new.get(claim)) != _as_set(old.get(claim)):
                what = "is about another user" if claim == "sub" else f"has another {claim}"
                raise TokenRejected(f"the new ID token {what} than the stored one")

    def _setAccessToken(self, resource: str, accessToken: str, expiresIn: int) -> None:
        """Keep the token until shortly before it expires: a tenth of its life early, at least
        1 s and at most the SDK's 60 s (the SDK always takes 60 s off, so it never reused a
        token issued for 60 s or less)."""
        tokens = self._getAccessTokenMap()
        margin = max(1, min(EXPIRY_MARGIN, expiresIn // 10))
        tokens.x[resource] = AccessToken(
            token=accessToken, expiresAt=int(time.time()) + expiresIn - margin
        )
        self._storage.set("accessTokenMap", tokens.model_dump_json())


def _as_set(value: Any) -> frozenset[str]:
    """A claim that may be a string or a list of strings, compared as a set."""
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(str(item) for item in value)
    return frozenset()
