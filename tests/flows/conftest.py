from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sources.fit.synthetic import interval_segments, write_run

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="session")
def fit_folder(tmp_path_factory) -> Path:
    """Six small synthetic FIT files: easy runs, intervals, a treadmill run, a run without HR."""
    root = tmp_path_factory.mktemp("fit")
    start = datetime(2025, 3, 10, 7, 0, tzinfo=AMS)
    write_run(root / "easy1.fit", start, 4000)
    write_run(root / "easy2.FIT", start + timedelta(hours=10), 3000, seed=1)
    write_run(root / "sub" / "track.fit", start + timedelta(days=1), segments=interval_segments(4, 400, 150, 60, warmup_m=800, cooldown_m=800))
    write_run(root / "sub" / "treadmill.fit", start + timedelta(days=2), 3000, gps=False)
    write_run(root / "nohr.fit", start + timedelta(days=3), 2500, heart_rate=False)
    write_run(root / "far-east.fit", datetime(2025, 3, 15, 6, 0, tzinfo=ZoneInfo("Asia/Tokyo")), 3000)
    return root


@pytest.fixture
def pools_started(monkeypatch):
    """`watch(module)`: count the process pools `module` starts (its `ProcessPoolExecutor`);
    returns the list of their `max_workers`, filled as pools start."""
    started: list[int] = []

    def watch(module) -> list[int]:
        class CountedPool(module.ProcessPoolExecutor):
            def __init__(self, *args, **kwargs):
                started.append(kwargs["max_workers"])
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(module, "ProcessPoolExecutor", CountedPool)
        return started

    return watch
