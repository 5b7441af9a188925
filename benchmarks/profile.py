"""scripts/bench --profile: signed-in GET / on one worker under pyinstrument."""

from __future__ import annotations

import asyncio

import aiohttp

from benchmarks.flows import FlowError, new_client
from benchmarks.options import Options
from benchmarks.profiled import flat_path_of
from benchmarks.servers import ProcfileServer
from benchmarks.signed_in import COOKIE, USERNAME
from benchmarks.stack import shared_parts
from benchmarks.wrk import Load, run_wrk
from tests.auth_actions import AuthActions

PROFILED_APP = "benchmarks.profiled:app"
TOP = 25  # functions printed per list
HEADER = 7  # pyinstrument's banner lines above each list


def profile(options: Options) -> None:
    """Serve the app under the profiler, load signed-in GET /, print the top functions."""
    options.out.parent.mkdir(parents=True, exist_ok=True)
    with shared_parts((1,)) as shared:
        port = shared.app_ports[1]
        settings = {**shared.settings(port), "BENCH_PROFILE_OUT": str(options.out.resolve())}
        server = ProcfileServer("profiled app", PROFILED_APP, settings, workers=1, port=port)
        with server:
            cookie = asyncio.run(_sign_in(server.url))
            load = Load(options.connections, options.threads, options.duration)
            asyncio.run(_post(server.url, "/__profile/start"))
            result = run_wrk(server, "/", load, cookie)
            asyncio.run(_post(server.url, "/__profile/stop"))
    print(f"signed-in GET / under the profiler: {result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms")
    for kind in ("self", "total"):
        path = flat_path_of(options.out, kind)
        print(f"\nFunctions by {kind} time ({path}):")
        print("\n".join(path.read_text().splitlines()[HEADER : HEADER + TOP]))
    print(f"\nCall tree: {options.out}")


async def _sign_in(url: str) -> str:
    async with new_client() as http:
        auth = AuthActions(url, http)
        await auth.sign_in(USERNAME)
        if (sid := auth.session_id()) is None:
            raise FlowError(f"could not sign in to the profiled app at {url}")
    return f"{COOKIE}={sid}"


async def _post(url: str, path: str) -> None:
    async with aiohttp.ClientSession() as http, http.post(url + path) as response:
        response.raise_for_status()
