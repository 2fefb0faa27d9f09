"""Strava backfill benchmark (issue 8): `runlake sync strava` of 1,000 activities with streams.

Against the project's fake Strava server (tests/sources/strava/fake_server.py) on loopback, in
this process; the sync runs as the real CLI in a child process (start-up included). It measures,
in the same run:
  * reference: a bare `requests` client downloading the same DetailedActivity and streams
    bodies and decoding their JSON, nothing else (the floor for any client of this server);
  * backfill: `runlake sync strava` into an empty lake (listing, fetch, map, archive, commits);
  * re-sync: the same command again (nothing new: one listing request per 200 activities).
and prints requests per activity, wall times and the ratio backfill / reference.
Rate limits are set high here: with Strava's default read limits (100 per 15 min, 1,000 a day) a
1,000-activity backfill takes about two days of scheduled runs by design, not by speed.

    python -m bench.strava        # BENCH_STRAVA_ACTIVITIES=1000 by default
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `tests` must be this repo's package (garmin-fit-sdk installs one)
    sys.path.insert(0, str(REPO))


def _reference(fake, token: str) -> float:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    keys = "time,latlng,distance,altitude,heartrate,cadence,velocity_smooth,moving,watts,temp"
    started = time.perf_counter()
    for activity_id in fake.activities:
        session.get(f"{fake.url}/api/v3/activities/{activity_id}", timeout=30).json()
        session.get(f"{fake.url}/api/v3/activities/{activity_id}/streams", params={"keys": keys, "key_by_type": "true"}, timeout=30).json()
    return time.perf_counter() - started


def _sync(env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "sync", "strava"], capture_output=True, text=True, env=env, cwd=REPO, timeout=3600)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"runlake sync strava failed: {proc.stderr.strip()}")
    return elapsed, proc


def main() -> None:
    from tests.sources.strava.fake_data import make_history
    from tests.sources.strava.fake_server import FakeStrava

    count = int(os.environ.get("BENCH_STRAVA_ACTIVITIES", "1000"))
    print(f"generating {count} activities with 1 Hz streams (20-45 min each)…", flush=True)
    history = make_history(count, lazy=True)
    samples = sum(a.elapsed_time for a in history)  # ≈ stream length (1 Hz, pauses add a few s)
    limits = dict(short_limit=10**6, daily_limit=10**7, read_short_limit=10**6, read_daily_limit=10**7)
    with FakeStrava(history, **limits) as fake, tempfile.TemporaryDirectory() as tmp:
        fake.access_tokens["at_bench"] = time.time() + 86400
        reference = _reference(fake, "at_bench")
        fake.requests.clear()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAKE_")} | {
            "RUNLAKE_HOME": f"{tmp}/home",
            "RUNLAKE_LAKE_URI": f"{tmp}/lake",
            "RUNLAKE_STRAVA_URL": fake.url,
            "RUNLAKE_STRAVA_CLIENT_ID": fake.client_id,
            "RUNLAKE_STRAVA_CLIENT_SECRET": fake.client_secret,
            "RUNLAKE_STRAVA_REFRESH_TOKEN": fake.issue_refresh_token(),
        }
        backfill, proc = _sync(env)
        api = len(fake.api_requests())
        fake.requests.clear()
        resync, _ = _sync(env)
        resync_requests = len(fake.api_requests())
    print(proc.stdout.strip())
    print(f"activities:            {count} (~{samples / 1e6:.2f} M samples)")
    print(f"reference (bare GETs): {reference:.1f} s")
    print(f"backfill:              {backfill:.1f} s, {api} API requests = {api / count:.3f} per activity "
          f"({count / backfill:.1f} activities/s)")
    print(f"ratio backfill/reference: {backfill / reference:.2f}")
    print(f"re-sync (nothing new): {resync:.1f} s, {resync_requests} requests")


if __name__ == "__main__":
    main()
