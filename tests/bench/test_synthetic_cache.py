"""The benchmark cache of synthetic files: generated once, reused, rebuilt for a new generator."""

from pathlib import Path

import pytest

from bench import synthetic_cache


def test_cached_history_is_reused_and_rebuilt_when_the_generator_changes(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(synthetic_cache, "CACHE_DIR", tmp_path)
    folder = synthetic_cache.cached_history(0.01)
    assert folder == tmp_path / "history-0.01y"
    files = sorted(folder.glob("*.fit"))
    assert files and (folder / ".generator-version").read_text().strip() == synthetic_cache.GENERATOR_VERSION
    stamps = [p.stat().st_mtime_ns for p in files]
    assert synthetic_cache.cached_history(0.01) == folder
    assert [p.stat().st_mtime_ns for p in files] == stamps  # reused, not rewritten
    (folder / "1999-01-01_0700_easy.fit").write_bytes(b"old generator")
    (folder / ".generator-version").write_text("older\n")
    synthetic_cache.cached_history(0.01)
    assert sorted(p.name for p in folder.glob("*.fit")) == [p.name for p in files]  # stale file gone


def test_years_must_be_positive(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(synthetic_cache, "CACHE_DIR", tmp_path)
    with pytest.raises(ValueError):
        synthetic_cache.cached_history(0)
