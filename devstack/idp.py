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
        idp_dir: Path = IDP_DIR,
        echo_prefix: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.port = free_port() if port is None else port
        self.endpoint = (public_url or f"http://{LOOPBACK}:{self.port}").rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.api_resources = dict(api_resources) if api_resources is not None else None
        self.backchannel_logout_uri = backchannel_logout_uri
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
