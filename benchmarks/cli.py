"""scripts/bench: measure, print the table, write the JSON; one `error:` line on failure."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from benchmarks import cluster, report, stale_window
from benchmarks.flows import FlowError
from benchmarks.options import Options, parse_options
from benchmarks.profile import profile
from benchmarks.run import progress, run
from benchmarks.targets import targets
from benchmarks.wrk import WrkError, ensure_wrk
from devstack import ProcessError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or the profile) and return the exit code."""
    options = parse_options(argv)
    started = time.monotonic()
    try:
        ensure_wrk()
        if options.profile:
            profile(options)
        elif options.cluster:
            cluster.compare(options)
        elif options.stale_window:
            stale_window.measure(options)
        else:
            _benchmark(options)
    except (ProcessError, WrkError, FlowError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; everything started was stopped", file=sys.stderr)
        return 130
    progress(f"done in {time.monotonic() - started:.0f} s")
    return 0


def _benchmark(options: Options) -> None:
    results = run(options)
    found = targets(results)
    print(report.table(options, results, found))
    report.write(options.out, report.document(options, results, found))
    print(f"\nWritten to {options.out}")
