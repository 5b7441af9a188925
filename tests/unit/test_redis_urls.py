"""REDIS_URL alone picks the topology: how each form is read, and how a bad one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import SettingsError, load_settings
from app.redis_urls import RedisUrlError, parse_redis_url

PASSWORD = "s3cret-pa55"  # must never show in an error


def test_standalone_forms() -> None:
    plain = parse_redis_url(f"redis://user:{PASSWORD}@cache.internal:6380/2")
    assert (plain.topology, plain.options) == ("standalone", {"db": 2})
    tls = parse_redis_url("rediss://cache:6380/0?ssl_cert_reqs=none&ssl_check_hostname=no")
    assert tls.options == {"ssl_cert_reqs": "none", "ssl_check_hostname": False, "db": 0}
    unix = parse_redis_url("unix:///run/redis/redis.sock?db=3")
    assert (unix.topology, unix.options) == ("standalone", {"db": 3})


def test_sentinel_form() -> None:
    target = parse_redis_url(
        f"redis+sentinel://app:{PASSWORD}@10.0.0.1:26379,10.0.0.2,[::1]:26380/sessions/4"
        "?sentinel_password=sentinel-pw&client_name=web"
    )
    assert target.topology == "sentinel"
    assert target.nodes == (("10.0.0.1", 26379), ("10.0.0.2", 26379), ("::1", 26380))
    assert target.primary == "sessions"
    assert target.options == {
        "username": "app",
        "password": PASSWORD,
        "db": 4,
        "client_name": "web",
    }
    assert target.sentinel_options == {"password": "sentinel-pw"}
    assert parse_redis_url("redis+sentinel://s1:26379/mymaster").options == {}  # db 0


def test_cluster_forms(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    plain = parse_redis_url("redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3")
    assert plain.topology == "cluster"
    assert plain.nodes == (("10.0.0.1", 7000), ("10.0.0.2", 7001), ("10.0.0.3", 6379))
    tls = parse_redis_url(f"rediss+cluster://:{PASSWORD}@node:7000/?ssl_ca_certs={ca}")
    assert tls.options == {"ssl_ca_certs": str(ca), "password": PASSWORD, "ssl": True}


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://cache:6379/0", "unknown scheme http://; use one of redis://"),
        ("cache:6379", "unknown scheme cache://"),
        ("redis+sentinel://s1:26379,s2:26379", "no primary name"),
        ("redis+sentinel://s1/sessions/0/extra", "more than a primary name"),
        ("redis+sentinel://s1/sessions/one", "invalid database 'one'"),
        ("redis+cluster://node:7000/3", "only database 0"),
        ("redis+cluster://node:70000", "invalid port in 'node:70000'"),
        ("redis+cluster://a:7000,,b:7001", "an empty host"),
        ("redis+cluster://", "an empty host"),
        ("redis://cache/zero", "invalid database 'zero'"),
        ("redis://:6379/0", "needs a host"),
        ("redis://cache:port/0", "invalid port"),
        ("unix://", "needs the socket's path"),
        ("redis://cache/0?socket_timeout=5", "set REDIS_TIMEOUT instead"),
        ("redis://cache/0?ssl_cert_reqs=none", "ssl_cert_reqs needs TLS"),
        ("rediss://cache/0?ssl_cert_reqs=sometimes", "expected one of required, optional, none"),
        ("rediss://cache/0?ssl_ca_certs=/nowhere/ca.pem", "no such file"),
        ("rediss://cache/0?ssl_check_hostname=maybe", "expected true or false"),
        ("redis://cache/0?retry=3", "unknown option 'retry' for redis://; accepted: "),
        ("redis+cluster://n:7000?db=1", "unknown option 'db'"),
        ("redis://cache/0?db=1&db=2", "given more than once"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(RedisUrlError) as raised:
        parse_redis_url(url)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        f"redis+sentinel://:{PASSWORD}@s1:26379",
        f"redis+cluster://user:{PASSWORD}@node:99999",
        f"rediss://:{PASSWORD}@cache/0?ssl_ca_certs=/missing",
        f"redis+sentinel://s1/sessions?sentinel_password={PASSWORD}&sentinel_password=again",
        f"redis://:{PASSWORD}@cache:6379/0?password_x=1",
        f"redis+sentinel://s1/sessions/0?sentinel_password={PASSWORD}&db=x",
    ],
)
def test_an_error_never_shows_the_password(url: str) -> None:
    with pytest.raises(RedisUrlError) as raised:
        parse_redis_url(url)
    assert PASSWORD not in str(raised.value)


def test_settings_refuse_a_bad_url_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis+sentinel://:{PASSWORD}@s1:26379")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("REDIS_URL: no primary name"), message
    assert "\n" not in message and PASSWORD not in message
