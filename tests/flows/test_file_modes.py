"""A fresh home and local lake are the athlete's alone: folders 0700, files 0600, even when the
user's umask is the usual 022 (runlake/files.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runlake.files import make_private_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def group_or_other_bits(root: Path) -> list[str]:
    """Every path under `root` (itself included) that grants its group or others anything."""
    paths = [root, *root.rglob("*")]
    return [f"{oct(stat.S_IMODE(p.lstat().st_mode))} {p.relative_to(root.parent)}"
            for p in paths if p.lstat().st_mode & 0o077]


def test_cli_creates_home_and_lake_private_with_umask_022(tmp_path, fit_folder, umask_022):
    home = tmp_path / "fresh" / "home"  # neither the home nor its parent exists yet
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
    env.update({"RUNLAKE_HOME": str(home), "COLUMNS": "200"})
    for args in (["ingest", "fit", str(fit_folder / "easy1.fit")], ["marts", "build"]):
        done = subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                              env=env, cwd=REPO, timeout=300)
        assert done.returncode == 0, done.stderr
    key = home / "lake" / "private" / "public_id_key"
    assert key.is_file(), "marts build must have created the lake's public-id key"
    assert any((home / "lake").rglob("*.parquet")) and any((home / "lake").rglob("_delta_log/*.json"))
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert group_or_other_bits(tmp_path / "fresh") == []


def test_make_private_dir_ignores_the_umask_and_keeps_existing_folders(tmp_path, umask_022):
    (tmp_path / "shared").mkdir(mode=0o755)
    make_private_dir(tmp_path / "shared" / "a" / "b")
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o755  # not ours to change
    assert stat.S_IMODE((tmp_path / "shared" / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "shared" / "a" / "b").stat().st_mode) == 0o700
    make_private_dir(tmp_path / "shared" / "a" / "b")  # again: nothing to do, no error
