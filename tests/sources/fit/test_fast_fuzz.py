"""Bad bytes never crash, hang or blow up the fast decoder: it decodes or raises `Unsupported`.

Inputs: random bytes, random bodies behind a valid header and CRC (so the walk goes deep into
record headers and definitions), truncations and bit flips of valid files (fit-tool and
compressed-timestamp ones). Bounds: every example within the hypothesis deadline, and the
rows returned never exceed the input size (each data message takes at least one byte).
"""

from __future__ import annotations

import struct
import time
from functools import lru_cache

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.fit.fast import Unsupported, decode_all_fields, decode_messages
from tests.sources.fit.fit_samples import fit_file, compressed_timestamp_file, fit_tool_activity

FUZZ = settings(
    max_examples=200,
    deadline=2000,  # ms per example: a hang or a quadratic blow-up fails here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
#: a single decode of these small inputs takes milliseconds; this is a generous hang bound
SECONDS_PER_INPUT = 2.0


@lru_cache(maxsize=1)
def valid_files() -> tuple[bytes, ...]:
    return (fit_tool_activity(40), compressed_timestamp_file(samples=60))


#: a column selection like the ingest's (exercises the field-selection path)
SELECTED = {
    "record": pl.Schema({"timestamp": pl.Int64, "heart_rate": pl.Float64, "enhanced_speed": pl.Float64}),
    "session": pl.Schema({"sport": pl.String, "avg_running_cadence": pl.Float64}),
}


def check(data: bytes) -> None:
    check_one(data, decode_all_fields)
    check_one(data, lambda blob: decode_messages(blob, SELECTED))


def check_one(data: bytes, decode) -> None:
    started = time.perf_counter()
    try:
        frames = decode(data)
    except Unsupported as error:
        # declined on purpose, not an internal exception re-raised as Unsupported (a bug)
        assert error.__cause__ is None, f"internal error: {error.__cause__!r}"
    else:
        assert set(frames) <= {"file_id", "session", "lap", "record", "activity"}
        assert all(isinstance(frame, pl.DataFrame) for frame in frames.values())
        assert sum(frame.height for frame in frames.values()) <= len(data)
    assert time.perf_counter() - started < SECONDS_PER_INPUT


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    check(data)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_body_behind_a_valid_header(body: bytes) -> None:
    check(fit_file(body))


@FUZZ
@given(st.data())
def test_truncated_valid_file(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(valid_files()))
    cut = data.draw(st.integers(0, len(original)))
    check(original[:cut])
    # and a truncated body whose header still claims the right size (CRC made to fit)
    check(fit_file(original[14 : 14 + max(0, cut - 16)]))


@FUZZ
@given(st.data())
def test_bit_flipped_valid_file(data: st.DataObject) -> None:
    original = bytearray(data.draw(st.sampled_from(valid_files())))
    flips = data.draw(st.lists(st.integers(0, len(original) * 8 - 1), min_size=1, max_size=8))
    for bit in flips:
        original[bit // 8] ^= 1 << (bit % 8)
    check(bytes(original))
    check(fit_file(bytes(original[14:-2])))  # the same damage behind a consistent header


def test_many_tiny_messages_stay_bounded() -> None:
    """A definition with no fields, then one-byte data messages: rows bounded by input size."""
    body = bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([0]) + bytes(200_000)
    started = time.perf_counter()
    frames = decode_all_fields(fit_file(body))
    assert frames["record"].height == 200_000
    assert time.perf_counter() - started < 10
