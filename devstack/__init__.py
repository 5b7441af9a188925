"""Start the real parts (Redis, local identity provider, the app) as child processes."""

from devstack.app_server import AppServer
from devstack.idp import LocalIdp
from devstack.ports import free_port
from devstack.process import ManagedProcess, ProcessError
from devstack.redis_cluster import RedisClusterSet
from devstack.redis_sentinel import RedisSentinelSet
from devstack.redis_server import RedisServer

__all__ = [
    "AppServer",
    "LocalIdp",
    "ManagedProcess",
    "ProcessError",
    "RedisClusterSet",
    "RedisSentinelSet",
    "RedisServer",
    "free_port",
]
