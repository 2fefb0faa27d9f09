"""A flow run for one athlete: its `athlete` parameter resolved, the run named after its id.

Every flow that works on one athlete's data (`ingest-fit`, `sync-strava`, `build-marts`,
`daily-athlete`) takes `athlete: str | None` — a handle, None for the default athlete — and
starts with `open_athlete`. Its run is then named `<flow>-<athlete_id>`: handles are changeable
and personal, Prefect's database is outside `runlake athlete erase`, so run names carry only the
opaque id. An unknown handle fails the run with `UnknownAthleteError`'s one line.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.lake_access import lake_at, open_lake
from pipeline.athletes import Athlete, resolve_athlete
from lake import lease
from lake.storage import Lake
from runlake.settings import Settings

log = logging.getLogger(__name__)


def run_name(flow_name: str, athlete_id: str) -> str:
    return f"{flow_name}-{athlete_id}"


def open_athlete(settings: Settings, handle: str | None, flow_name: str) -> tuple[Lake, Athlete]:
    """(lake, athlete) for a flow run; renames the run `<flow_name>-<athlete_id>`."""
    lake = open_lake(settings)
    athlete = resolve_athlete(lake, settings, handle)
    name_flow_run(run_name(flow_name, athlete.athlete_id))
    return lake, athlete


def name_flow_run(name: str) -> None:
    """Rename the current flow run (no-op outside one, or when it already has that name).

    Done in the flow body rather than with `@flow(flow_run_name=…)`: the name needs the lake (the
    handle → id lookup), and a naming callable that fails would crash the run before its body
    could fail it with a clear message. A parent that knows the id names the child at creation
    (`run_deployment(flow_run_name=…)`, `with_options(flow_run_name=…)`), so this is then a no-op.
    """
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    run_id = flow_run.id
    if run_id is None or flow_run.name == name:
        return
    with get_client(sync_client=True) as client:
        client.set_flow_run_name(run_id, name)


def inbox_missing(athlete: Athlete) -> bool:
    """A registered athlete's local inbox folder that was never made: nothing to ingest, not an
    error (the default athlete's inbox is the user's own folder, and a missing one stays an error)."""
    if athlete.is_default:
        return False
    location = lake_at(athlete.settings.inbox, athlete.settings)
    return not location.is_s3 and not Path(location.root).exists()


def athlete_lease(
    lake: Lake, settings: Settings, athlete_id: str, command: str, logger: logging.Logger | logging.LoggerAdapter
) -> lease.Lease:
    """The athlete's write lease for a flow run (use it in a `with`), waiting up to
    RUNLAKE_LEASE_WAIT_S for another writer of the same athlete — a `daily` run, an ad-hoc run of
    another flow, the CLI — and saying so in the run's log: "waiting for the lease of athlete …
    held by …" through `logger` (the run's logger). Past the wait, `LeaseBusyError` fails the run
    with one line naming the holder."""

    def waiting(holder: lease.LeaseRecord) -> None:
        logger.info("waiting for the lease of athlete %s (up to %g s): held by %s",
                    athlete_id, settings.lease_wait_s, holder.describe())

    held = lease.acquire(lake, athlete_id, command, wait_s=settings.lease_wait_s, on_wait=waiting)
    logger.info("lease of athlete %s taken (generation %d)", athlete_id, held.record.generation)
    return held
