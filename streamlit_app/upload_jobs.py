"""An upload's heavy work, off the page: staging, ingest and marts in a thread the session owns.

Streamlit runs each browser session's script on its own thread; a 10-year upload takes minutes,
so the `/upload` page never does that work in its script run. It starts an `UploadJob` — a plain
thread that calls no `st.*` — and draws the job's progress on each rerun (a fragment polls it).
The job is kept in that session's `st.session_state` only, with the athlete it belongs to: no
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

import logging
import threading
import time
from dataclasses import dataclass, field

from lake.lease import LeaseBusyError
from lake.storage import Lake
from pipeline import fit_batch
from pipeline.athletes import Athlete
from pipeline.lake_access import require_latest_version
from pipeline.steps.ingest_upload import (
    RESULT_REFUSED, FileResult, StagedUpload, file_results, ingest_upload, stage_upload,
)
from pipeline.uploads import Unpacked

log = logging.getLogger("runlake.dashboard")

FLOW_NAME = "ingest-upload"
POLL_S = 2.0
FAILED = "The ingest failed. Your files are kept in your inbox; please try again later."
BUSY = "Another ingest of your data is still running. Please try again when it has finished."
NOT_DEPLOYED = "Uploads cannot be ingested right now (the ingest service is not set up). Please try again later."


def prefect_api_url() -> str | None:
    """The configured Prefect API (environment or active profile), None when there is none."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


@dataclass
class JobState:
    """What the page shows: the phase, its progress, and at the end the results or an error."""

    phase: str = "starting"
    done: int = 0
    total: int = 0
    results: list[FileResult] | None = None
    error: str | None = None
    link: str | None = None  # the flow run in the Prefect UI
    finished: bool = False
    seconds: float = 0.0


@dataclass
class UploadJob:
    """One upload of one athlete, running in its own thread (`start`)."""

    lake: Lake
    athlete: Athlete
    unpacked: Unpacked
    deployment: str | None = None  # `ingest-upload/<name>` to run as a flow run; None: in process
    _state: JobState = field(default_factory=JobState)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    @property
    def athlete_id(self) -> str:
        return self.athlete.athlete_id

    def start(self) -> "UploadJob":
        self._thread = threading.Thread(target=self._run, name=f"upload-{self.athlete_id}", daemon=True)
        self._thread.start()
        return self

    def state(self) -> JobState:
        with self._lock:
            return JobState(**vars(self._state))

    def _set(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self._state, name, value)

    def _progress(self, phase: str, done: int, total: int) -> None:
        self._set(phase=phase, done=done, total=total)

    def _run(self) -> None:
        started = time.perf_counter()
        refused = [FileResult(r.name, RESULT_REFUSED, r.reason) for r in self.unpacked.refused]
        try:
            require_latest_version(self.lake)  # a lake awaiting `runlake lake migrate` is not written
            self._progress("staging", 0, len(self.unpacked.files))
            staged = stage_upload(self.athlete.settings, self.unpacked.files)
            self.unpacked = Unpacked(refused=self.unpacked.refused)  # the bytes are in the inbox now: free them
            if self.deployment is None:
                report = ingest_upload(self.lake, self.athlete, staged.files, refused=self.unpacked.refused, progress=self._progress)
                results = report.files
            else:
                results = self._as_flow_run(staged) + refused
            self._set(results=results)
        except LeaseBusyError:
            log.warning("upload of athlete %s: its lease stayed busy", self.athlete_id, exc_info=True)
            self._set(error=BUSY)
        except _NotDeployed:
            log.exception("upload of athlete %s: deployment %s not found", self.athlete_id, self.deployment)
            self._set(error=NOT_DEPLOYED)
        except Exception:
            log.exception("upload of athlete %s failed", self.athlete_id)
            self._set(error=FAILED)
        finally:
            self._set(finished=True, seconds=time.perf_counter() - started)

    def _as_flow_run(self, staged: StagedUpload) -> list[FileResult]:
        from prefect.client.orchestration import get_client
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound
        from prefect.settings import get_current_settings

        before = fit_batch.known_statuses(self.lake, self.athlete_id, [s.sha256 for s in staged.files])
        try:
            run = run_deployment(
                f"{FLOW_NAME}/{self.deployment}", parameters={"athlete": self.athlete_id, "folder": staged.folder},
                flow_run_name=f"{FLOW_NAME}-{self.athlete_id}", timeout=0,
            )
        except ObjectNotFound:
            raise _NotDeployed() from None
        ui = get_current_settings().ui_url
        self._set(phase="queued", link=f"{str(ui).rstrip('/')}/runs/flow-run/{run.id}" if ui else None)
        with get_client(sync_client=True) as client:
            while True:
                state = client.read_flow_run(run.id).state
                if state is not None:
                    self._set(phase=f"flow run {state.name.lower()}")
                    if state.is_final():
                        break
                time.sleep(POLL_S)
        if not state.is_completed():
            raise RuntimeError(f"flow run {run.id} ended {state.name}")
        return file_results(self.lake, self.athlete_id, staged.files, before)


class _NotDeployed(Exception):
    """The ingest-upload deployment is not on the Prefect server."""
