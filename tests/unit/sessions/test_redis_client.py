"""The Redis client REDIS_URL makes: standalone, TLS, unix socket, Sentinel or Cluster, each
failing fast (REDIS_TIMEOUT, no retries) and decoding responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection
from redis.asyncio.sentinel import SentinelConnectionPool

from app.config import Settings
from app.sessions.redis_client import (
    REDIS_PY_MAJOR,
    SentinelPrimary,
    SessionCluster,
    create_redis,
)

PASSWORD = "s3cret-pa55"


def settings_for(url: str, timeout: float = 1.5) -> Settings:
    return Settings(_env_file=None, APP_ENV="test", REDIS_URL=url, REDIS_TIMEOUT=timeout)


def retries(retry: Any) -> int:
    """How many times a redis-py Retry retries (get_retries() is redis-py 6+)."""
    return int(retry.get_retries() if hasattr(retry, "get_retries") else retry._retries)


def cluster_retries(client: SessionCluster) -> int:
    """Retries after a Cluster error: `retry` in redis-py 6+, its own count before."""
    if REDIS_PY_MAJOR < 6:
        return int(client.cluster_error_retry_attempts)  # type: ignore[attr-defined]
    return retries(client.retry)


def test_standalone_client_fails_fast_and_decodes() -> None:
    client = create_redis(settings_for("redis://127.0.0.1:6390/3"))
    assert type(client) is Redis
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 3)
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 1.5
    assert retries(kwargs["retry"]) == 0
    assert kwargs["decode_responses"]


def test_tls_and_unix_clients(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    tls = create_redis(settings_for(f"rediss://cache:6380/0?ssl_ca_certs={ca}"))
    assert isinstance(tls, Redis)
    assert tls.connection_pool.connection_class is SSLConnection
    assert tls.connection_pool.connection_kwargs["ssl_ca_certs"] == str(ca)
    unix = create_redis(settings_for("unix:///run/redis.sock?db=2"))
    assert isinstance(unix, Redis)
    assert unix.connection_pool.connection_class is UnixDomainSocketConnection
    assert unix.connection_pool.connection_kwargs["path"] == "/run/redis.sock"


def test_sentinel_client_follows_the_named_primary() -> None:
    url = f"redis+sentinel://:{PASSWORD}@127.0.0.1:26379,127.0.0.1:26380/sessions/2"
    client = create_redis(settings_for(url + "?sentinel_password=other"))
    assert isinstance(client, SentinelPrimary)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "sessions" and pool.is_master
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"], kwargs["socket_timeout"]) == (2, PASSWORD, 1.5)
    assert retries(kwargs["retry"]) == 0 and kwargs["decode_responses"]
    sentinels = pool.sentinel_manager.sentinels
    assert len(sentinels) == 2
    for sentinel in sentinels:
        options = sentinel.connection_pool.connection_kwargs
        assert options["password"] == "other"
        assert options["socket_timeout"] == options["socket_connect_timeout"] == 1.5
        assert retries(options["retry"]) == 0


def test_cluster_client_starts_from_every_listed_node(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    client = create_redis(
        settings_for(
            f"rediss+cluster://:{PASSWORD}@127.0.0.1:7000,127.0.0.1:7001?ssl_ca_certs={ca}"
        )
    )
    assert isinstance(client, SessionCluster)
    assert list(client.nodes_manager.startup_nodes) == ["127.0.0.1:7000", "127.0.0.1:7001"]
    assert cluster_retries(client) == 0
    kwargs = client.connection_kwargs
    assert kwargs["connection_class"] is SSLConnection and kwargs["ssl_ca_certs"] == str(ca)
    assert kwargs["password"] == PASSWORD and kwargs["decode_responses"]
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 1.5
