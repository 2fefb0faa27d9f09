"""The training plan: every session of every week, as `SessionSpec`s (pure data, no I/O).

A week's shape depends on its phase (see `calendar.phase`): base and build weeks are 140-180 km
with doubles on most days (easy AM + PM), a track session on Tuesday, a tempo run on Thursday,
fartlek or easy on Saturday, a long run on Sunday and a rest day on some Fridays; taper weeks
shrink; recovery weeks after a marathon have rest days and single easy runs. Races replace the
day's session, the day before a race is a short shake-out. A few PM runs in winter are on the
treadmill, a few sessions a month are rides, some easy runs stop at traffic lights (timer
paused), a few have HR dropouts or no HR at all, and New Year's Eve has a run across midnight.

Randomness is drawn per week and per day from (seed, date), so a day's sessions do not depend
on how long the generated history is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from sources.fit.synthetic import workouts
from sources.fit.synthetic.calendar import RACE_DISTANCE_M, phase, race_on
from sources.fit.synthetic.spec import Segment

TARGET_KM = {"base": (140.0, 158.0), "build": (155.0, 180.0)}
TAPER_KM = {2: 130.0, 1: 110.0}
RECOVERY_KM = {1: 40.0, 2: 85.0, 3: 120.0}


@dataclass
class Draft:
    """A session before easy distances are filled in and it is placed in time and space."""

    day: date
    hour: float
    kind: str
    segments: tuple[Segment, ...] = ()
    weight: float = 0.0  # share of the week's remaining easy volume (easy runs only)
    max_km: float = 22.0
    extra: dict = field(default_factory=dict)


def _form(day: date, week_phase: str) -> float:
    """Pace multiplier: slower in base and after marathons, a little faster year on year."""
    years = np.clip(2026 - day.year, -5, 12)
    by_phase = {"base": 1.03, "build": 1.01, "taper": 1.0, "race": 1.0, "recovery": 1.06}[week_phase]
    return float(by_phase * (1.0 + 0.004 * years))


def _segments_km(segments: tuple[Segment, ...]) -> float:
    total = 0.0
    for seg in segments:
        if seg.distance_m is not None:
            total += seg.distance_m
        elif seg.pace_s_per_km:
            total += (seg.duration_s or 0.0) * 1000.0 / seg.pace_s_per_km
    return total / 1000.0


def _race_day(day: date, rng: np.random.Generator, form: float) -> list[Draft]:
    race = race_on(day)
    assert race is not None
    segs = workouts.race(race.distance, RACE_DISTANCE_M[race.distance], form * 0.99, rng)
    drafts = [Draft(day, race.start_hour, "race", segs, extra={"race": race})]
    if race.start_hour >= 18:  # evening track race: shake-out in the morning
        drafts.append(Draft(day, 8.5 + rng.uniform(0, 1), "easy", workouts.easy(5000.0, 260.0 * form)))
    return drafts


def _normal_day(day: date, week_phase: str, weeks: int, rng: np.random.Generator, form: float,
                raced_this_week: bool) -> list[Draft]:
    wd = day.weekday()
    am = 7.0 + rng.uniform(0, 1.25)
    pm = 17.0 + rng.uniform(0, 1.5)
    doubles = week_phase in ("base", "build") or (week_phase == "taper" and weeks == 2)
    easy = lambda hour, w, cap=22.0: Draft(day, hour, "easy", weight=w, max_km=cap)  # noqa: E731
    out: list[Draft] = []
    if week_phase == "recovery" and weeks == 1:
        return [] if wd in (0, 1, 3) else [easy(am, 1.0, 12.0)]
    if week_phase == "recovery" and weeks == 2:
        if wd == 4:
            return []
        return [easy(8.5, 1.6, 20.0) if wd == 6 else easy(am, 1.0, 14.0)]
    if wd == 0:
        out.append(easy(am, 1.3))
        if doubles:
            out.append(Draft(day, pm, "cycling") if rng.random() < 0.3 else easy(pm, 0.8, 12.0))
    elif wd == 1:
        if week_phase == "recovery":
            out.append(easy(am, 1.2))
        else:
            name = workouts.TRACK_SESSIONS[rng.integers(len(workouts.TRACK_SESSIONS))][0]
            out.append(Draft(day, am + 0.5, "intervals", workouts.track(name, form), extra={"title": name}))
        if doubles:
            out.append(easy(pm, 0.8, 12.0))
    elif wd == 2:
        out.append(easy(am, 1.7))
        if doubles and week_phase != "taper":
            out.append(easy(pm, 0.8, 12.0))
    elif wd == 3:
        if raced_this_week or week_phase == "recovery":
            out.append(easy(am, 1.2))
        else:
            tempo_m = {"base": 10000.0, "build": 14000.0}.get(week_phase, 8000.0)
            out.append(Draft(day, am, "tempo", workouts.tempo(tempo_m, form, rng)))
        if doubles:
            out.append(easy(pm, 0.7, 12.0))
    elif wd == 4:
        if rng.random() < {"base": 0.4, "build": 0.3}.get(week_phase, 0.5):
            if rng.random() < 0.35:
                out.append(Draft(day, pm, "cycling"))
        else:
            out.append(easy(am, 1.0, 16.0))
            if doubles and week_phase != "taper" and rng.random() < 0.6:
                out.append(easy(pm, 0.6, 10.0))
    elif wd == 5:
        if week_phase in ("base", "build") and rng.random() < 0.5:
            out.append(Draft(day, am + 1, "fartlek", workouts.fartlek(int(rng.integers(8, 13)), form)))
        else:
            out.append(easy(am + 1, 1.3))
        if doubles and rng.random() < 0.8:
            out.append(easy(pm, 0.7, 12.0))
    else:
        long_km = {"base": rng.uniform(24, 30), "build": rng.uniform(30, 38), "taper": 22.0 + 3 * (weeks - 1)}
        km = long_km.get(week_phase, 20.0)
        trail = week_phase == "base" and rng.random() < 0.2
        pace = workouts.PACE_S_PER_KM["long"] * form * (1.06 if trail else 1.0)
        out.append(Draft(day, 8.5 + rng.uniform(0, 1), "long", workouts.easy(km * 1000.0, pace),
                         extra={"trail": trail}))
    return out


def plan_week(monday: date, seed: int) -> list[Draft]:
    rng = np.random.default_rng([seed, monday.toordinal()])
    week_phase, weeks = phase(monday)
    form = _form(monday, week_phase)
    if week_phase in TARGET_KM:
        target = rng.uniform(*TARGET_KM[week_phase])
    else:
        target = {"taper": TAPER_KM.get(weeks, 110.0), "race": 100.0}.get(week_phase, RECOVERY_KM.get(weeks, 120.0))
    days = [monday + timedelta(days=i) for i in range(7)]
    raced = any(race_on(d) is not None for d in days)
    drafts: list[Draft] = []
    for day in days:
        day_rng = np.random.default_rng([seed, day.toordinal(), 1])
        before, after = race_on(day + timedelta(days=1)), race_on(day - timedelta(days=1))
        if race_on(day):
            drafts += _race_day(day, day_rng, form)
        elif before is not None:  # shake-out the day before a race
            drafts.append(Draft(day, 8.0 + day_rng.uniform(0, 1), "easy", workouts.easy(6000.0, 250.0 * form)))
        elif after is None or after.distance != "marathon":  # the day after a marathon is a rest day
            drafts += _normal_day(day, week_phase, weeks, day_rng, form, raced)
        if day.month == 12 and day.day == 31 and week_phase != "recovery":
            drafts = [d for d in drafts if not (d.day == day and d.hour >= 12)]
            drafts.append(Draft(day, 23 + 40 / 60, "easy", workouts.easy(8000.0, 250.0 * form)))
    fixed = sum(_segments_km(d.segments) for d in drafts if d.kind != "cycling")
    weights = sum(d.weight for d in drafts)
    easy_pace = workouts.PACE_S_PER_KM["easy"] * form
    for d in drafts:
        if d.weight:
            km = float(np.clip((target - fixed) * d.weight / weights, 5.0, d.max_km))
            d.segments = workouts.easy(round(km * 10) * 100.0, easy_pace * rng.uniform(0.96, 1.08))
    return drafts
