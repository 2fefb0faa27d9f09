"""A cached synthetic history for benchmarks: generated once into `bench/.cache/history-<years>y/`
(gitignored) and reused while `GENERATOR_VERSION` is unchanged. The history ends on a fixed date
so the cache never goes stale with the calendar; `generate_history` skips existing files, so an
interrupted generation resumes.

    python -m bench.synthetic_cache 1      # generate (or complete) one year, print timing
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from sources.fit.synthetic import generate_history
from sources.fit.synthetic.history import GENERATOR_VERSION

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
END = date(2026, 10, 31)  # fixed: cached files stay valid whatever day the benchmark runs
SEED = 7


def cache_path(years: float) -> Path:
    return CACHE_DIR / f"history-{years:g}y"


def cached_history(years: float, *, progress=None) -> Path:
    """The folder holding `years` of synthetic FIT files, generating what is missing."""
    folder = cache_path(years)
    marker = folder / ".generator-version"
    if folder.exists() and (not marker.exists() or marker.read_text().strip() != GENERATOR_VERSION):
        for stale in folder.glob("*.fit"):  # made by another generator version: never mix them
            stale.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(GENERATOR_VERSION + "\n")  # before generating: an interrupted run resumes
    generate_history(folder, years=years, end=END, seed=SEED, progress=progress)
    return folder


def main(argv: list[str]) -> None:
    years = float(argv[0]) if argv else 1.0
    started = time.perf_counter()
    folder = cached_history(years)
    files = sorted(folder.glob("*.fit"))
    size = sum(p.stat().st_size for p in files)
    print(f"{len(files)} files, {size / 1e6:.1f} MB in {folder} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
