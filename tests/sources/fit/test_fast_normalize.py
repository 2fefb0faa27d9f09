"""`sources.fit.fast_normalize` (the NumPy normalisation of the usual file) equals
`normalize(decode_messages(data))` exactly: identity, warnings, session summary, and the laps and
records frames (values and dtypes), in two time zones — on every file of the shared corpus the
fast decoder reads (skipped when absent) and on the project's synthetic files, which must take
the NumPy path (else the speed-up silently disappears)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sources.fit.decode import decode_fit
from sources.fit.fast import Unsupported, decode_messages, decode_normalized
from sources.fit.model import DecodedFile
from sources.fit.normalize import normalize
from sources.fit.synthetic import interval_segments, ride_spec, run_bytes
from sources.fit.synthetic.single import activity_bytes
from sources.fit.validate import validate_fit
from tests.sources.fit.fit_samples import compressed_timestamp_file, fit_tool_activity
from tests.shared_data import shared_fit_dir_or_none

_DIR = shared_fit_dir_or_none()
CORPUS = sorted(p.name for p in _DIR.glob("*.fit")) if _DIR else []
ZONES = ("UTC", "America/Los_Angeles")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def assert_same(got: DecodedFile, want: DecodedFile) -> None:
    assert got.decoder == want.decoder == "fast"
    assert got.identity == want.identity
    assert got.warnings == want.warnings
    assert len(got.sessions) == len(want.sessions)
    for g, w in zip(got.sessions, want.sessions, strict=True):
        assert g.summary == w.summary
        assert {k: type(v) for k, v in g.summary.items()} == {k: type(v) for k, v in w.summary.items()}
        for name in ("laps", "records"):
            a, b = getattr(g, name), getattr(w, name)
            assert a.schema == b.schema, name
            assert a.equals(b, null_equal=True), name


def check(data: bytes) -> bool:
    """Compare both paths on `data`; True when the NumPy path took the file."""
    validate_fit(data)
    taken = False
    for zone in ZONES:
        try:
            got = decode_normalized(data, zone)
        except Unsupported:
            return False
        if got is None:
            continue
        taken = True
        assert_same(got, normalize(decode_messages(data), decoder="fast", default_tz=zone))
    return taken


SYNTHETIC = {
    "easy run": lambda: run_bytes(datetime(2025, 3, 14, 6, 30, tzinfo=AMSTERDAM), 8000),
    "intervals": lambda: run_bytes(datetime(2025, 7, 1, 18, 0, tzinfo=AMSTERDAM), segments=interval_segments(6, 1000, 160, 120)),
    "treadmill, no HR, pauses": lambda: run_bytes(
        datetime(2025, 1, 2, 7, 0, tzinfo=AMSTERDAM), 6000, gps=False, heart_rate=False, pauses=((600, 30),)
    ),
    "ride": lambda: activity_bytes(ride_spec(datetime(2025, 5, 5, 9, 0, tzinfo=AMSTERDAM), 1800)),
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_files_take_the_numpy_path_and_agree(name: str) -> None:
    assert check(SYNTHETIC[name]()), "the usual single-session file must take the NumPy path"


def test_fit_tool_files_agree() -> None:
    check(fit_tool_activity(2000))
    check(compressed_timestamp_file())


def test_decode_fit_uses_it() -> None:
    data = SYNTHETIC["easy run"]()
    assert_same(decode_fit(data, default_tz="Europe/Amsterdam"), normalize(decode_messages(data), decoder="fast", default_tz="Europe/Amsterdam"))


@pytest.mark.skipif(not CORPUS, reason="shared FIT corpus not present")
def test_corpus_files_agree() -> None:
    taken = 0
    for name in CORPUS:
        data = (_DIR / name).read_bytes()
        try:
            validate_fit(data)
            decode_messages(data)
        except Exception:  # noqa: BLE001 - broken or declined files are the general path's business
            continue
        taken += check(data)
    assert taken >= len(CORPUS) // 2  # most real files are the usual single-session case


@pytest.mark.skipif(not CORPUS, reason="shared FIT corpus not present")
@pytest.mark.parametrize("name", ["fitparse__activity-large-fenxi2-multisport.fit", "connectstats__track_cs_1451.fit"])
def test_multisession_files_take_the_numpy_path_and_agree(name: str) -> None:
    if name not in CORPUS:
        pytest.skip(f"{name} not in this corpus")
    assert check((_DIR / name).read_bytes())
