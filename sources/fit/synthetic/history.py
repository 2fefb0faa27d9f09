"""Writing a whole training history as FIT files into a folder (the demo inbox, test and
benchmark data). Files that already exist are kept, so calling it again is cheap."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sources.fit.synthetic.build import build_activity
from sources.fit.synthetic.fitfile import encode_activity
from sources.fit.synthetic.schedule import plan_history
from sources.fit.synthetic.spec import SessionSpec


def file_name(spec: SessionSpec) -> str:
    """`<local date>_<local HHMM>_<kind>.fit`, e.g. `2025-03-14_0630_easy.fit`."""
    return f"{spec.start:%Y-%m-%d_%H%M}_{spec.kind}.fit"


def history_specs(*, years: float = 2.0, end: date | None = None, seed: int = 7) -> list[SessionSpec]:
    """The sessions `generate_history` writes: `years` of plan ending on `end` (default today,
    then without sessions that start after now)."""
    if years <= 0:
        raise ValueError("years must be positive")
    today = end is None
    end = end or date.today()
    start = end - timedelta(days=round(years * 365.25) - 1)
    specs = plan_history(start, end, seed)
    if today:
        now = datetime.now(timezone.utc)
        specs = [s for s in specs if s.start <= now]
    return specs


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file so an interrupted run never leaves a truncated FIT file that a
    later run would skip as already generated."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def generate_history(out_dir: Path, *, years: float = 2.0, end: date | None = None, seed: int = 7,
                     progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write `years` of an elite runner's training (~560 FIT files a year) into `out_dir`.

    Returns every file of the history in time order, generated now or already present.
    Deterministic in (`end`, `seed`): a day's sessions do not depend on `years`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = history_specs(years=years, end=end, seed=seed)
    paths: list[Path] = []
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        name = file_name(spec)
        if name in seen:  # two sessions in the same local minute: never planned, but never overwrite
            raise RuntimeError(f"two planned sessions map to {name}")
        seen.add(name)
        path = out_dir / name
        if not path.exists():
            write_atomic(path, encode_activity(build_activity(spec)))
        paths.append(path)
        if progress is not None:
            progress(i + 1, len(specs))
    return paths
