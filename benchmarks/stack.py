"""Start Redis, the local provider, then per worker count the app and the baselines."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from benchmarks.servers import ASGI_HELLO, QUART_HELLO, PeerServer, ProcfileServer
from devstack import AppServer, LocalIdp, RedisServer, free_port
from devstack.process import ManagedProcess

CLIENT_ID = "bench-app"
PartT = TypeVar("PartT", bound=ManagedProcess)


@dataclass
class Shared:
    """What every worker count uses: Redis, the provider, and the settings for the app."""

    redis: RedisServer
    idp: LocalIdp
    app_ports: dict[int, int]
    provider_redirect_uri: str
    client_secret: str
    secret_key: str

    def settings(self, port: int) -> dict[str, str]:
        """Production settings for a server on `port` (the app and every baseline)."""
        return {
            "APP_ENV": "production",
            "LOGTO_ENDPOINT": self.idp.endpoint,
            "LOGTO_APP_ID": CLIENT_ID,
            "LOGTO_APP_SECRET": self.client_secret,
            "BASE_URL": f"http://127.0.0.1:{port}",
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": self.secret_key,
        }


@dataclass
class Servers:
    """The app and the baselines, all with the same number of workers."""

    workers: int
    by_name: dict[str, AppServer] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """The origin of server `name` (app, asgi, quart, peer)."""
        return self.by_name[name].url


@contextmanager
def shared_parts(workers: tuple[int, ...]) -> Iterator[Shared]:
    """Redis and the provider, with a callback registered for the app at each worker count."""
    app_ports = {count: free_port() for count in workers}
    # The provider-alone client's redirect URI: registered, never requested.
    provider_redirect = f"http://127.0.0.1:{free_port()}/callback"
    callbacks = [f"http://127.0.0.1:{port}/callback" for port in app_ports.values()]
    client_secret = secrets.token_urlsafe(24)
    with ExitStack() as stack:
        redis = _enter(stack, RedisServer())
        idp = LocalIdp(
            client_id=CLIENT_ID,
            client_secret=client_secret,
            redirect_uris=[*callbacks, provider_redirect],
            post_logout_redirect_uris=[url.removesuffix("callback") for url in callbacks],
        )
        yield Shared(
            redis=redis,
            idp=_enter(stack, idp),
            app_ports=app_ports,
            provider_redirect_uri=provider_redirect,
            client_secret=client_secret,
            secret_key=secrets.token_urlsafe(32),
        )


@contextmanager
def servers(shared: Shared, workers: int) -> Iterator[Servers]:
    """The app (its Procfile command) and the three baselines, each with `workers` workers."""
    port = shared.app_ports[workers]
    running = Servers(workers)
    with ExitStack() as stack:
        app = AppServer(shared.settings(port), port=port, workers=workers, timeout=60)
        running.by_name["app"] = _enter(stack, app)
        baselines: dict[str, AppServer] = {
            "asgi": ProcfileServer("bare ASGI", ASGI_HELLO, shared.settings(0), workers=workers),
            "quart": ProcfileServer("bare Quart", QUART_HELLO, shared.settings(0), workers=workers),
            "peer": PeerServer(shared.settings(0), workers=workers),
        }
        for name, server in baselines.items():
            running.by_name[name] = _enter(stack, server)
        yield running


def _enter(stack: ExitStack, part: PartT) -> PartT:
    """Start `part` and have `stack` stop it, even if a later part fails to start."""
    stack.callback(part.stop)
    return part.start()
