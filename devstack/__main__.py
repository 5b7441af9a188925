"""The developer run command: start Redis, the local provider and the app, stop on Ctrl+C."""

import argparse
import secrets
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import NoReturn, TypeVar

from app.config import DEV_LOGTO_APP_ID, DEV_LOGTO_APP_SECRET, DEV_LOGTO_ENDPOINT
from devstack.app_server import AppServer
from devstack.idp import (
    API_SCOPES,
    ORGANIZATION_PERMISSIONS,
    ORGANIZATION_ROLES_SCOPE,
    ORGANIZATIONS_RESOURCE,
    ORGANIZATIONS_SCOPE,
    LocalIdp,
)
from devstack.ports import LOOPBACK, port_is_free
from devstack.process import ManagedProcess, ProcessError, echo
from devstack.redis_server import RedisServer
from devstack.settings import read_settings

# The app's development defaults are the local provider's client, so both agree.
DEV_IDP_URL = DEV_LOGTO_ENDPOINT
DEV_IDP_PORT = int(DEV_LOGTO_ENDPOINT.rsplit(":", 1)[1])
DEV_CLIENT_ID = DEV_LOGTO_APP_ID
DEV_CLIENT_SECRET = DEV_LOGTO_APP_SECRET
# What the app asks the local provider for: the user's organizations (and roles), their
# organization permissions and the scopes of the app's own API.
DEV_SCOPES = " ".join(
    ["email", ORGANIZATIONS_SCOPE, ORGANIZATION_ROLES_SCOPE, *ORGANIZATION_PERMISSIONS, *API_SCOPES]
)
# Two demo connector buttons: the local provider signs in a demo user for any connector.
DEV_DIRECT_SIGN_IN = "social:azure-ad=Microsoft sso:acme=Acme SSO"
PartT = TypeVar("PartT", bound=ManagedProcess)


class SettingError(Exception):
    """A setting or a busy port that stops the run command before anything starts."""


@dataclass
class DevStack:
    """The parts the run command starts, and the settings the app is given."""

    settings: dict[str, str]
    parts: list[ManagedProcess] = field(default_factory=list)
    app_env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        """The app's port (PORT, default 3000)."""
        return _int_setting(self.settings, "PORT", 3000)

    @property
    def base_url(self) -> str:
        """The app's public origin (BASE_URL, default http://localhost:PORT)."""
        return self.settings.get("BASE_URL", f"http://localhost:{self.port}").rstrip("/")

    @property
    def local_idp(self) -> bool:
        """Tell whether the local provider stands in for Logto (LOGTO_ENDPOINT unset)."""
        return "LOGTO_ENDPOINT" not in self.settings

    def start(self) -> AppServer:
        """Start what is not configured, then the app; return the app once it is ready."""
        self._check_ports()
        self._use_redis()
        self._use_idp()
        self._use_secret_key()
        return self._start_app()

    def wait_for_exit(self) -> ManagedProcess:
        """Block until one of the parts exits, and return it."""
        while True:
            for part in self.parts:
                if part.returncode is not None:
                    return part
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop every part started, the app first."""
        for part in reversed(self.parts):
            part.stop()

    def _check_ports(self) -> None:
        if not port_is_free(self.port):
            raise SettingError(
                f"port {self.port} on {LOOPBACK} is already in use: "
                "stop what listens there or set PORT to another port"
            )
        if self.local_idp and (self.port == DEV_IDP_PORT or not port_is_free(DEV_IDP_PORT)):
            raise SettingError(
                f"port {DEV_IDP_PORT} on {LOOPBACK}, for the local identity provider, is already "
                "in use: stop what listens there or set LOGTO_ENDPOINT to a running provider"
            )

    def _use_redis(self) -> None:
        if "REDIS_URL" in self.settings:
            self.notes.append("Redis:             configured (REDIS_URL)")
            return
        redis = self._start(RedisServer())
        self.app_env["REDIS_URL"] = redis.url
        self.notes.append(f"Redis:             embedded, {redis.url} (emptied on stop)")

    def _use_idp(self) -> None:
        if not self.local_idp:
            endpoint = self.settings["LOGTO_ENDPOINT"]
            self.notes.append(f"Identity provider: configured, LOGTO_ENDPOINT={endpoint}")
            return
        # The app's API and whatever else it asks for, unless set, in the provider's demo terms.
        api_resource = self.settings.get("API_RESOURCE", f"{self.base_url}/api")
        resources = self.settings.get("LOGTO_RESOURCES", api_resource)
        indicators = dict.fromkeys([api_resource, *resources.split()])
        indicators.pop(ORGANIZATIONS_RESOURCE, None)
        idp = self._start(
            LocalIdp(
                DEV_IDP_PORT,
                client_id=DEV_CLIENT_ID,
                client_secret=DEV_CLIENT_SECRET,
                redirect_uris=[f"{self.base_url}/callback"],
                post_logout_redirect_uris=[f"{self.base_url}/"],
                public_url=DEV_IDP_URL,
                api_resources={indicator: API_SCOPES for indicator in indicators},
                backchannel_logout_uri=f"{self.base_url}/backchannel-logout",
                echo_prefix="idp | ",
            )
        )
        self.app_env.update(
            LOGTO_ENDPOINT=idp.endpoint,
            LOGTO_APP_ID=idp.client_id,
            LOGTO_APP_SECRET=idp.client_secret,
        )
        defaults = {
            "API_RESOURCE": api_resource,
            "LOGTO_RESOURCES": resources,
            "LOGTO_SCOPES": DEV_SCOPES,
            "LOGTO_DIRECT_SIGN_IN": DEV_DIRECT_SIGN_IN,
        }
        self.app_env.update({k: v for k, v in defaults.items() if k not in self.settings})
        self.notes.append(f"Identity provider: embedded local provider, {idp.issuer}")
        self.notes.append(f"  API resource:    {api_resource} ({' '.join(API_SCOPES)})")
        self.notes.append("  Organizations:   every user is admin of Acme and member of Globex")
        if "LOGTO_DIRECT_SIGN_IN" not in self.settings:
            self.notes.append("  Home buttons:    Continue with Microsoft, Acme SSO (demo users)")
        self.notes.append(f"  Sign out there:  {idp.sign_out_url} (back-channel logout)")

    def _use_secret_key(self) -> None:
        if "SECRET_KEY" in self.settings:
            self.notes.append("SECRET_KEY:        configured")
            return
        # Generated once here, so that every worker signs with the same key.
        self.app_env["SECRET_KEY"] = secrets.token_urlsafe(32)
        self.notes.append("SECRET_KEY:        generated for this run")

    def _start_app(self) -> AppServer:
        self.app_env["BASE_URL"] = self.base_url
        self.app_env["APP_ENV"] = self.settings.get("APP_ENV", "development")
        self.app_env["ACCESS_LOG"] = self.settings.get("ACCESS_LOG", "1")
        workers = _int_setting(self.settings, "WEB_CONCURRENCY", 2)
        app = AppServer(
            self.app_env, port=self.port, workers=workers, echo_prefix="app | ", timeout=60
        )
        return self._start(app)

    def _start(self, part: PartT) -> PartT:
        # Listed before it starts, so that an interrupted start is still stopped.
        self.parts.append(part)
        return part.start()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stack until Ctrl+C or SIGTERM, stop all it started; return the exit code."""
    _parse_args(argv)
    stack = DevStack(read_settings())
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        error = _run(stack)
    finally:
        # A second Ctrl+C must not cut the clean stop short; each stop is bounded anyway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    if error is None:
        return 0
    print(f"error: {error}", file=sys.stderr)
    return 1


def _run(stack: DevStack) -> str | None:
    """Start the stack and wait; return the one-line error that ended the run, if any."""
    try:
        stack.start()
        echo(banner(stack))
        exited = stack.wait_for_exit()
        raise exited.error(f"exited unexpectedly with code {exited.returncode}")
    except KeyboardInterrupt:
        echo(f"Stopping {', '.join(part.name for part in reversed(stack.parts))}...")
        return None
    except ProcessError as exc:
        return _explain(exc)
    except SettingError as exc:
        return str(exc)


def banner(stack: DevStack) -> str:
    """The short text shown once the app is ready."""
    if stack.local_idp:
        sign_in = "Sign in with any username (e.g. demo): the local provider is for development."
    else:
        sign_in = "Sign in with an account of your Logto tenant."
    lines = [f"Open {stack.base_url}", sign_in, "", *stack.notes, "", "Press Ctrl+C to stop."]
    rule = "-" * 72
    return "\n".join([rule, *(f"  {line}".rstrip() for line in lines), rule])


def _parse_args(argv: Sequence[str] | None) -> None:
    parser = argparse.ArgumentParser(
        prog="scripts/run",
        description=(
            "Run the app for development on http://localhost:3000 (PORT). Settings come from "
            "the environment and .env; Redis (REDIS_URL), the identity provider "
            "(LOGTO_ENDPOINT) and SECRET_KEY are provided locally when not set."
        ),
    )
    parser.parse_args(argv)


def _explain(exc: ProcessError) -> str:
    """Show the output of a failed part unless it was echoed; return the error line."""
    if exc.output and not exc.echoed:
        print("\n".join(f"{exc.name} | {line}" for line in exc.output), file=sys.stderr)
    if any("address already in use" in line.lower() for line in exc.output):
        return f"{exc.summary} (a port it needs is already in use)"
    return exc.summary


def _int_setting(settings: dict[str, str], name: str, default: int) -> int:
    value = settings.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {value!r}") from None


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
