"""Kills everywhere (issue 17, item 1): `runlake sync strava`, `marts build`, the public build,
`lake rebuild`, `lake migrate` and `athlete erase`, SIGKILLed right after each of their Delta
commits and at random times, then run again: the end state equals an uninterrupted run's.

For each command: one uninterrupted run from a fresh copy of the starting lake counts its commits
(K) and gives the reference end state; then for each N in 1..K a fresh copy is killed right after
commit N (`tests/reliability/killing_cli.py`) and run again to completion; then `RANDOM_KILLS`
fresh copies are killed by the test at a random instant between the reference run's first commit
and its end, and run again. After each re-run every registered table (rows sorted by key, only the
`kills.VOLATILE` columns left out) and the raw archive's file list equal the reference, and no
table has two rows with one key. The random instants come from a seed printed with each test.

Real processes, real SIGKILL (no `finally`, no lease release), the athlete lease taken over as in
production. Slow: about (2K + 2·RANDOM_KILLS + 1) command runs per test.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from runlake.settings import Settings
from sources.fit.synthetic import interval_segments, write_run
from sources.strava.auth import authorize_url
from tests.lake.migration_support import copy_v1_lake
from tests.reliability import kills
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava

#: Slow: minutes per command on two idle cores, far more on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.long, pytest.mark.timeout(3600)]

AMS = ZoneInfo("Europe/Amsterdam")
TODAY = "2025-03-20"
RANDOM_KILLS = 2
#: Kill after every commit (1, the default and what `make test` runs), or only after every n-th
#: (KILL_EVERY=n: a quicker look on a loaded machine).
KILL_EVERY = int(os.environ.get("KILL_EVERY", "1"))
#: The first commit to kill after (KILL_FROM=n: resume a look where an earlier one stopped).
KILL_FROM = int(os.environ.get("KILL_FROM", "1"))


@dataclass
class Tally:
    """What one command's kills did, for docs/reliability.md (printed by each test)."""

    command: str
    commits: int = 0
    kill_points: list[str] = field(default_factory=list)
    completed: int = 0
    reauthorized: int = 0

    def line(self) -> str:
        return (f"KILLS | {self.command} | after commit {KILL_FROM}..{self.commits} every {KILL_EVERY}, random ×{RANDOM_KILLS} "
                f"({', '.join(self.kill_points)}) | {self.completed} re-runs completed, state equal | reauthorized {self.reauthorized}")


@pytest.fixture(scope="module")
def server():
    fork_server = kills.ForkServer()
    yield fork_server
    fork_server.close()


def cli(server: kills.ForkServer, base: Path, *args: str, **env: str) -> None:
    """A plain `runlake` run that sets up a starting lake; it must succeed."""
    base.mkdir(parents=True, exist_ok=True)
    done = server.run(args, base, kills.runlake_env(base, **env))
    assert done.returncode == 0, f"runlake {' '.join(args)}: {done.stderr}"


def fit_files(folder: Path) -> Path:
    start = datetime(2025, 3, 10, 7, 0, tzinfo=AMS)
    write_run(folder / "easy1.fit", start, 4000)
    write_run(folder / "easy2.fit", start + timedelta(hours=10), 3000, seed=1)
    write_run(folder / "track.fit", start + timedelta(days=1), segments=interval_segments(4, 400, 150, 60, warmup_m=800, cooldown_m=800))
    return folder


@pytest.fixture(scope="module")
def starts(tmp_path_factory, server) -> dict[str, Path]:
    """Starting folders (lake + home), built once by real runs and never written again."""
    root = tmp_path_factory.mktemp("kill-starts")
    fits = fit_files(root / "fit")
    ingested = root / "ingested"
    cli(server, ingested, "ingest", "fit", str(fits / "easy1.fit"), str(fits / "track.fit"))
    built = kills.fresh_copy(ingested, root / "built")
    cli(server, built, "marts", "build", "--today", TODAY)
    return {"fits": fits, "ingested": ingested, "built": built, "root": root}


def check_kills(server: kills.ForkServer, tmp_path: Path, start: Path, args: tuple[str, ...], env_for, tally: Tally, *, before_run=lambda: None,
                rerun_failed=None) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"{tally.command}: random kill seed {seed}")
    ref_base = kills.fresh_copy(start, tmp_path / "reference")
    before_run()
    reference = server.run(args, ref_base, env_for(ref_base))
    assert reference.returncode == 0, reference.stderr
    expected = kills.lake_state(ref_base / "lake")
    assert kills.duplicates(ref_base / "lake") == {}
    tally.commits = len(reference.commits)
    assert tally.commits > 0, "the command made no Delta commit: nothing to kill"
    print("\n".join(reference.commits))

    def rerun_and_compare(base: Path, what: str) -> None:
        again = server.run(args, base, env_for(base))
        if again.returncode != 0 and rerun_failed is not None and rerun_failed(again, base):
            tally.reauthorized += 1
            again = server.run(args, base, env_for(base))
        assert again.returncode == 0, f"{what}, seed {seed}: the re-run failed: {again.stderr}"
        assert kills.duplicates(base / "lake") == {}, f"{what}, seed {seed}"
        assert kills.differences(expected, kills.lake_state(base / "lake")) == {}, f"{what}, seed {seed}"
        tally.completed += 1
        shutil.rmtree(base)

    for n in range(KILL_FROM, tally.commits + 1, KILL_EVERY):
        base = kills.fresh_copy(start, tmp_path / f"after-{n}")
        before_run()
        killed = server.run(args, base, env_for(base), after=n)
        assert killed.killed, f"no kill after commit {n}: exit {killed.returncode}, {len(killed.commits)} commits: {killed.stderr}"
        tally.kill_points.append(str(n))
        rerun_and_compare(base, f"killed after commit {n} ({killed.commits[-1]})")

    first, last = reference.commit_times[0], reference.commit_times[-1]
    for i in range(RANDOM_KILLS):  # between just before the reference's first commit and its last
        at = rng.uniform(max(0.1, first - 0.5), last)
        base = kills.fresh_copy(start, tmp_path / f"random-{i}")
        before_run()
        killed = server.run(args, base, env_for(base), kill_at_s=at)
        tally.kill_points.append(f"random {at:.1f} s: {len(killed.commits)} commits" + ("" if killed.killed else ", finished first"))
        rerun_and_compare(base, f"killed at {at:.2f} s after {len(killed.commits)} commits")
    print(tally.line())


def local_env(base: Path) -> dict[str, str]:
    return kills.runlake_env(base)


def test_marts_build(server, starts, tmp_path):
    check_kills(server, tmp_path, starts["ingested"], ("marts", "build", "--today", TODAY), local_env, Tally("marts build"))


def activity_id(base: Path) -> str:
    from lake import activities
    from lake.storage import Lake
    from lake.table import read

    return sorted(read(Lake.at(str(base / "lake")), activities.SPEC)["activity_id"])[0]


def test_public_build_withdrawing_a_run(server, starts, tmp_path):
    """`marts build` after a run was made private: the public build withdraws it, rewrites every
    public track table as a fresh snapshot and purges the public history."""
    start = kills.fresh_copy(starts["built"], starts["root"] / "made-private")
    cli(server, start, "activity", "set", activity_id(start), "--private")
    check_kills(server, tmp_path, start, ("marts", "build", "--today", TODAY), local_env, Tally("public build (marts build after a run made private)"))


def test_lake_rebuild(server, starts, tmp_path):
    check_kills(server, tmp_path, starts["built"], ("lake", "rebuild", "--workers", "1"), local_env, Tally("lake rebuild"))


def test_lake_migrate(server, starts, tmp_path):
    start = starts["root"] / "v1"
    copy_v1_lake(start / "lake")
    (start / "home").mkdir()
    check_kills(server, tmp_path, start, ("lake", "migrate"), local_env, Tally("lake migrate"))


def test_athlete_erase(server, starts, tmp_path):
    start = kills.fresh_copy(starts["built"], starts["root"] / "two-athletes")
    cli(server, start, "athlete", "add", "bob", "--public")
    cli(server, start, "ingest", "fit", "--athlete", "bob", str(starts["fits"] / "easy2.fit"), str(starts["fits"] / "track.fit"))
    cli(server, start, "marts", "build", "--athlete", "bob", "--today", TODAY)
    check_kills(server, tmp_path, start, ("athlete", "erase", "bob", "--yes"), local_env, Tally("athlete erase"))


def test_sync_strava(server, starts, tmp_path):
    """Six Strava runs, committed three at a time, into a lake that already holds watch files.
    Strava rotates the refresh token at each run (the fake does, like Strava)."""
    with FakeStrava(make_history(6, duration_s=120)) as fake:
        token = fake.issue_refresh_token()

        def env_for(base: Path) -> dict[str, str]:
            return kills.runlake_env(base, RUNLAKE_STRAVA_URL=fake.url, RUNLAKE_STRAVA_CLIENT_ID=fake.client_id,
                                     RUNLAKE_STRAVA_CLIENT_SECRET=fake.client_secret, RUNLAKE_STRAVA_REFRESH_TOKEN=token,
                                     RUNLAKE_STRAVA_COMMIT_EVERY="3")

        def token_valid_again() -> None:
            """Each fresh copy of the starting lake starts from the same refresh token."""
            fake.refresh_tokens.add(token)

        def reauthorize(failed: kills.Run, base: Path) -> bool:
            """A kill between Strava's token answer and the commit of the rotated token loses it:
            the re-run says to run `runlake strava auth`, and the athlete does."""
            if "runlake strava auth" not in failed.stderr:
                return False
            settings = Settings(strava_url=fake.url, strava_client_id=fake.client_id, strava_client_secret=fake.client_secret)
            redirect = requests.get(authorize_url(settings), allow_redirects=False, timeout=5).headers["Location"]
            cli(server, base, "strava", "auth", "--code", redirect, **{k: v for k, v in env_for(base).items() if k.startswith("RUNLAKE_STRAVA")})
            return True

        check_kills(server, tmp_path, starts["built"], ("sync", "strava"), env_for, Tally("sync strava"), before_run=token_valid_again,
                    rerun_failed=reauthorize)
