"""Strava `sport_type` → the FIT `sport` / `sub_sport` names the `activities` table uses.

FIT names are the lower-case enum names of the FIT profile (`running`, `cycling`, …), so a run
reads the same whether it came from a watch file or from Strava. Where Strava's `trainer` flag
says indoors, the indoor FIT sub-sport is used (a treadmill run is `running`/`treadmill`).
docs/strava.md prints this table; keep the two in step.
"""

from __future__ import annotations

#: sport_type → (sport, sub_sport)
SPORTS: dict[str, tuple[str, str]] = {
    "Run": ("running", "generic"),
    "TrailRun": ("running", "trail"),
    "VirtualRun": ("running", "virtual_activity"),
    "Walk": ("walking", "generic"),
    "Hike": ("hiking", "generic"),
    "Wheelchair": ("wheelchair_push_run", "generic"),
    "Ride": ("cycling", "generic"),
    "MountainBikeRide": ("cycling", "mountain"),
    "GravelRide": ("cycling", "gravel_cycling"),
    "VirtualRide": ("cycling", "virtual_activity"),
    "Handcycle": ("cycling", "hand_cycling"),
    "Velomobile": ("cycling", "generic"),
    "EBikeRide": ("e_biking", "generic"),
    "EMountainBikeRide": ("e_biking", "e_bike_mountain"),
    "Swim": ("swimming", "generic"),
    "Rowing": ("rowing", "generic"),
    "VirtualRow": ("rowing", "indoor_rowing"),
    "Canoeing": ("paddling", "generic"),
    "Kayaking": ("kayaking", "generic"),
    "StandUpPaddling": ("stand_up_paddleboarding", "generic"),
    "Surfing": ("surfing", "generic"),
    "Kitesurf": ("kitesurfing", "generic"),
    "Windsurf": ("windsurfing", "generic"),
    "Sail": ("sailing", "generic"),
    "AlpineSki": ("alpine_skiing", "resort"),
    "BackcountrySki": ("alpine_skiing", "backcountry"),
    "NordicSki": ("cross_country_skiing", "generic"),
    "RollerSki": ("cross_country_skiing", "generic"),
    "Snowboard": ("snowboarding", "generic"),
    "Snowshoe": ("snowshoeing", "generic"),
    "IceSkate": ("ice_skating", "generic"),
    "InlineSkate": ("inline_skating", "generic"),
    "Skateboard": ("generic", "generic"),
    "RockClimbing": ("rock_climbing", "generic"),
    "Elliptical": ("fitness_equipment", "elliptical"),
    "StairStepper": ("fitness_equipment", "stair_climbing"),
    "WeightTraining": ("training", "strength_training"),
    "Crossfit": ("training", "cardio_training"),
    "Workout": ("training", "generic"),
    "Yoga": ("training", "yoga"),
    "Pilates": ("training", "pilates"),
    "HighIntensityIntervalTraining": ("hiit", "generic"),
    "Golf": ("golf", "generic"),
    "Soccer": ("soccer", "generic"),
    "Tennis": ("tennis", "generic"),
    "Badminton": ("racket", "badminton"),
    "Pickleball": ("racket", "pickleball"),
    "Racquetball": ("racket", "racquetball"),
    "Squash": ("racket", "squash"),
    "TableTennis": ("racket", "table_tennis"),
}

#: Indoor sub-sport for a sport when Strava's `trainer` flag is set.
INDOOR: dict[str, str] = {
    "running": "treadmill",
    "walking": "indoor_walking",
    "cycling": "indoor_cycling",
    "rowing": "indoor_rowing",
}

#: Sports whose cadence Strava reports per foot (FIT does too): steps per minute are twice it.
FOOT_SPORTS = frozenset({"running", "walking", "hiking", "wheelchair_push_run"})


def fit_sport(sport_type: str | None, *, trainer: bool = False) -> tuple[str, str | None]:
    """FIT (sport, sub_sport) for a Strava sport_type (or legacy `type`); unknown → generic."""
    sport, sub_sport = SPORTS.get(sport_type or "", ("generic", None))
    if trainer and sub_sport in ("generic", None) and sport in INDOOR:
        sub_sport = INDOOR[sport]
    return sport, sub_sport
