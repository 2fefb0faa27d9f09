"""How `daily` runs one `daily-athlete` child per athlete, and what it makes of their ends.

Two ways, chosen by where the parent runs:

* **Under a deployment** (`daily/local`, `daily/k8s`): one flow run of the per-athlete deployment
  of the same name (`daily-athlete/local`, `daily-athlete/k8s`) per athlete, all created at once
  with `run_deployment(timeout=0)` and then awaited. They run on the same work pool as separate
  processes or Jobs, at most `concurrency_limit` at a time (deployments/prefect.yaml); the others
  wait in the queue.
* **Without one** (`daily()` called in a Python process, with an ephemeral or any other Prefect
  API): the children are subflows of the parent, run one after the other in its process.

Either way a child run is named `daily-athlete-<athlete_id>`; a failing athlete fails only its
own run, and every child is awaited before `summarize` decides the parent's end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flows.athlete_runs import run_name
from flows.daily_steps import describe_failure
from pipeline.athletes import Athlete
from runlake.errors import RunlakeError

CHILD_FLOW = "daily-athlete"
POLL_S = 5.0


class DailyFailed(RuntimeError):
    """The `daily` run did not complete: the message names each problem (athletes' runs, lake
    maintenance, the lake check)."""


class AthletesFailed(DailyFailed):
    """One or more athletes' daily runs did not complete; the message names them by athlete_id
    (then any other problem of the run)."""


@dataclass(frozen=True)
class ChildResult:
    """How one athlete's child run ended."""

    handle: str
    athlete_id: str
    run_name: str
    completed: bool
    message: str  # the failure in one line; "" when completed


@dataclass(frozen=True)
class FanOutSummary:
    completed: list[ChildResult]
    failed: list[ChildResult]

    @property
    def all_failed(self) -> bool:
        return bool(self.failed) and not self.completed

    def error(self) -> str:
        """The parent's failure message: athlete ids and run names only (it ends up in Prefect's
        database and in the daily-failed notification; handles go to the log)."""
        total = len(self.completed) + len(self.failed)
        details = "; ".join(f"{r.athlete_id} (run {r.run_name}: {r.message})" for r in self.failed)
        return f"{len(self.failed)} of {total} athletes failed: {details}"

    def outcome(self) -> dict[str, str]:
        """Per handle, 'completed' or 'failed: …' (the parent's result)."""
        return {r.handle: "completed" if r.completed else f"failed: {r.message}"
                for r in sorted(self.completed + self.failed, key=lambda r: r.handle)}


def summarize(results: Sequence[ChildResult]) -> FanOutSummary:
    return FanOutSummary(
        completed=[r for r in results if r.completed], failed=[r for r in results if not r.completed]
    )


def child_parameters(athlete: Athlete, overrides: dict[str, Any]) -> dict[str, Any]:
    """The child's parameters: the athlete's id (never the handle: Prefect's database is outside
    erasure) and the parent's given overrides."""
    return {"athlete": athlete.athlete_id} | {k: v for k, v in overrides.items() if v is not None}


def _result(athlete: Athlete, name: str, state) -> ChildResult:
    completed = state is not None and state.is_completed()
    message = "" if completed else (describe_failure(state) if state is not None else "no state")
    return ChildResult(athlete.handle, athlete.athlete_id, name, completed, message)


def run_in_process(athletes: Sequence[Athlete], overrides: dict[str, Any]) -> list[ChildResult]:
    """Each athlete's child as a subflow of the current flow, one after the other."""
    from flows.daily_athlete import daily_athlete

    results = []
    for athlete in athletes:
        name = run_name(CHILD_FLOW, athlete.athlete_id)
        state = daily_athlete.with_options(flow_run_name=name)(
            **child_parameters(athlete, overrides), return_state=True
        )
        results.append(_result(athlete, name, state))
    return results


def run_as_deployments(
    athletes: Sequence[Athlete], overrides: dict[str, Any], deployment: str,
    *, poll_s: float = POLL_S, sleep: Callable[[float], None] = time.sleep,
) -> list[ChildResult]:
    """One run of `daily-athlete/<deployment>` per athlete, created at once, then awaited."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    full_name = f"{CHILD_FLOW}/{deployment}"
    started = []
    for athlete in athletes:
        name = run_name(CHILD_FLOW, athlete.athlete_id)
        try:
            flow_run = run_deployment(
                full_name, parameters=child_parameters(athlete, overrides), flow_run_name=name, timeout=0,
            )
        except ObjectNotFound:
            raise RunlakeError(f"deployment {full_name} not found: deploy it with `runlake deploy`") from None
        started.append((athlete, name, flow_run.id))
    states: dict[Any, Any] = {}
    with get_client(sync_client=True) as client:
        while len(states) < len(started):
            for _, _, run_id in started:
                if run_id not in states:
                    state = client.read_flow_run(run_id).state
                    if state is not None and state.is_final():
                        states[run_id] = state
            if len(states) < len(started):
                sleep(poll_s)
    return [_result(athlete, name, states[run_id]) for athlete, name, run_id in started]


def run_children(athletes: Sequence[Athlete], overrides: dict[str, Any]) -> list[ChildResult]:
    """The children, as deployment runs when the parent runs under a deployment, else in-process."""
    from prefect.runtime import deployment

    if deployment.id is not None and deployment.name:
        return run_as_deployments(athletes, overrides, deployment.name)
    return run_in_process(athletes, overrides)
