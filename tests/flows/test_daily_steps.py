"""Pipeline steps: finding each step's flow, passing overrides, deciding what to retry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flows.daily_steps import MAINTAIN_LAKE, Step, StepUnavailable, _is_retryable, load_step_flow, step_parameters
from lake.storage import LakeConfigError
from runlake.errors import RunlakeError


def test_finds_the_flow_by_its_prefect_name():
    flow = load_step_flow(MAINTAIN_LAKE)
    assert flow.name == "maintain-lake"


def test_a_missing_module_or_flow_is_a_clear_error():
    with pytest.raises(StepUnavailable, match="module flows.no_such_flow is not in this installation"):
        load_step_flow(Step("sync-strava", "flows.no_such_flow", 0, (), 1))
    with pytest.raises(StepUnavailable, match="defines no flow named 'nope'"):
        load_step_flow(Step("nope", "flows.maintain_lake", 0, (), 1))


def test_overrides_pass_only_when_given_and_accepted():
    flow = load_step_flow(MAINTAIN_LAKE)
    assert step_parameters(MAINTAIN_LAKE, flow, {"lake_uri": None}) == {}
    assert step_parameters(MAINTAIN_LAKE, flow, {"lake_uri": "/l", "inbox_uri": "/i"}) == {"lake_uri": "/l"}
    takes_inbox = Step("maintain-lake", "flows.maintain_lake", 0, (), 1, passes=("lake_uri", "inbox_uri"))
    with pytest.raises(RunlakeError, match="takes no inbox_uri parameter"):
        step_parameters(takes_inbox, flow, {"inbox_uri": "/i"})


def test_user_errors_are_not_retried():
    def validation_error():
        from runlake.settings import Settings

        try:
            Settings(hr_rest_bpm=300)
        except ValidationError as exc:
            return exc

    for exc in (RunlakeError("x"), LakeConfigError("x"), validation_error(), ImportError("x"), TimeoutError()):
        assert not _is_retryable(exc), exc
    for exc in (OSError("connection reset"), RuntimeError("flaky")):
        assert _is_retryable(exc)
