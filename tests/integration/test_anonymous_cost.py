"""Anonymous traffic costs no lasting server memory: sign-in starts leave Redis as it was."""

from __future__ import annotations

from redis.asyncio import Redis

from devstack import LocalIdp, RedisServer
from tests.in_process_sign_in import in_process_settings, serving_in_process

STARTS = 1_000
MAX_GROWTH = 300 * 1024  # bytes: "a few hundred KiB" at the very most


async def test_a_thousand_cookieless_sign_in_starts_leave_almost_nothing(
    own_redis: RedisServer, idp: LocalIdp, app_ports: list[int]
) -> None:
    redis = Redis.from_url(own_redis.url, decode_responses=True)
    try:
        async with serving_in_process(in_process_settings(idp, own_redis.url, app_ports)) as app:
            before = (await redis.info("memory"))["used_memory"]
            for _ in range(STARTS):
                client = app.test_client()  # a fresh browser: no cookie
                response = await client.get("/sign-in")
                assert response.status_code == 302
            growth = (await redis.info("memory"))["used_memory"] - before
            left = {key: await redis.ttl(key) async for key in redis.scan_iter(count=1000)}
        print(f"\n{STARTS} sign-in starts: Redis grew {growth} B, {len(left)} keys")
        assert growth <= MAX_GROWTH
        # Pending sign-ins ride in the browser's encrypted cookie: none of them is a key, so
        # none can outlive 15 minutes (or the few hundred KiB) however many are started.
        some = dict(list(left.items())[:3])
        assert not left, f"{len(left)} keys left by cookieless sign-in starts, e.g. {some}"
    finally:
        await redis.aclose()
