"""Custom Prefect events runlake emits, and the names the automations in `deployments/` match.

`runlake.activities.landed` says new activities reached the lake. The "no new activity" automation
is proactive: it fires when this event has *not* been seen for `RUNLAKE_NO_ACTIVITY_ALERT_DAYS`
days (a watch that stopped syncing, an inbox upload that broke, an expired Strava token).
"""

from __future__ import annotations

import logging

from prefect.events import emit_event

log = logging.getLogger(__name__)

ACTIVITIES_LANDED = "runlake.activities.landed"
RESOURCE_PREFIX = "runlake.athlete."


def athlete_resource(athlete_id: str) -> dict[str, str]:
    """The event resource: one per athlete, so a multi-athlete future can alert per athlete."""
    return {"prefect.resource.id": f"{RESOURCE_PREFIX}{athlete_id}", "prefect.resource.name": athlete_id}


def emit_activities_landed(athlete_id: str, new_activities: int, *, source: str) -> bool:
    """Emit `runlake.activities.landed` when `new_activities` > 0. True when an event was sent.

    Outside a Prefect run with no API configured, `emit_event` has nowhere to send and returns
    None; that is logged, not raised, because the data has landed either way.
    """
    if new_activities <= 0:
        return False
    event = emit_event(
        event=ACTIVITIES_LANDED,
        resource=athlete_resource(athlete_id),
        payload={"new_activities": int(new_activities), "source": source},
    )
    if event is None:
        log.info("no Prefect events client: %s not emitted", ACTIVITIES_LANDED)
        return False
    return True
