"""Heavy work off the page: a thread the browser session owns, or a Prefect flow run it follows.

Streamlit runs each session's script on its own thread; an upload of ten years or a Strava
backfill takes minutes, so a page never does that work in its script run. It starts a
`BackgroundJob` — a plain thread that calls no `st.*` — keeps it in that session's
`st.session_state` with the athlete it belongs to, and draws the job's `state()` on each rerun
(a fragment polls it). Subclasses say what the work is (`work`); this module owns the thread,
the progress, the one plain sentence a visitor sees when it fails (the traceback goes to the
server log), and following a flow run when a Prefect API is configured.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# Imported whole here, in the script's thread, before any job thread exists: the job's work
# (decoders, Delta writes) and a page's charts (altair) both import pandas lazily, and a first
# import racing in two threads leaves one of them a partially initialized module
# ("AttributeError: partially initialized module 'pandas' has no attribute 'Timestamp'").
import pandas  # noqa: F401
import pyarrow  # noqa: F401

from lake.lease import LeaseBusyError
from lake.storage import Lake
from pipeline.athletes import Athlete

log = logging.getLogger("runlake.dashboard")

POLL_S = 2.0


def prefect_api_url() -> str | None:
    """The configured Prefect API (environment or active profile), None when there is none."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


class NotDeployed(Exception):
    """The deployment a job would run is not on the Prefect server."""


@dataclass
class JobState:
    """What the page shows: the phase, its progress, and at the end the results or an error."""

    phase: str = "starting"
    done: int = 0
    total: int = 0
    results: Any = None
    error: str | None = None
    link: str | None = None  # the flow run in the Prefect UI
    finished: bool = False
    seconds: float = 0.0


@dataclass
class BackgroundJob:
    """One piece of one athlete's heavy work, in its own thread (`start`). Subclasses implement
    `work()` (its return value becomes `state().results`) and may word the sentences a visitor
    sees: `FAILED`, `BUSY` (the athlete's lease stayed taken), `NOT_DEPLOYED`."""

    lake: Lake
    athlete: Athlete
    deployment: str | None = None  # the deployment name (`local`, `k8s`) to run as a flow run; None: in this process
    FAILED = "The work failed. Please try again later."
    BUSY = "Another update of your data is still running. Please try again when it has finished."
    NOT_DEPLOYED = "This cannot run right now (the service is not set up). Please try again later."
    _state: JobState = field(default_factory=JobState)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    @property
    def athlete_id(self) -> str:
        return self.athlete.athlete_id

    def start(self) -> "BackgroundJob":
        self._thread = threading.Thread(target=self._run, name=f"{type(self).__name__}-{self.athlete_id}", daemon=True)
        self._thread.start()
        return self

    def state(self) -> JobState:
        with self._lock:
            return JobState(**vars(self._state))

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def work(self) -> Any:
        raise NotImplementedError

    def _set(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self._state, name, value)

    def _progress(self, phase: str, done: int, total: int) -> None:
        self._set(phase=phase, done=done, total=total)

    def _run(self) -> None:
        started = time.perf_counter()
        what = type(self).__name__
        try:
            self._set(results=self.work())
        except LeaseBusyError:
            log.warning("%s of athlete %s: its lease stayed busy", what, self.athlete_id, exc_info=True)
            self._set(error=self.BUSY)
        except NotDeployed:
            log.exception("%s of athlete %s: deployment %s not found", what, self.athlete_id, self.deployment)
            self._set(error=self.NOT_DEPLOYED)
        except Exception:
            log.exception("%s of athlete %s failed", what, self.athlete_id)
            self._set(error=self.FAILED)
        finally:
            self._set(finished=True, seconds=time.perf_counter() - started)

    def run_flow(self, flow: str, parameters: dict[str, Any]) -> None:
        """Run `<flow>/<self.deployment>` for this athlete (named `<flow>-<athlete_id>`, never the
        handle: Prefect's database is outside erasure), follow it to its end and link to it;
        `NotDeployed` when the server has no such deployment, RuntimeError when it fails."""
        from prefect.client.orchestration import get_client
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound
        from prefect.settings import get_current_settings

        try:
            run = run_deployment(f"{flow}/{self.deployment}", parameters=parameters,
                                 flow_run_name=f"{flow}-{self.athlete_id}", timeout=0)
        except ObjectNotFound:
            raise NotDeployed() from None
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
