"""Placing the plan in time and space: drafts -> `SessionSpec`s with local start times, time
zones, locations, devices, sensors and the small imperfections of real recordings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from sources.fit.synthetic import workouts
from sources.fit.synthetic.activity import Device
from sources.fit.synthetic.calendar import HOME, camps, location_on
from sources.fit.synthetic.plan import Draft, plan_week
from sources.fit.synthetic.spec import SessionSpec

FR945 = Device(product=3113, serial_number=3_312_774_106, software_version=22.20)
FR965 = Device(product=4315, serial_number=3_391_544_021, software_version=19.18)
DEVICE_CHANGE = date(2024, 3, 1)  # a new watch (with native running power) from this day
HOME_TEMPERATURE_C = (3, 4, 7, 10, 14, 17, 19, 19, 16, 12, 7, 4)
WINTER = (11, 12, 1, 2)


def _seed(seed: int, day: date, slot: int) -> int:
    return int(np.random.SeedSequence([seed, day.toordinal(), slot, 2]).generate_state(1)[0])


def _start(day: date, hour: float, zone: str) -> datetime:
    """The aware local start time (hours < 24; no session is planned in a DST gap at 02:00-03:00)."""
    minutes = min(int(round(hour * 60)), 24 * 60 - 1)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=ZoneInfo(zone))


def to_spec(draft: Draft, seed: int, slot: int) -> SessionSpec:
    """Where, when and with which sensors a drafted session is recorded."""
    rng = np.random.default_rng(_seed(seed, draft.day, slot))
    race = draft.extra.get("race")
    location = race.location if race is not None else location_on(draft.day)
    at_home = location == HOME
    in_camp = any(c.first <= draft.day <= c.last for c in camps(draft.day.year))
    hour = draft.hour
    if in_camp:
        hour = 6.25 + rng.uniform(0, 0.5) if hour < 12 else 16.5 + rng.uniform(0, 0.5)
    device = FR965 if draft.day >= DEVICE_CHANGE else FR945
    temperature = float(HOME_TEMPERATURE_C[draft.day.month - 1]) if not in_camp else 15.0
    first_camp_week = any(c.first <= draft.day < c.first + timedelta(days=7) for c in camps(draft.day.year))
    spec = SessionSpec(
        start=_start(draft.day, hour, location.timezone), segments=draft.segments, kind=draft.kind,
        location=location, device=device, power=device is FR965, seed=_seed(seed, draft.day, slot + 100),
        temperature_c=temperature + rng.normal(0, 3), title=draft.extra.get("title", draft.kind),
        hr_offset_bpm=float(rng.normal(0, 2) + (4.0 if first_camp_week else 0.0)),
    )
    if draft.kind == "cycling":
        indoor = draft.day.month in WINTER or not at_home
        minutes = rng.uniform(60, 90)
        return replace(spec, sport="cycling", sub_sport="indoor_cycling" if indoor else "road",
                       location=None if indoor else location, power=True, route="loop",
                       segments=workouts.ride(minutes * 60, 8.5 if indoor else rng.uniform(8.5, 9.8)))
    if draft.kind == "intervals":
        spec = replace(spec, sub_sport="track", route="track")
    elif race is not None and race.on_track:
        spec = replace(spec, sub_sport="track", route="oval", autolap_m=None if race.distance == "10k" else 1000.0)
    elif draft.kind == "long" and draft.extra.get("trail"):
        spec = replace(spec, sub_sport="trail", location=replace(location, hilliness_m=35.0), route="out_and_back")
    elif draft.kind == "easy":
        if at_home and draft.hour >= 12 and draft.day.month in WINTER and rng.random() < 0.2:
            return replace(spec, kind="treadmill", sub_sport="treadmill", location=None, temperature_c=20.0)
        spec = replace(spec, route="out_and_back" if rng.random() < 0.4 else "loop")
        km = sum(s.distance_m or 0.0 for s in spec.segments) / 1000.0
        if at_home and km > 6 and rng.random() < 0.08:
            est_s = km * 240
            stops = tuple(sorted((float(rng.uniform(300, est_s - 300)), float(rng.uniform(45, 75)))
                                 for _ in range(int(rng.integers(1, 3)))))
            spec = replace(spec, pauses=stops)
    if rng.random() < 0.02:
        spec = replace(spec, heart_rate=False)
    elif rng.random() < 0.03:
        spec = replace(spec, hr_dropouts=((float(rng.uniform(60, 600)), float(rng.uniform(10, 40))),))
    return spec


def plan_history(start: date, end: date, seed: int = 7) -> list[SessionSpec]:
    """Every session whose local start date is within [start, end], in time order."""
    out: list[SessionSpec] = []
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        for slot, draft in enumerate(sorted(plan_week(monday, seed), key=lambda d: (d.day, d.hour))):
            if start <= draft.day <= end:
                out.append(to_spec(draft, seed, slot))
        monday += timedelta(days=7)
    return sorted(out, key=lambda s: s.start)
