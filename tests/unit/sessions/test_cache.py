"""The session cache's own rules: bounded LRU, races with invalidations, liveness."""

from __future__ import annotations

import pytest

from app.sessions import cache as cache_module
from app.sessions.cache import SessionCache
from app.sessions.store import session_id_of_key, session_keys


def live_cache(size: int = 3) -> SessionCache:
    cache = SessionCache(size)
    cache.alive_for(60)
    return cache


def test_it_keeps_the_most_recently_used_entries_within_its_size() -> None:
    cache = live_cache(size=2)
    for sid in ("a", "b"):
        cache.put(sid, (sid, None), cache.epoch)
    assert cache.get("a") == ("a", None)  # a is now the most recent
    cache.put("c", ("c", None), cache.epoch)
    assert len(cache) == 2
    assert cache.get("b") is None, "the least recently used went"
    assert cache.get("a") == ("a", None) and cache.get("c") == ("c", None)


def test_a_read_that_raced_with_an_invalidation_is_not_kept() -> None:
    cache = live_cache()
    epoch = cache.epoch  # the read starts
    cache.forget(["a"])  # Redis says a changed while the read was under way
    cache.put("a", ("old", None), epoch)
    assert cache.get("a") is None


def test_a_flush_drops_everything_and_moves_the_epoch() -> None:
    cache = live_cache()
    cache.put("a", ("a", None), cache.epoch)
    epoch = cache.epoch
    cache.flush()
    assert cache.get("a") is None and cache.epoch != epoch


def test_nothing_is_used_or_kept_while_the_channel_is_not_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache_module, "monotonic", lambda: now[0])
    cache = SessionCache(3)
    cache.put("a", ("a", None), cache.epoch)
    assert cache.get("a") is None, "never live: nothing kept"
    cache.alive_for(2)
    cache.put("a", ("a", None), cache.epoch)
    assert cache.get("a") == ("a", None)
    now[0] += 2.5  # no word from Redis for longer than the timeout
    assert cache.get("a") is None
    cache.alive_for(2)
    assert cache.get("a") is None, "flushed when it was found stale"


def test_dead_flushes_at_once() -> None:
    cache = live_cache()
    cache.put("a", ("a", None), cache.epoch)
    cache.dead()
    cache.alive_for(60)
    assert cache.get("a") is None


@pytest.mark.parametrize("key", session_keys("abc"))
def test_both_keys_of_a_session_name_its_id(key: str) -> None:
    assert session_id_of_key(key) == "abc"


@pytest.mark.parametrize("key", ["sessions:user:{abc}", "session:abc", "session:{abc"])
def test_other_keys_name_no_session(key: str) -> None:
    assert session_id_of_key(key) is None
