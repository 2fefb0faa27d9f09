"""bench/history.py's choice of files: the held-back last day and the fitparse sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.history import split_last_day, spread_sample


def test_the_last_day_is_held_back_whole():
    files = [Path(n) for n in ("2016-01-01_0700_easy.fit", "2016-01-02_0700_easy.fit", "2016-01-03_0700_easy.fit",
                               "2016-01-03_1800_treadmill.fit")]
    history, day = split_last_day(files)
    assert [p.name for p in day] == ["2016-01-03_0700_easy.fit", "2016-01-03_1800_treadmill.fit"]
    assert [p.name for p in history] == ["2016-01-01_0700_easy.fit", "2016-01-02_0700_easy.fit"]


def test_files_not_named_by_day_are_refused():
    with pytest.raises(RuntimeError, match="YYYY-MM-DD"):
        split_last_day([Path("2016-01-01_0700_easy.fit"), Path("run.fit")])


def test_the_sample_spans_the_history():
    files = [Path(f"{i:04d}.fit") for i in range(1000)]
    sample = spread_sample(files, 40)
    assert len(sample) == 40 and len(set(sample)) == 40
    assert sample[0] == files[0] and sample[-1] == files[-1]
    assert spread_sample(files[:10], 40) == files[:10]
