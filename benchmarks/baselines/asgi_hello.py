"""The limit: a bare ASGI app that answers every request with the page's bytes."""

from __future__ import annotations

from typing import Any

from benchmarks.baselines.page import render_once

Scope = dict[str, Any]
Message = dict[str, Any]

BODY = render_once()
HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: Scope, receive: Any, send: Any) -> None:
    """Answer HTTP requests with the page; acknowledge lifespan start-up and shutdown."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message: Message = await receive()
        kind = message["type"].removeprefix("lifespan.")
        await send({"type": f"lifespan.{kind}.complete"})
        if kind == "shutdown":
            return
