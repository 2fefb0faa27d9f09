"""A Strava sync of the signed-in athlete off the page (`streamlit_app.jobs.BackgroundJob`).

In process: the sync (`pipeline.strava_sync.sync_strava`, resumable, within Strava's rate
limits) and then the athlete's marts, under the athlete's lease. With a Prefect API: a run of
`daily-athlete/<deployment>` for the athlete (ingest, sync, marts, public layer), named by the
athlete id. A first connection's backfill of years of activities is the same sync: a run that
meets Strava's daily limit stops cleanly and the next one (the nightly `daily`, or **Sync now**)
resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from lake import lease
from pipeline.lake_access import require_latest_version
from pipeline.steps.build_marts import build_marts
from pipeline.strava_sync import sync_strava
from streamlit_app.jobs import BackgroundJob, prefect_api_url  # noqa: F401  (the page's name)

FLOW_NAME = "daily-athlete"


@dataclass
class StravaSyncJob(BackgroundJob):
    """Fetch the athlete's new and changed Strava activities, then rebuild its marts."""

    FAILED = "The Strava sync failed. Please try again later."

    def work(self) -> str:
        require_latest_version(self.lake)
        if self.deployment is not None:
            self.run_flow(FLOW_NAME, {"athlete": self.athlete_id})
            return "synced as a flow run"
        settings = self.athlete.settings
        with lease.acquire(self.lake, self.athlete_id, "sync strava (web)", wait_s=60):
            report = sync_strava(self.lake, settings, progress=self._progress)
            self._progress("building marts", 0, 0)
            build_marts(self.lake, settings)
        return report.summary()
