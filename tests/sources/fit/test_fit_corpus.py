"""Every file of the shared real-file corpus (`<repo>/../shared/data/fit`; skipped when absent).

* good activity files: `decode_fit` sessions agree with a reference decoder run directly on the
  whole stream (garmin-fit-sdk where it reads the file, else fitdecode, else fitparse):
  start time within 1 s (exact in practice), distance within 0.01 m, elapsed time within
  0.001 s, average HR within 0.5 bpm, same session count;
* files the reference finds no timed session in: `NotAnActivity` with a reason;
* `broken/`: `BrokenFitFile` with a one-line message of a known kind;
* the three reference adapters agree value for value (raw frames and normalised output) on
  every file each of them reads, for files up to 35 KB plus a chained triathlon file (three
  pure-Python decoders per file are slow; the fast decoder has its own full agreement tests).
"""

from __future__ import annotations

import functools
from pathlib import Path

import fitdecode
import fitparse
import pytest
from garmin_fit_sdk import Decoder, Stream
from polars.testing import assert_frame_equal

from sources.fit.decode import decode_fit
from sources.fit.model import BrokenFitFile, DecodedFile, FitError, NotAnActivity
from sources.fit.normalize import normalize
from sources.fit.reference import REFERENCE_DECODERS
from sources.fit.validate import validate_fit
from tests.shared_data import shared_fit_dir_or_none

_DIR = shared_fit_dir_or_none()
GOOD = sorted(p.name for p in _DIR.glob("*.fit")) if _DIR else []
BROKEN = sorted(p.name for p in (_DIR / "broken").glob("*.fit")) if _DIR else []
SLOW_FILES = {"muktihari__big_activity.fit", "fitparse__activity-large-fenxi2-multisport.fit"}
#: non-activity files the corpus README lists (checked when present)
NOT_ACTIVITIES = {
    "fittool__old_stage_lefthand_lee.fit",
    "fittool__stagesLink_28832.fit",
    "fittool__stagesLink_25622166.fit",
    "fittool__trainerroad_744490.fit",
    "fitfileparser__2023-01-13_heartratef.fit",
    "muktihari__valid_only_contain_fileid.fit",
    "muktihari__TestEncode.fit",
}
BROKEN_PREFIXES = (
    "empty file",
    "not a FIT file",
    "truncated",
    "header CRC mismatch",
    "file CRC mismatch",
    "undecodable",
)
#: adapter agreement runs all three pure-Python decoders: small files, plus a chained one
AGREEMENT_MAX_BYTES = 35_000
AGREEMENT_EXTRA = {"fitparse__sample_mulitple_header.fit"}


def _params(names: list[str]) -> list:
    marks = lambda name: [pytest.mark.slow] if name in SLOW_FILES else []  # noqa: E731
    return [pytest.param(name, marks=marks(name), id=name) for name in names] or [
        pytest.param(None, marks=pytest.mark.skip(reason="shared FIT corpus absent"), id="no-corpus")
    ]


@functools.lru_cache(maxsize=None)
def _decoded(path: Path) -> DecodedFile | FitError:
    try:
        return decode_fit(path.read_bytes(), default_tz="UTC")
    except FitError as error:
        return error


def _reference_sessions(data: bytes) -> tuple[str, list[dict]]:
    """Session values straight from the libraries (not through our adapters)."""
    keys = ("start_time", "timestamp", "total_elapsed_time", "total_distance", "avg_heart_rate")
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read(convert_datetimes_to_dates=False)
    if not errors:
        return "garmin-fit-sdk", [{k: m.get(k) for k in keys} for m in messages.get("session_mesgs", [])]
    try:
        with fitdecode.FitReader(data, check_crc=fitdecode.CrcCheck.RAISE) as reader:
            frames = [f for f in reader if isinstance(f, fitdecode.FitDataMessage) and f.name == "session"]
        return "fitdecode", [{k: _raw(f, k) for k in keys} for f in frames]
    except Exception:  # noqa: BLE001 - fall through to the last reference
        fit = fitparse.FitFile(data, check_crc=True)
        return "fitparse", [{k: _raw(m, k) for k in keys} for m in fit.get_messages("session")]


def _raw(message, key: str):
    for field in message.fields:
        if field.name == key:
            return field.raw_value if key in ("start_time", "timestamp") else field.value
    return None


def _timed(session: dict) -> bool:
    return session["start_time"] is not None or (
        session["timestamp"] is not None and session["total_elapsed_time"] is not None
    )


@pytest.mark.parametrize("name", _params(GOOD))
def test_good_file_agrees_with_reference(shared_fit_dir: Path, name: str) -> None:
    path = shared_fit_dir / name
    reference_name, reference = _reference_sessions(path.read_bytes())
    expected = [s for s in reference if _timed(s)]
    outcome = _decoded(path)
    if not expected:
        assert isinstance(outcome, NotAnActivity), f"{name}: {reference_name} finds no timed session"
        return
    assert isinstance(outcome, DecodedFile), f"{name}: {outcome!r}"
    assert len(outcome.sessions) == len(expected)
    for ours, theirs in zip(outcome.sessions, expected, strict=True):
        summary = ours.summary
        start = theirs["start_time"]
        if start is None:
            start = theirs["timestamp"] - theirs["total_elapsed_time"]
        ours_fit_s = summary["start_time"].timestamp() - 631065600
        assert abs(ours_fit_s - start) <= 1, f"{name} start_time vs {reference_name}"
        _close(summary["distance_m"], theirs["total_distance"], 0.01, f"{name} distance")
        _close(summary["elapsed_s"], theirs["total_elapsed_time"], 0.001, f"{name} elapsed")
        _close(summary["avg_hr_bpm"], theirs["avg_heart_rate"], 0.5, f"{name} avg HR")
        assert isinstance(summary["utc_offset_s"], int)


def _close(ours, theirs, tolerance: float, what: str) -> None:
    if theirs is None:
        assert ours is None, what
    else:
        assert ours is not None and abs(ours - theirs) <= tolerance, f"{what}: {ours} vs {theirs}"


@pytest.mark.parametrize("name", _params(sorted(NOT_ACTIVITIES & set(GOOD))))
def test_non_activity_file_is_skipped_with_a_reason(shared_fit_dir: Path, name: str) -> None:
    outcome = _decoded(shared_fit_dir / name)
    assert isinstance(outcome, NotAnActivity)
    assert str(outcome) and "\n" not in str(outcome)


@pytest.mark.parametrize("name", _params(BROKEN))
def test_broken_file_is_broken_with_a_clear_line(shared_fit_dir: Path, name: str) -> None:
    outcome = _decoded(shared_fit_dir / "broken" / name)
    assert isinstance(outcome, BrokenFitFile), f"{name}: {outcome!r}"
    message = str(outcome)
    assert "\n" not in message and len(message) < 300
    assert message.startswith(BROKEN_PREFIXES), message


def test_every_good_file_has_an_outcome_and_known_quirks(shared_fit_dir: Path) -> None:
    outcomes = {name: _decoded(shared_fit_dir / name) for name in GOOD if name not in SLOW_FILES}
    broken = {name: str(o) for name, o in outcomes.items() if isinstance(o, BrokenFitFile)}
    assert broken == {}
    quirks = {
        "fitparse__coros-pace-2-cycling-misaligned-fields.fit": ("garmin-fit-sdk", "fast"),
        "fitparse__compressed-speed-distance.fit": ("fitdecode", "fast"),
        "fitparse__antfs-dump.63.fit": ("fitdecode", "fast"),
    }
    for name, decoders in quirks.items():
        if name in outcomes:
            assert outcomes[name].decoder in decoders, name
    if (suunto := outcomes.get("jimmykane__test2.fit")) is not None:
        assert suunto.sessions[0].records.height == 3913  # repeated timestamps are kept


def _agreement_files() -> list[str]:
    if _DIR is None:
        return []
    return [n for n in GOOD if (_DIR / n).stat().st_size <= AGREEMENT_MAX_BYTES or n in AGREEMENT_EXTRA]


@pytest.mark.parametrize("name", _params(_agreement_files()))
def test_reference_adapters_agree(shared_fit_dir: Path, name: str) -> None:
    data = (shared_fit_dir / name).read_bytes()
    chunks = validate_fit(data)
    results = {}
    for decoder, adapter in REFERENCE_DECODERS.items():
        try:
            results[decoder] = adapter(data, chunks)
        except Exception:  # noqa: BLE001 - a decoder that cannot read the file is not compared
            continue
    assert results, f"no reference decoder reads {name}"
    (first, raw), *others = results.items()
    for other, other_raw in others:
        for kind, frame in raw.items():
            try:
                assert_frame_equal(frame, other_raw[kind], check_exact=True)
            except AssertionError as error:
                raise AssertionError(f"{name} {kind}: {first} vs {other}: {error}") from error
        try:
            ours, theirs = normalize(raw, decoder=first), normalize(other_raw, decoder=other)
        except NotAnActivity:
            continue
        for a, b in zip(ours.sessions, theirs.sessions, strict=True):
            assert a.summary == b.summary
            assert_frame_equal(a.records, b.records, check_exact=True)
            assert_frame_equal(a.laps, b.laps, check_exact=True)
