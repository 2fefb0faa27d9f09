"""The pipeline's steps as the `daily` flow runs them: which flow, retries, timeout.

Each step is an existing flow (`ingest-fit`, `build-marts`, …) run as a subflow inside a task.
The task carries the retry policy, because Prefect tasks (unlike flows) can decide *whether* to
retry: a network hiccup is worth another attempt, a bad setting or a missing inbox is not, and
retrying it would only delay the failure the user has to see.

Step flows are imported only when their step runs, so `daily` imports (and deploys) even where
an optional piece is missing, and a missing piece fails its own step with a clear message.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

from prefect import Flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import ValidationError

from runlake.errors import RunlakeError
from lake.lease import LeaseBusyError
from lake.storage import LakeConfigError


@dataclass(frozen=True)
class Step:
    """One pipeline step: the Prefect flow `name` found in `module`, and how hard to try."""

    name: str
    module: str
    retries: int
    retry_delay_s: tuple[int, ...]
    timeout_s: int
    #: Parameters of the `daily` run passed down to this step (when given).
    passes: tuple[str, ...] = ("lake_uri",)


SYNC_STRAVA = Step(
    "sync-strava", "flows.sync_strava", retries=2, retry_delay_s=(60, 300), timeout_s=3 * 3600,
    passes=("lake_uri", "athlete"),
)
INGEST_FIT = Step(
    "ingest-fit", "flows.ingest_fit", retries=2, retry_delay_s=(30, 120), timeout_s=3 * 3600,
    passes=("lake_uri", "inbox_uri", "athlete"),
)
BUILD_MARTS = Step(
    "build-marts", "flows.build_marts", retries=1, retry_delay_s=(60,), timeout_s=2 * 3600,
    passes=("lake_uri", "athlete"),
)
MAINTAIN_LAKE = Step("maintain-lake", "flows.maintain_lake", retries=1, retry_delay_s=(300,), timeout_s=3 * 3600)
#: A violation (`LakeCheckFailed`, a RunlakeError) is not retried; a storage hiccup is.
LAKE_CHECK = Step("lake-check", "flows.lake_check", retries=1, retry_delay_s=(60,), timeout_s=3600)

#: Errors the user must fix: retrying them changes nothing.
NOT_RETRYABLE: tuple[type[BaseException], ...] = (
    RunlakeError,
    LakeConfigError,
    ValidationError,
    ImportError,
    TypeError,
    # It already waited RUNLAKE_LEASE_WAIT_S for the athlete's other writer.
    LeaseBusyError,
    # A step that used up its whole time budget would most likely do so again; retrying it
    # would push the day's run into the next one. (Network timeouts are retried inside the
    # steps, by the clients that hit them.)
    TimeoutError,
)


class StepUnavailable(RunlakeError):
    """A step's flow cannot be found (module missing from this checkout or image)."""


def load_step_flow(step: Step) -> Flow:
    """Import `step.module` and return the Prefect flow in it named `step.name`."""
    try:
        module = importlib.import_module(step.module)
    except ModuleNotFoundError as exc:
        if exc.name and step.module.startswith(exc.name):
            raise StepUnavailable(f"step {step.name}: module {step.module} is not in this installation") from exc
        raise
    for value in vars(module).values():
        if isinstance(value, Flow) and value.name == step.name:
            return value
    raise StepUnavailable(f"step {step.name}: {step.module} defines no flow named {step.name!r}")


def step_parameters(step: Step, flow: Flow, overrides: dict[str, Any]) -> dict[str, Any]:
    """The given overrides this step receives, checked against the flow's signature.

    An override the flow cannot take is an error rather than dropped: a step that silently used
    the settings' lake instead of the one asked for would write to the wrong place.
    """
    accepted = inspect.signature(flow.fn).parameters
    params: dict[str, Any] = {}
    for name in step.passes:
        value = overrides.get(name)
        if value is None:
            continue
        if name not in accepted:
            raise RunlakeError(f"step {step.name}: its flow takes no {name} parameter, cannot override it")
        params[name] = value
    return params


def describe_failure(state) -> str:
    """A failed Prefect state as one line (its message, else its name)."""
    return " ".join(str(state.message or state.name).split())


def _is_retryable(exc: BaseException) -> bool:
    return not isinstance(exc, NOT_RETRYABLE)


def _retry_condition(task_obj, task_run, state) -> bool:  # noqa: ARG001 - Prefect's signature
    try:
        state.result()
    except BaseException as exc:  # the step's own exception, re-raised by Prefect
        return _is_retryable(exc)
    return False


@task(cache_policy=NO_CACHE, retry_condition_fn=_retry_condition)
def _run_step(step: Step, overrides: dict[str, Any]) -> Any:
    flow = load_step_flow(step)
    return flow(**step_parameters(step, flow, overrides))


def run_step(step: Step, overrides: dict[str, Any]):
    """Run `step` as a task wrapping its subflow; returns the task's final Prefect state.

    Everything that can go wrong (a missing module, an override the flow cannot take, the
    flow's own failure) ends in that state rather than escaping, so the caller decides what
    runs next.
    """
    configured = _run_step.with_options(
        name=step.name,
        retries=step.retries,
        retry_delay_seconds=list(step.retry_delay_s),
        timeout_seconds=step.timeout_s,
    )
    return configured(step, overrides, return_state=True)
