"""`make bench` / `python -m bench`: every benchmark, in one run, each printing its ratios.

BENCH_YEARS (default 1) sets the synthetic history's length; generated files are cached under
bench/.cache. Figures are recorded by hand in bench/RESULTS.md with the date and the machine.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback

#: In order: decoding, ingest (+ rebuild), an ingest where nothing changed, the whole history from raw
#: (rebuild + full marts) and one new day into it, marts, many athletes, the daily fan-out, Strava backfill,
#: a 10-year web upload, dashboard, data API.
BENCHMARKS = ("bench.fit_decode", "bench.ingest", "bench.ingest_nochange", "bench.history", "bench.marts", "bench.athletes", "bench.fanout", "bench.strava",
              "bench.upload", "bench.dashboard", "bench.api")


def main(names: list[str]) -> int:
    failed = []
    print(f"runlake benchmarks, BENCH_YEARS={os.environ.get('BENCH_YEARS', '1')}, {os.cpu_count()} cores")
    for name in names or BENCHMARKS:
        started = time.perf_counter()
        print(f"\n=== {name}", flush=True)
        try:
            module = importlib.import_module(name)
            module.main()
        except Exception:  # report and go on with the other benchmarks; exit non-zero at the end
            traceback.print_exc()
            failed.append(name)
        print(f"=== {name}: {time.perf_counter() - started:.1f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
