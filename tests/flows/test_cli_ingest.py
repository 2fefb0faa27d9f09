"""`runlake ingest fit` as a new user meets it: one clear line and the right exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def runlake(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=full_env, cwd=cwd or REPO, timeout=300
    )


def assert_one_clear_line(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def env(tmp_path) -> dict:
    return {"RUNLAKE_HOME": str(tmp_path / "home"), "RUNLAKE_LAKE_URI": str(tmp_path / "lake"), "COLUMNS": "200"}


def test_ingest_and_summary_from_another_working_directory(tmp_path, env, fit_folder):
    proc = runlake("ingest", "fit", str(fit_folder), env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "6 ingested" in proc.stdout


def test_quarantined_files_are_listed_and_exit_zero(tmp_path, env, fit_folder):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.fit").write_bytes(b"\x0e\x10garbage")
    proc = runlake("ingest", "fit", str(bad), str(fit_folder / "easy1.fit"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "quarantined broken.fit" in proc.stdout


def test_missing_path(env, tmp_path):
    assert_one_clear_line(runlake("ingest", "fit", str(tmp_path / "nope"), env=env), "no such file or folder", "nope")


def test_folder_without_fit_files(env, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"x")
    assert_one_clear_line(runlake("ingest", "fit", str(folder), env=env), "no .fit files")


def test_a_directory_named_like_a_fit_file(env, tmp_path):
    (tmp_path / "run.fit").mkdir()
    assert_one_clear_line(runlake("ingest", "fit", str(tmp_path / "run.fit"), env=env), "no .fit files")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes everything")
def test_unreadable_file(env, tmp_path, fit_folder):
    f = tmp_path / "locked.fit"
    f.write_bytes((fit_folder / "easy1.fit").read_bytes())
    f.chmod(0)
    proc = runlake("ingest", "fit", str(f), env=env)
    assert proc.returncode == 1 and "unreadable" in proc.stdout


def test_lake_path_that_is_a_file(env, tmp_path, fit_folder):
    blocker = tmp_path / "lakefile"
    blocker.write_text("x")
    env = {**env, "RUNLAKE_LAKE_URI": str(blocker / "lake")}
    assert_one_clear_line(runlake("ingest", "fit", str(fit_folder), env=env), "cannot create the lake folder")


def test_s3_lake_without_credentials(env, fit_folder):
    env = {**env, "RUNLAKE_LAKE_URI": "s3://bucket/lake", "HOME": env["RUNLAKE_HOME"]}
    assert_one_clear_line(runlake("ingest", "fit", str(fit_folder), env=env), "no AWS credentials")


def test_typo_in_the_lake_scheme(env, fit_folder):
    env = {**env, "RUNLAKE_LAKE_URI": "s4://bucket/lake"}
    assert_one_clear_line(runlake("ingest", "fit", str(fit_folder), env=env), "unsupported URI scheme")


def test_nothing_in_the_lake_is_touched_by_a_failed_run(env, tmp_path, fit_folder):
    assert runlake("ingest", "fit", str(fit_folder / "easy1.fit"), env=env).returncode == 0
    lake = Path(env["RUNLAKE_LAKE_URI"])
    before = sorted(p.relative_to(lake) for p in lake.rglob("*"))
    assert runlake("ingest", "fit", str(tmp_path / "missing"), env=env).returncode != 0
    assert sorted(p.relative_to(lake) for p in lake.rglob("*")) == before


def test_a_typo_in_the_time_zone_is_one_line_not_a_quarantine(env, fit_folder):
    proc = runlake("ingest", "fit", str(fit_folder / "easy1.fit"), env={**env, "RUNLAKE_TIMEZONE": "Europe/Amsterdm"})
    assert_one_clear_line(proc, "RUNLAKE_TIMEZONE", "not an IANA time zone")
    assert proc.returncode == 2
    assert not Path(env["RUNLAKE_LAKE_URI"]).exists()


def test_unreadable_file_is_reported_and_the_rest_go_on(tmp_path, fit_folder, monkeypatch):
    """As root nothing is unreadable, so the read itself fails here."""
    from pipeline.lake_access import open_lake
    from pipeline.steps import ingest_fit as step
    from runlake.settings import Settings

    real = step.inbox.read_bytes

    def read_bytes(item, options=None):
        if item.name == "easy1.fit":
            raise PermissionError(13, "Permission denied")
        return real(item, options)

    monkeypatch.setattr(step.inbox, "read_bytes", read_bytes)
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    items, opts = step.resolve_inputs(settings, [str(fit_folder)])
    report = step.ingest_fit_files(open_lake(settings), settings, items, read_options=opts)
    assert [uri.endswith("easy1.fit") for uri, _ in report.unreadable] == [True]
    assert report.unreadable[0][1] == "Permission denied"
    assert report.ingested == 5
