"""Run the local development identity provider (local-idp/server.js) under node."""

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from devstack.ports import LOOPBACK, free_port
from devstack.process import ManagedProcess, ProcessError

REPO_ROOT = Path(__file__).resolve().parent.parent
IDP_DIR = REPO_ROOT / "local-idp"
READY_LINE = "Local identity provider (development only) listening on {issuer}"
# scripts/setup.sh writes the same stamp, so either side sees the other's install.
LOCK_STAMP = ".devstack-lock.sha256"

# What the provider knows of Logto's organizations (local-idp/organizations.js).
ORGANIZATIONS_SCOPE = "urn:logto:scope:organizations"
ORGANIZATION_ROLES_SCOPE = "urn:logto:scope:organization_roles"
ORGANIZATIONS_RESOURCE = "urn:logto:resource:organizations"
ORGANIZATION_PERMISSIONS = ("read:billing", "manage:billing", "invite:member")
# The scopes of the provider's default API resource, which the dev command uses too.
API_SCOPES = ("read:profile", "write:profile")
# Logto's Account Center field controls (AccountCenterControlValue) and the fields it knows.
FIELD_CONTROLS = ("Off", "ReadOnly", "Edit")
ACCOUNT_CENTER_FIELDS = (
    "name",
    "avatar",
    "profile",
    "email",
    "phone",
    "password",
    "username",
    "social",
    "customData",
    "mfa",
    "passkey",
    "session",
    "trustedDevice",
)


class LocalIdp(ManagedProcess):
    """The local OpenID provider, Logto's paths under /oidc, ready once it says so."""

    def __init__(
        self,
        port: int | None = None,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: Sequence[str],
        post_logout_redirect_uris: Sequence[str],
        public_url: str | None = None,
        access_token_ttl: int | None = None,
        api_resources: Mapping[str, Sequence[str]] | None = None,
        backchannel_logout_uri: str | None = None,
        organizations: bool = True,
        par: bool = True,
        account_center: bool = True,
        account_center_fields: Mapping[str, str] | None = None,
        auth_time_offset: int = 0,
        idp_dir: Path = IDP_DIR,
        echo_prefix: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Configure (not start) the provider; see local-idp/README.md for every setting.

        `par`: announce and serve pushed authorization requests at /oidc/request.
        `account_center`: Logto's Account Center on (the Account API answers) or off (every
        call is a 400 `account_center.not_enabled`). `account_center_fields`: field controls
        ("Off", "ReadOnly", "Edit") over the defaults (name and avatar Edit; username, email
        and phone ReadOnly). `auth_time_offset`: seconds taken off every sign-in's auth_time
        unless the sign-in sets its own `auth_age`. All but `par` can change at run time
        through `account_center_url` and `auth_time_url`.
        """
        self.port = free_port() if port is None else port
        self.endpoint = (public_url or f"http://{LOOPBACK}:{self.port}").rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.api_resources = dict(api_resources) if api_resources is not None else None
        self.backchannel_logout_uri = backchannel_logout_uri
        self.par = par
        self.idp_dir = idp_dir
        env = {
            **os.environ,
            "IDP_HOST": LOOPBACK,
            "IDP_PORT": str(self.port),
            "IDP_PUBLIC_URL": self.endpoint,
            "IDP_CLIENT_ID": client_id,
            "IDP_CLIENT_SECRET": client_secret,
            "IDP_REDIRECT_URIS": ",".join(redirect_uris),
            "IDP_POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_redirect_uris),
            "IDP_ORGANIZATIONS": "on" if organizations else "off",
            "IDP_PAR": "on" if par else "off",
            "IDP_ACCOUNT_CENTER": "on" if account_center else "off",
            "IDP_ACCOUNT_CENTER_FIELDS": account_center_fields_setting(account_center_fields or {}),
            "IDP_AUTH_TIME_OFFSET": str(_seconds(auth_time_offset, "auth_time_offset")),
        }
        if access_token_ttl is not None:
            env["IDP_ACCESS_TOKEN_TTL"] = str(access_token_ttl)
        if api_resources is not None:
            env["IDP_API_RESOURCES"] = api_resources_setting(api_resources)
        if backchannel_logout_uri is not None:
            env["IDP_BACKCHANNEL_LOGOUT_URI"] = backchannel_logout_uri
        super().__init__(
            "local identity provider",
            ["node", "server.js"],
            env=env,
            cwd=idp_dir,
            ready_line=READY_LINE.format(issuer=self.issuer),
            timeout=timeout,
            echo_prefix=echo_prefix,
        )

    @property
    def issuer(self) -> str:
        """The OpenID issuer: the endpoint plus /oidc, as in Logto."""
        return f"{self.endpoint}/oidc"

    @property
    def sign_out_url(self) -> str:
        """The provider's own sign-out page (ends the browser's session at the provider)."""
        return f"{self.endpoint}/sign-out"

    @property
    def stats_url(self) -> str:
        """GET: JSON counters (refresh grants, back-channel logouts sent...) for tests."""
        return f"{self.endpoint}/dev/stats"

    @property
    def account_api_url(self) -> str:
        """Logto's Account API for the signed-in user: GET/PATCH with the opaque access token."""
        return f"{self.endpoint}/api/my-account"

    @property
    def account_center_url(self) -> str:
        """GET the Account Center switches; POST JSON `{"enabled": ..., "fields": {...}}`."""
        return f"{self.endpoint}/dev/account-center"

    @property
    def auth_time_url(self) -> str:
        """GET the auth_time offset; POST JSON `{"offset": <seconds>}` for following sign-ins."""
        return f"{self.endpoint}/dev/auth-time"

    @property
    def par_endpoint(self) -> str:
        """The pushed authorization request endpoint (RFC 9126), when `par` is on."""
        return f"{self.issuer}/request"

    def start(self) -> Self:
        """Install the node modules if needed, then start the provider."""
        if not (self.idp_dir / "server.js").is_file():
            raise ProcessError(self.name, f"is missing: no server.js in {self.idp_dir}")
        ensure_node_modules(self.idp_dir)
        return super().start()


def api_resources_setting(api_resources: Mapping[str, Sequence[str]]) -> str:
    """IDP_API_RESOURCES: `indicator=scope scope;indicator=scope` (empty: no API resource)."""
    for indicator, scopes in api_resources.items():
        if not all(_plain_word(word) for word in [indicator, *scopes]):
            raise ValueError(f"API resource {indicator!r} {list(scopes)!r} cannot be passed on")
    return ";".join(
        f"{indicator}={' '.join(scopes)}" for indicator, scopes in api_resources.items()
    )


def account_center_fields_setting(fields: Mapping[str, str]) -> str:
    """IDP_ACCOUNT_CENTER_FIELDS: `field=Control ...` over the provider's defaults."""
    for field_name, control in fields.items():
        if field_name not in ACCOUNT_CENTER_FIELDS:
            raise ValueError(f"unknown Account Center field {field_name!r}")
        if control not in FIELD_CONTROLS:
            raise ValueError(
                f"Account Center field {field_name!r}: {control!r} is not one of {FIELD_CONTROLS}"
            )
    return " ".join(f"{field_name}={control}" for field_name, control in fields.items())


def _seconds(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of seconds, 0 or more, not {value!r}")
    return value


def _plain_word(word: str) -> bool:
    return bool(word) and not any(char in word for char in "=;") and word == "".join(word.split())


def ensure_node_modules(idp_dir: Path = IDP_DIR) -> None:
    """Run `npm ci` when node_modules is missing or was installed from another lock file."""
    lock = idp_dir / "package-lock.json"
    if not lock.is_file():
        return
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = idp_dir / "node_modules" / LOCK_STAMP
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    print(f"Installing {idp_dir.name} dependencies (npm ci)...", file=sys.stderr, flush=True)
    _npm_ci(idp_dir)
    stamp.write_text(digest + "\n")


def _npm_ci(idp_dir: Path) -> None:
    name = f"npm ci in {idp_dir.name}"
    try:
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=idp_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise ProcessError(name, f"could not run: {exc} (is Node.js 20 installed?)") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).splitlines()[-40:]
        raise ProcessError(name, f"failed with code {done.returncode}", output)
