"""What REDIS_URL means: one server, TLS, a Unix socket, Sentinel or Cluster.

    redis://[user:pass@]host:port/db           one server
    rediss://[user:pass@]host:port/db?...      one server over TLS
    unix:///path/to/redis.sock?db=0            one server on a Unix socket
    redis+sentinel://[user:pass@]host:port[,host:port...]/<primary name>/<db>
    redis+cluster://[user:pass@]host:port[,host:port...]
    rediss+cluster://[user:pass@]host:port[,host:port...]?...   Cluster over TLS

A REDIS_URL that cannot work (unknown scheme, no primary name, a typo in an option, a CA
file that is not there) is refused when the settings are read, with one line that says why
and never shows the password. The client itself is made in app.sessions.redis_client.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

Topology = Literal["standalone", "sentinel", "cluster"]

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster", "rediss+cluster")
TLS_SCHEMES = frozenset({"rediss", "rediss+cluster"})
DEFAULT_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379
CERT_REQS = ("required", "optional", "none")
TIMEOUT_OPTIONS = frozenset({"socket_timeout", "socket_connect_timeout", "timeout"})


class RedisUrlError(ValueError):
    """REDIS_URL cannot be used; the message says why (never with the password)."""


@dataclass(frozen=True)
class RedisTarget:
    """What REDIS_URL points at, and the options of the connections to its data nodes."""

    topology: Topology
    url: str  # the URL itself (standalone: handed to redis-py's from_url)
    nodes: tuple[tuple[str, int], ...] = ()  # the sentinels, or the Cluster's startup nodes
    primary: str | None = None  # Sentinel: the name the sentinels monitor the primary under
    options: dict[str, Any] = field(default_factory=dict)  # data nodes: auth, db, TLS...
    sentinel_options: dict[str, Any] = field(default_factory=dict)  # auth on the sentinels


def _text(value: str) -> str:
    return value


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _cert_reqs(value: str) -> str:
    if value.lower() not in CERT_REQS:
        raise ValueError(f"expected one of {', '.join(CERT_REQS)}")
    return value.lower()


def _file(value: str) -> str:
    if not os.path.isfile(value):
        raise ValueError(f"no such file: {value}")
    return value


def _database(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("expected a database number, 0 or more")
    return number


Parser = Callable[[str], Any]
COMMON_OPTIONS: dict[str, Parser] = {"client_name": _text}
TLS_OPTIONS: dict[str, Parser] = {
    "ssl_cert_reqs": _cert_reqs,  # required (the default), optional or none
    "ssl_ca_certs": _file,  # PEM file of the CA(s) to trust (default: the system's)
    "ssl_certfile": _file,  # client certificate, for services that require one
    "ssl_keyfile": _file,
    "ssl_check_hostname": _boolean,
}
STANDALONE_OPTIONS: dict[str, Parser] = {"db": _database}
UNIX_OPTIONS: dict[str, Parser] = {"db": _database, "username": _text, "password": _text}
SENTINEL_OPTIONS: dict[str, Parser] = {"sentinel_username": _text, "sentinel_password": _text}


def parse_redis_url(url: str) -> RedisTarget:
    """Read REDIS_URL; RedisUrlError (one line, no password) when it cannot work."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        query = _query(parts.query)
    except ValueError as error:
        raise RedisUrlError(f"not a valid URL: {error}") from None
    if scheme not in SCHEMES:
        shown = f"{scheme}://" if scheme else "(none)"
        raise RedisUrlError(
            f"unknown scheme {shown}; use one of " + ", ".join(f"{s}://" for s in SCHEMES)
        )
    if scheme == "redis+sentinel":
        return _sentinel(url, parts.netloc, parts.path, query)
    if scheme in {"redis+cluster", "rediss+cluster"}:
        return _cluster(url, scheme, parts.netloc, parts.path, query)
    return _standalone(url, scheme, parts, query)


def _standalone(url: str, scheme: str, parts: Any, query: dict[str, str]) -> RedisTarget:
    allowed = {**COMMON_OPTIONS, **(UNIX_OPTIONS if scheme == "unix" else STANDALONE_OPTIONS)}
    if scheme == "rediss":
        allowed.update(TLS_OPTIONS)
    options = _options(scheme, query, allowed)
    if scheme == "unix":
        if not parts.path:
            raise RedisUrlError("unix:// needs the socket's path: unix:///path/to/redis.sock")
        return RedisTarget("standalone", url, options=options)
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise RedisUrlError(f"{scheme}:// has an invalid port") from None
    if not parts.hostname:
        raise RedisUrlError(f"{scheme}:// needs a host: {scheme}://host:6379/0")
    path = unquote(parts.path).strip("/")
    if path:
        options["db"] = _parse("database", path, _database)
    return RedisTarget("standalone", url, options=options)


def _sentinel(url: str, netloc: str, path: str, query: dict[str, str]) -> RedisTarget:
    shape = "redis+sentinel://[user:pass@]host:26379[,host:port...]/<primary name>/<db>"
    credentials, nodes = _hosts("redis+sentinel", netloc, DEFAULT_SENTINEL_PORT)
    segments = [unquote(segment) for segment in path.split("/") if segment]
    if not segments:
        raise RedisUrlError(f"no primary name (the name the sentinels monitor it under): {shape}")
    if len(segments) > 2:
        raise RedisUrlError(f"more than a primary name and a database in the path: {shape}")
    options = _options("redis+sentinel", query, {**COMMON_OPTIONS, **SENTINEL_OPTIONS})
    sentinel_options = {
        name.removeprefix("sentinel_"): options.pop(name)
        for name in list(options)
        if name.startswith("sentinel_")
    }
    options.update(credentials)
    if len(segments) == 2:
        options["db"] = _parse("database", segments[1], _database)
    return RedisTarget(
        "sentinel",
        url,
        nodes=nodes,
        primary=segments[0],
        options=options,
        sentinel_options=sentinel_options,
    )


def _cluster(url: str, scheme: str, netloc: str, path: str, query: dict[str, str]) -> RedisTarget:
    credentials, nodes = _hosts(scheme, netloc, DEFAULT_PORT)
    if unquote(path).strip("/") not in {"", "0"}:
        raise RedisUrlError("a Redis Cluster has only database 0 (leave the path out)")
    allowed = {**COMMON_OPTIONS, **(TLS_OPTIONS if scheme in TLS_SCHEMES else {})}
    options = {**_options(scheme, query, allowed), **credentials}
    if scheme in TLS_SCHEMES:
        options["ssl"] = True
    return RedisTarget("cluster", url, nodes=nodes, options=options)


def _query(query: str) -> dict[str, str]:
    values = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    repeated = sorted(name for name, given in values.items() if len(given) > 1)
    if repeated:
        raise ValueError(f"option {repeated[0]!r} is given more than once")
    return {name: given[0] for name, given in values.items()}


def _options(
    scheme: str, query: Mapping[str, str], allowed: Mapping[str, Parser]
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, value in query.items():
        if name in TIMEOUT_OPTIONS:
            raise RedisUrlError(f"set REDIS_TIMEOUT instead of the {name} option")
        if name.startswith("ssl") and name in TLS_OPTIONS and name not in allowed:
            raise RedisUrlError(
                f"{name} needs TLS (rediss:// or rediss+cluster://), not {scheme}://"
            )
        if name not in allowed:
            raise RedisUrlError(
                f"unknown option {name!r} for {scheme}://; accepted: " + ", ".join(sorted(allowed))
            )
        options[name] = _parse(name, value, allowed[name])
    return options


def _parse(name: str, value: str, parser: Parser) -> Any:
    try:
        return parser(value)
    except ValueError as error:
        detail = "" if "invalid literal" in str(error) else f" ({error})"
        shown = "" if "password" in name else f" {value!r}"
        raise RedisUrlError(f"invalid {name}{shown}{detail}") from None


def _hosts(
    scheme: str, netloc: str, default_port: int
) -> tuple[dict[str, str], tuple[tuple[str, int], ...]]:
    """The credentials and the host:port list of a multi-host netloc."""
    userinfo, at, hostlist = netloc.rpartition("@")
    credentials: dict[str, str] = {}
    if at:
        username, _, password = userinfo.partition(":")
        if username:
            credentials["username"] = unquote(username)
        if password:
            credentials["password"] = unquote(password)
    nodes = tuple(_host(scheme, item, default_port) for item in hostlist.split(","))
    return credentials, nodes


def _host(scheme: str, item: str, default_port: int) -> tuple[str, int]:
    item = item.strip()
    if item.startswith("["):  # [IPv6]:port
        host, bracket, rest = item[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise RedisUrlError(f"{scheme}:// has an invalid host {item!r}")
        port_text = rest[1:]
    else:
        host, _, port_text = item.partition(":")
    if not host:
        raise RedisUrlError(f"{scheme}:// needs host:port[,host:port...] (an empty host was given)")
    if not port_text:
        return unquote(host), default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RedisUrlError(f"{scheme}:// has an invalid port in {item!r}")
    return unquote(host), int(port_text)
