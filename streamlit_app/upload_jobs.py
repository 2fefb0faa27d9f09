"""An upload's heavy work, off the page: staging, ingest and marts in a thread the session owns.

A 10-year upload takes minutes, so the `/upload` page runs it as an `UploadJob`, a
`streamlit_app.jobs.BackgroundJob` (a thread that calls no `st.*`), and draws the job's progress
on each rerun (a fragment polls it). The job is kept in that session's `st.session_state` only, with the athlete it belongs to: no
other session, and no other athlete signed in later in the same browser session, can see it.

Two ways to run, chosen when the job starts:

* **a flow run** when a Prefect API is configured (`PREFECT_API_URL`, from the environment or the
  active Prefect profile): the thread stages the files in the athlete's inbox, starts a run of
  `ingest-upload/<RUNLAKE_WEB_DEPLOYMENT>` (named `ingest-upload-<athlete_id>`, never the handle)
  and follows its state; the page links to it in the Prefect UI. The per-file results are then
  read from the athlete's `fit_files` rows (`file_results`), as the in-process way does.
* **in process** otherwise: the thread stages and runs `ingest_upload` itself.

A failure is logged here with its traceback; the visitor sees one plain sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline import fit_batch
from pipeline.lake_access import require_latest_version
from pipeline.steps.ingest_upload import RESULT_REFUSED, FileResult, file_results, ingest_upload, stage_upload
from pipeline.uploads import Unpacked
from streamlit_app.jobs import BackgroundJob, JobState, prefect_api_url  # noqa: F401  (the page's names)

FLOW_NAME = "ingest-upload"
FAILED = "The ingest failed. Your files are kept in your inbox; please try again later."
BUSY = "Another ingest of your data is still running. Please try again when it has finished."
NOT_DEPLOYED = "Uploads cannot be ingested right now (the ingest service is not set up). Please try again later."


@dataclass
class UploadJob(BackgroundJob):
    """One upload of one athlete: stage the files in its inbox, then ingest them and build its
    marts — in this thread, or as a run of `ingest-upload/<deployment>`."""

    unpacked: Unpacked = field(default_factory=Unpacked)
    FAILED, BUSY, NOT_DEPLOYED = FAILED, BUSY, NOT_DEPLOYED

    def work(self) -> list[FileResult]:
        refused = [FileResult(r.name, RESULT_REFUSED, r.reason) for r in self.unpacked.refused]
        require_latest_version(self.lake)  # a lake awaiting `runlake lake migrate` is not written
        self._progress("staging", 0, len(self.unpacked.files))
        staged = stage_upload(self.athlete.settings, self.unpacked.files, strava_csv=self.unpacked.strava_csv)
        self.unpacked = Unpacked(refused=self.unpacked.refused)  # the bytes are in the inbox now: free them
        if self.deployment is None:
            return ingest_upload(self.lake, self.athlete, staged.files, strava=staged.strava, refused=self.unpacked.refused,
                                 progress=self._progress).files
        before = fit_batch.known_statuses(self.lake, self.athlete_id, [s.sha256 for s in staged.files])
        self.run_flow(FLOW_NAME, {"athlete": self.athlete_id, "folder": staged.folder})
        return file_results(self.lake, self.athlete_id, staged.files, before) + refused
