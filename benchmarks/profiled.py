"""The app, unchanged, under pyinstrument: what `scripts/bench --profile` serves.

POST /__profile/start and /__profile/stop bracket the load; stop writes the profile of
the worker's whole thread (event loop, hypercorn, Quart, the app) to BENCH_PROFILE_OUT:
the call tree there, and beside it the functions by own time (`-self.txt`) and by time
including their callees (`-total.txt`).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer
from quart.typing import ResponseReturnValue

from app import create_app

OUT = Path(os.environ.get("BENCH_PROFILE_OUT", "profile.txt"))
INTERVAL = 0.0005  # seconds between samples

app = create_app()
profiler = Profiler(interval=INTERVAL, async_mode="disabled")


@app.post("/__profile/start")
async def start_profile() -> ResponseReturnValue:
    """Start sampling this worker."""
    profiler.start()
    return {"profiling": True}


@app.post("/__profile/stop")
async def stop_profile() -> ResponseReturnValue:
    """Stop sampling and write the call tree and the flat list."""
    profiler.stop()
    await asyncio.to_thread(write_profile, OUT)
    return {"profiling": False, "tree": str(OUT)}


def write_profile(out: Path) -> None:
    """Write the call tree to `out`, and beside it the functions by own and by total time."""
    out.write_text(profiler.output(ConsoleRenderer(unicode=False, color=False)))
    for kind in ("self", "total"):
        flat = ConsoleRenderer(
            unicode=False, color=False, flat=True, flat_time=kind, time="percent_of_total"
        )
        flat_path_of(out, kind).write_text(profiler.output(flat))


def flat_path_of(out: Path, kind: str = "self") -> Path:
    """Where the flat list by `kind` (self or total) time goes, beside the call tree."""
    return out.with_name(f"{out.stem}-{kind}{out.suffix}")
