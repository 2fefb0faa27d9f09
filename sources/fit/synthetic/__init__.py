"""Synthetic FIT activity files of an elite runner, for the demo, tests and benchmarks.

    from sources.fit.synthetic import generate_history, write_run, interval_segments
    paths = generate_history(Path("inbox"), years=2)                 # ~1,100 files, skips existing
    write_run(tmp / "easy.fit", datetime(2025, 3, 14, 6, 30, tzinfo=ZoneInfo("Europe/Amsterdam")))
    write_run(tmp / "track.fit", start, segments=interval_segments(6, 1000, 160, 120))
    write_run(tmp / "treadmill.fit", start, 8000, gps=False)
    write_run(tmp / "nohr.fit", start, heart_rate=False)
    tampered_run_bytes(start, lambda s: s.hr_bpm.__setitem__(10, 0))  # hostile values, for tests

Modules: `calendar` (races, camps, time zones), `plan` (weeks -> drafts), `schedule` (drafts ->
`SessionSpec`s), `build` (spec -> `Activity` samples via `physiology` and `route`), `fitfile` +
`encode` (Activity -> FIT bytes, CRC from `sources.fit.validate`), `history` (a folder of files), `single` (one file).
"""

from sources.fit.synthetic.activity import Activity, Device, Lap, Samples
from sources.fit.synthetic.build import build_activity
from sources.fit.synthetic.calendar import HOME, ITEN, Location
from sources.fit.synthetic.fitfile import encode_activity
from sources.fit.synthetic.history import file_name, generate_history, history_specs
from sources.fit.synthetic.physiology import Physiology
from sources.fit.synthetic.schedule import plan_history
from sources.fit.synthetic.single import activity_bytes, ride_spec, run_bytes, run_spec, tampered_run_bytes, write_run
from sources.fit.synthetic.spec import Segment, SessionSpec
from sources.fit.synthetic.workouts import interval_segments

__all__ = [
    "Activity", "Device", "HOME", "ITEN", "Lap", "Location", "Physiology", "Samples", "Segment", "SessionSpec",
    "activity_bytes", "build_activity", "encode_activity", "file_name", "generate_history", "history_specs",
    "interval_segments", "plan_history", "ride_spec", "run_bytes", "run_spec", "tampered_run_bytes", "write_run",
]
