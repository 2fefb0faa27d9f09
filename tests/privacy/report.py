"""Attack report: `python -m tests.privacy.report [seed]`.

Prints, for today's anonymization (`marts.privacy.anonymize_routes`) under three settings, every
attack's error in metres for the home and the training-camp base, and the closest published
point to each. `evaluate` is what the tests use too.
"""

from __future__ import annotations

import math
import sys
import time

import polars as pl

from marts.places import route_endpoints
from marts.privacy import PrivacySettings, PrivacyZone, RoutePlan, positioned_routes, plan_routes, publish_routes
from tests.privacy.attacks import (
    closest_published_point_m,
    errors_m,
    offset_point,
    publish_naive,
    published_distance_frame,
    run_all,
)
from tests.privacy.streets import History, make_history

#: The attacker knows the neighbourhood: he looks at route ends within FOCUS_RADIUS_M of a point
#: FOCUS_OFFSET_M (east, north) off the true base (so the focus itself is not the answer).
FOCUS_OFFSET_M = (250.0, -150.0)
FOCUS_RADIUS_M = 1500.0
TARGETS = ("home", "camp")


def evaluate(history: History, routes: pl.DataFrame, distances: pl.DataFrame | None) -> dict[str, dict[str, float]]:
    """target → {attack name → error m, plus 'closest_published_point'}."""
    out = {}
    for target in TARGETS:
        truth = history.bases[target]
        focus = offset_point(truth, *FOCUS_OFFSET_M)
        estimates = run_all(routes, distances, focus=focus, radius_m=FOCUS_RADIUS_M, streets=history.streets[target])
        errs = errors_m(estimates, truth)
        errs["closest_published_point"] = closest_published_point_m(routes, truth)
        out[target] = errs
    return out


def zones_today(history: History, radius_m: float, off_m: float) -> tuple[PrivacyZone, ...]:
    """One zone per base (home, camp), its centre `off_m` east of the door."""
    return tuple(PrivacyZone(*offset_point(history.bases[b], off_m, 0.0), radius_m) for b in TARGETS)


def discs_only(fixes: pl.DataFrame, privacy: PrivacySettings) -> pl.DataFrame:
    """Today's discs and trim without the shape rule: every route positioned (what the docs
    measure to show why routes from a place must be shapes)."""
    plan = plan_routes(route_endpoints(fixes.lazy()).collect(), privacy)
    plan = RoutePlan(plan.activities.with_columns(as_shape=pl.lit(False)), plan.places, plan.discs)
    return positioned_routes(fixes.lazy(), plan).collect()


def scenarios(history: History) -> dict[str, pl.DataFrame]:
    fixes = history.fixes
    key = b"k" * 32
    return {
        "before: trim 200, no zone": publish_naive(fixes, (), 200.0),
        "before: trim 200, 400 m zone on base": publish_naive(fixes, zones_today(history, 400.0, 0.0), 200.0),
        "before: trim 200, 500 m zone 200 m off": publish_naive(fixes, zones_today(history, 500.0, 200.0), 200.0),
        "now: defaults, discs only (no shapes)": discs_only(fixes, PrivacySettings(key=key)),
        "now: 500 m zone off 200, discs only": discs_only(fixes, PrivacySettings(zones=zones_today(history, 500.0, 200.0), key=key)),
        "now: defaults": publish_routes(fixes.lazy(), PrivacySettings(key=key)).collect(),
        "now: 500 m zone 200 m off": publish_routes(
            fixes.lazy(), PrivacySettings(zones=zones_today(history, 500.0, 200.0), key=key)).collect(),
    }


def _fmt(v: float) -> str:
    return "   inf" if not math.isfinite(v) else f"{v:6.0f}"


def main(seed: int = 7) -> None:
    t0 = time.perf_counter()
    history = make_history(seed)
    distances = published_distance_frame(history.fixes)
    results = {name: evaluate(history, routes, distances) for name, routes in scenarios(history).items()}
    names = list(next(iter(results.values()))["home"])
    header = "attack".ljust(26) + "".join(f" | {s[:31]:<31}" for s in results)
    print(f"seed {seed}: {history.fixes['activity_id'].n_unique()} activities, errors in metres (home / camp)")
    print(header)
    print("-" * len(header))
    for n in names:
        if n == "closest_published_point":
            print("-" * len(header))
        row = n.ljust(26)
        for res in results.values():
            row += f" | {_fmt(res['home'][n])} / {_fmt(res['camp'][n])}".ljust(34)
        print(row)
    best = "best attack".ljust(26)
    for res in results.values():
        b = {t: min(v for k, v in res[t].items() if k != "closest_published_point") for t in TARGETS}
        best += f" | {_fmt(b['home'])} / {_fmt(b['camp'])}".ljust(34)
    print(best)
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
