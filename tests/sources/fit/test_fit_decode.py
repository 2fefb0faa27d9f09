"""decode_fit end to end on synthetic files: outcomes, decoder fallback, the fast hook, fuzzing."""

from __future__ import annotations

import struct
import sys
import types
from datetime import datetime, timezone

import pytest
from fit_tool.profile.profile_type import FileType, Sport, SubSport
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.fit import reference
from sources.fit.decode import decode_fit
from sources.fit.model import BrokenFitFile, DecodedFile, NotAnActivity
from sources.fit.validate import _crc_loop, validate_fit
from tests.sources.fit.fit_builders import T0_UNIX, FileSpec, SessionSpec, build_fit, with_file_crc


@pytest.fixture(scope="module")
def run() -> bytes:
    return build_fit()


def test_synthetic_run(run: bytes) -> None:
    decoded = decode_fit(run, use_fast=False)
    assert decoded.decoder == "garmin-fit-sdk" and decoded.warnings == []
    assert decoded.identity.manufacturer == "garmin" and decoded.identity.product == "fenix6"
    assert decoded.identity.serial_number == 1234
    (only,) = decoded.sessions
    summary = only.summary
    assert summary["start_time"] == datetime.fromtimestamp(T0_UNIX, timezone.utc)
    assert summary["sport"] == "running" and summary["utc_offset_s"] == 7200
    assert summary["elapsed_s"] == 4.0 and summary["distance_m"] == pytest.approx(12.8)
    assert summary["avg_cadence_spm"] == 170.0
    assert only.records["hr_bpm"].to_list() == [140, 141, 142, 143, 144]
    assert only.records["cadence_spm"].to_list() == [171.0] * 5
    assert only.records["lat_deg"][0] == pytest.approx(47.5, abs=1e-6)
    assert only.laps.height == 1


def test_multisport_and_chained() -> None:
    spec = FileSpec(
        sessions=[
            SessionSpec(start_unix=T0_UNIX, n_records=6, laps=2),
            SessionSpec(start_unix=T0_UNIX + 5, n_records=11, sport=Sport.CYCLING, sub_sport=SubSport.ROAD),
        ]
    )
    first = build_fit(spec)
    later = build_fit(FileSpec(sessions=[SessionSpec(start_unix=T0_UNIX + 100, n_records=3)], local_offset_s=3600))
    decoded = decode_fit(first + later, use_fast=False)
    assert [s.summary["sport"] for s in decoded.sessions] == ["running", "cycling", "running"]
    assert [s.summary["session_index"] for s in decoded.sessions] == [0, 1, 2]
    # the running session's last record (T0+5) is the cycling session's start: it goes to cycling
    assert [s.records.height for s in decoded.sessions] == [5, 1 + 11, 3]
    assert [s.laps.height for s in decoded.sessions] == [2, 1, 1]
    # each session takes the local offset of the activity message of its own chained file
    assert [s.summary["utc_offset_s"] for s in decoded.sessions] == [7200, 7200, 3600]
    assert [s.summary["avg_cadence_spm"] for s in decoded.sessions] == [170.0, 85.0, 170.0]


def test_course_file_is_not_an_activity() -> None:
    course = build_fit(FileSpec(sessions=[], file_type=FileType.COURSE))
    with pytest.raises(NotAnActivity, match="^course file: no activity session$"):
        decode_fit(course, use_fast=False)


def test_default_zone_when_no_local_time() -> None:
    decoded = decode_fit(build_fit(FileSpec(local_offset_s=None)), default_tz="America/New_York", use_fast=False)
    assert decoded.sessions[0].summary["utc_offset_s"] == -4 * 3600  # EDT in September


def test_unknown_zone_is_a_configuration_error(run: bytes) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        decode_fit(run, default_tz="Mars/Olympus")


def test_broken_bytes_are_broken() -> None:
    with pytest.raises(BrokenFitFile, match=r"^empty file \(0 bytes\)$"):
        decode_fit(b"")


def _undecodable() -> bytes:
    """Valid framing and CRCs, but a data message for a local type that was never defined."""
    data = b"\x05" + b"\x00" * 8
    header = struct.pack("<BBHI4s", 12, 0x20, 2100, len(data), b".FIT")
    return with_file_crc(header + data + b"\x00\x00")


def test_every_decoder_failing_gives_first_message() -> None:
    with pytest.raises(BrokenFitFile) as info:
        decode_fit(_undecodable(), use_fast=False)
    message = str(info.value)
    assert message.startswith("undecodable by all 3 reference decoders; first: garmin-fit-sdk: ")
    assert "\n" not in message


def test_falls_back_when_a_reference_decoder_fails(run: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data, chunks):
        raise reference.DecoderError("garmin-fit-sdk: Compressed timestamp messages are not currently supported")

    monkeypatch.setitem(reference.REFERENCE_DECODERS, "garmin-fit-sdk", refuse)
    assert decode_fit(run, use_fast=False).decoder == "fitdecode"


class _Unsupported(Exception):
    pass


def _fake_fast(monkeypatch: pytest.MonkeyPatch, decode_messages) -> None:
    module = types.ModuleType("sources.fit.fast")
    module.Unsupported = _Unsupported
    module.decode_messages = decode_messages
    monkeypatch.setitem(sys.modules, "sources.fit.fast", module)


def test_fast_decoder_is_used_first(run: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_fast(monkeypatch, lambda data: reference.decode_garmin(data, validate_fit(data)))
    decoded = decode_fit(run)
    assert decoded.decoder == "fast"
    assert decoded.sessions[0].records.equals(decode_fit(run, use_fast=False).sessions[0].records)


@pytest.mark.parametrize(
    "failure",
    [_Unsupported("compressed timestamps"), RuntimeError("bug in the fast path")],
)
def test_fast_decoder_falls_back(run: bytes, monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    def decline(data):
        raise failure

    _fake_fast(monkeypatch, decline)
    assert decode_fit(run).decoder == "garmin-fit-sdk"


def test_fast_output_that_cannot_be_normalised_falls_back(run: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_fast(monkeypatch, lambda data: {"session": "not a frame"})
    assert decode_fit(run).decoder == "garmin-fit-sdk"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupt_content_with_valid_crc_never_escapes(run: bytes, data: st.DataObject) -> None:
    """Flip bytes inside the data section, fix the CRC so the decoders really run on it."""
    corrupt = bytearray(run)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(12, len(run) - 3))
        corrupt[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(14, len(run) - 2))
        body = bytes(corrupt[:cut])
        corrupt = bytearray(body[:4] + struct.pack("<I", cut - 12) + body[8:] + b"\x00\x00")
    body = bytes(corrupt[:-2])
    candidate = body + struct.pack("<H", _crc_loop(body))
    try:
        outcome = decode_fit(candidate, use_fast=False)
    except (BrokenFitFile, NotAnActivity):
        return
    assert isinstance(outcome, DecodedFile)


@settings(max_examples=40, deadline=None)
@given(blob=st.binary(max_size=200))
def test_random_bytes_never_escape(blob: bytes) -> None:
    try:
        decode_fit(blob, use_fast=False)
    except (BrokenFitFile, NotAnActivity):
        pass
