"""The response shapes, for the OpenAPI schema (`/openapi.json`) and its examples.

Answers are encoded once per snapshot (`api.encode`), not through these models; the tests check
that every answer fits them (schemathesis' response conformance and tests/api). Units are in the
names: `_m` metres, `_s` seconds, `_bpm`, `_s_per_km`; dates are the athlete's local dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


def _example(**values) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [values]})


class Error(BaseModel):
    model_config = _example(error="invalid_request", message="from: 2025-02-30 is not a date (YYYY-MM-DD)")
    error: str = Field(description="machine-readable code: invalid_request, missing_token, invalid_token, "
                                   "expired_token, revoked_token, insufficient_scope, not_found, rate_limited, not_ready")
    message: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="path and query of the next page, relative to the server root; null on the last page")


class Zones(BaseModel):
    time_z1_s: float | None = None
    time_z2_s: float | None = None
    time_z3_s: float | None = None
    time_z4_s: float | None = None
    time_z5_s: float | None = None


class WeekContext(BaseModel):
    week_start: dt.date = Field(description="Monday of the day's local week")
    distance_m: float | None = None
    duration_s: float | None = None
    runs: int | None = None
    activities: int | None = None
    longest_run_m: float | None = None
    trimp: float | None = None
    monotony: float | None = None
    strain: float | None = None


class Day(Zones):
    model_config = _example(
        date="2025-03-10", distance_m=16120.0, duration_s=4380.0, runs=2, activities=2, trimp=142.7,
        trimp_estimated=False, ctl=88.4, atl=104.9, tsb=-14.1, acwr=1.12, acwr_uncoupled=1.18,
        time_z1_s=900.0, time_z2_s=2900.0, time_z3_s=480.0, time_z4_s=100.0, time_z5_s=0.0,
        week={"week_start": "2025-03-10", "distance_m": 121400.0, "duration_s": 33120.0, "runs": 11,
              "activities": 11, "longest_run_m": 30100.0, "trimp": 910.2, "monotony": 1.6, "strain": 1456.3},
    )
    date: dt.date
    distance_m: float | None = Field(None, description="running activities of the day, metres")
    duration_s: float | None = Field(None, description="moving time of the day's runs, seconds")
    runs: int | None = None
    activities: int | None = None
    trimp: float | None = Field(None, description="Banister TRIMP of every activity of the day")
    trimp_estimated: bool | None = None
    ctl: float | None = Field(None, description="chronic training load (42-day)")
    atl: float | None = Field(None, description="acute training load (7-day)")
    tsb: float | None = Field(None, description="training stress balance: yesterday's ctl - atl")
    acwr: float | None = Field(None, description="acute:chronic workload ratio (7 / 28 days, coupled)")
    acwr_uncoupled: float | None = None
    week: WeekContext | None = None


class Week(Zones):
    model_config = _example(week_start="2025-03-10", distance_m=121400.0, duration_s=33120.0, runs=11, activities=11,
                            longest_run_m=30100.0, trimp=910.2, trimp_estimated=False, monotony=1.6, strain=1456.3)
    week_start: dt.date
    distance_m: float | None = None
    duration_s: float | None = None
    runs: int | None = None
    activities: int | None = None
    longest_run_m: float | None = None
    trimp: float | None = None
    trimp_estimated: bool | None = None
    monotony: float | None = None
    strain: float | None = None


_ACTIVITY = dict(
    id="pa_3f9c1d2e7b6a4c58", date="2025-03-11", sport="running", sub_sport="track", session_type="intervals",
    rep_structure="10 × 400 m, avg 61.8 s, 90 s rec", distance_m=9800.0, duration_s=2710.0, elapsed_s=3300.0,
    pace_s_per_km=276.5, gap_s_per_km=274.0, avg_hr_bpm=151.0, max_hr_bpm=184.0, ascent_m=12.0, trimp=96.3,
    trimp_estimated=False, time_z1_s=600.0, time_z2_s=1200.0, time_z3_s=500.0, time_z4_s=300.0, time_z5_s=110.0,
    efficiency_factor=1.42, aerobic_decoupling_pct=3.1,
)


class ActivityFields(Zones):
    id: str = Field(description="public_activity_id on public endpoints, activity_id on /v1/me")
    date: dt.date
    sport: str | None = None
    sub_sport: str | None = None
    session_type: str | None = Field(None, description="easy | long | intervals | tempo | race | treadmill | other")
    rep_structure: str | None = None
    distance_m: float | None = None
    duration_s: float | None = Field(None, description="moving time, seconds")
    elapsed_s: float | None = None
    pace_s_per_km: float | None = Field(None, description="moving pace")
    gap_s_per_km: float | None = Field(None, description="grade-adjusted pace (Minetti)")
    avg_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    ascent_m: float | None = None
    trimp: float | None = None
    trimp_estimated: bool | None = None
    efficiency_factor: float | None = None
    aerobic_decoupling_pct: float | None = None


class Activity(ActivityFields):
    model_config = _example(**_ACTIVITY, has_route=True, has_route_shape=False)
    has_route: bool | None = None
    has_route_shape: bool | None = None


class PrivateActivity(ActivityFields):
    model_config = _example(**(_ACTIVITY | {"id": "fit-9a8b7c6d5e4f"}), start_time="2025-03-11T06:02:11+00:00",
                            utc_offset_s=3600, source="fit", is_private=False, is_running=True,
                            trimp_method="hr_samples", reps=10)
    start_time: dt.datetime | None = Field(None, description="UTC")
    utc_offset_s: int | None = None
    source: str | None = None
    is_private: bool | None = None
    is_running: bool | None = None
    trimp_method: str | None = Field(None, description="hr_samples | avg_hr | pace | duration | excluded (load set to 0 by the athlete)")
    reps: int | None = None
    corrected_fields: str | None = Field(
        None, description="what the athlete corrected (`runlake activity set`), comma-separated: sport, distance, race, load"
    )


class ActivityEffort(BaseModel):
    effort: str
    distance_m: float | None = None
    elapsed_s: float | None = None


class PrivateActivityEffort(ActivityEffort):
    start_offset_s: float | None = Field(None, description="where the stretch starts, from the activity's start")


class ActivityDetail(Activity):
    best_efforts: list[ActivityEffort]


class Lap(BaseModel):
    lap_index: int
    start_time: dt.datetime | None = None
    start_offset_s: float | None = None
    elapsed_s: float | None = None
    moving_s: float | None = None
    distance_m: float | None = None
    avg_speed_mps: float | None = None
    avg_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    avg_cadence_spm: float | None = None
    ascent_m: float | None = None
    descent_m: float | None = None
    intensity: str | None = None
    lap_trigger: str | None = None


class Sample(BaseModel):
    seq: int
    timestamp: dt.datetime | None = None
    elapsed_s: float | None = Field(None, description="from the activity's first sample")
    lat_deg: float | None = None
    lon_deg: float | None = None
    distance_m: float | None = None
    speed_mps: float | None = None
    altitude_m: float | None = None
    hr_bpm: int | None = None
    cadence_spm: float | None = None
    power_w: int | None = None
    temperature_c: float | None = None


class PrivateActivityDetail(PrivateActivity):
    best_efforts: list[PrivateActivityEffort]
    laps: list[Lap]
    samples: list[Sample]


class BestEffort(BaseModel):
    model_config = _example(effort="5k", distance_m=5000.0, period="all", year=None, elapsed_s=842.0,
                            pace_s_per_km=168.4, activity="pa_3f9c1d2e7b6a4c58", date="2024-06-02")
    effort: str = Field(description="400m | 1k | 1mile | 3k | 5k | 10k | half | marathon")
    distance_m: float | None = None
    period: str = Field(description='"all" or a year, e.g. "2025"')
    year: int | None = None
    elapsed_s: float | None = None
    pace_s_per_km: float | None = None
    activity: str | None = Field(None, description="the activity's id (public id on public endpoints)")
    date: dt.date | None = None


class Prediction(BaseModel):
    model_config = _example(target="10k", distance_m=10000.0, method="riegel", predicted_s=1756.0, vdot=72.3,
                            basis_effort="5k", basis_elapsed_s=842.0, basis_activity="pa_3f9c1d2e7b6a4c58",
                            basis_date="2024-06-02", as_of="2025-03-31")
    target: str
    distance_m: float | None = None
    method: str = Field(description="riegel | vdot")
    predicted_s: float | None = None
    vdot: float | None = None
    basis_effort: str | None = None
    basis_elapsed_s: float | None = None
    basis_activity: str | None = None
    basis_date: dt.date | None = None
    as_of: dt.date | None = None


class Gear(BaseModel):
    model_config = _example(id="g12345", name="Pegasus 40", brand="Nike", model="Pegasus 40", source="strava",
                            distance_m=612345.0, distance_km=612.345, activities=71, runs=70, first_used="2024-05-02",
                            last_used="2025-03-29", retire_km=800.0, over_threshold=False, remaining_km=187.655,
                            retired=False, retired_at=None, is_default=False)
    id: str = Field(description="Strava's gear id, m-… for a manual entry, or the name an archive gave")
    name: str | None = None
    brand: str | None = None
    model: str | None = None
    source: str = Field(description="strava | manual | activity (named by activities only)")
    distance_m: float = Field(description="sum of distance_m of the activities worn on")
    distance_km: float
    activities: int = Field(description="activities worn on, every sport")
    runs: int = Field(description="of which running")
    first_used: dt.date | None = None
    last_used: dt.date | None = None
    retire_km: float = Field(description="retirement threshold (800 km unless set with `runlake gear add --retire-km`)")
    over_threshold: bool = Field(description="distance_km >= retire_km")
    remaining_km: float = Field(description="retire_km - distance_km, at least 0")
    retired: bool
    retired_at: dt.datetime | None = None
    is_default: bool = Field(description="worn on runs that name no gear")


class Fitness(BaseModel):
    model_config = _example(today="2025-03-31", date="2025-03-31", ctl=88.4, atl=104.9, tsb=-14.1, acwr=1.12,
                            acwr_uncoupled=1.18)
    today: dt.date = Field(description="today in the athlete's time zone")
    date: dt.date = Field(description="the latest day with values, on or before today")
    ctl: float | None = None
    atl: float | None = None
    tsb: float | None = None
    acwr: float | None = None
    acwr_uncoupled: float | None = None


class Athlete(BaseModel):
    model_config = _example(handle="me", default=True)
    handle: str
    default: bool = Field(description="whether /v1/… (without /athletes/{handle}) serves this athlete")
