"""The fast decoder agrees value for value with the reference decoders, or declines.

For every file the fast path accepts, every value of file_id/session/lap/record/activity equals
garmin-fit-sdk's (run as `sources.fit.reference` runs it: per chained file, CRC checked,
`merge_heart_rates=False`, datetimes as FIT seconds). garmin-fit-sdk cannot read
compressed-timestamp files; for those every numeric value and timestamp is compared with
fitparse's. Files: the shared corpus (skipped when absent), fit-tool files in both byte orders,
and hand-built compressed-timestamp files.
"""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path
from typing import Any

import fitparse
import polars as pl
import pytest
from fit_tool.endian import Endian
from garmin_fit_sdk import Decoder, Stream

from sources.fit.fast import Unsupported, decode_all_fields, decode_messages
from sources.fit.fast_walk import walk
from tests.sources.fit.fit_samples import compressed_timestamp_file, fit_tool_activity

_REPO = Path(__file__).resolve().parents[3]
#: `<repo>/../shared/data/fit` (a clone beside ../shared); also one level up (a git worktree)
CORPUS = next(
    (p for p in (_REPO.parent / "shared/data/fit", _REPO.parent.parent / "shared/data/fit") if p.is_dir()),
    _REPO.parent / "shared/data/fit",
)
KINDS = ("file_id", "session", "lap", "record", "activity")
#: files of the corpus the fast path must accept (a regression to Unsupported is a failure)
MUST_ACCEPT = {
    "muktihari__big_activity.fit",
    "fitparse__activity-large-fenxi2-multisport.fit",
    "connectstats__track_cs_1451.fit",
    "fitparse__antfs-dump.63.fit",
    "roznet__sample.fit",
    "fitparse__coros-pace-2-cycling-misaligned-fields.fit",  # odd field outside the decoded kinds
    "jimmykane__test2.fit",  # redefines before almost every message
}


def _chunks(data: bytes) -> list[tuple[int, bytes]]:
    """The chained FIT files of a stream: (file index, bytes incl. header and CRC)."""
    chunks, pos = [], 0
    while pos < len(data):
        size = data[pos] + struct.unpack_from("<I", data, pos + 4)[0] + 2
        chunks.append((len(chunks), data[pos : pos + size]))
        pos += size
    return chunks


def garmin_rows(data: bytes) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for index, chunk in _chunks(data):
        messages, errors = Decoder(Stream.from_byte_array(bytearray(chunk))).read(
            apply_scale_and_offset=True,
            convert_datetimes_to_dates=False,
            convert_types_to_strings=True,
            enable_crc_check=True,
            expand_sub_fields=True,
            expand_components=True,
            merge_heart_rates=False,
        )
        if errors:
            raise errors[0]
        for kind in KINDS:
            for message in messages.get(f"{kind}_mesgs", []):
                row = {k: v for k, v in message.items() if isinstance(k, str) and k != "developer_fields"}
                rows[kind].append({**row, "_file_index": index})
    return rows


def _same(got: Any, expected: Any) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    if isinstance(got, str) or isinstance(expected, str):
        return isinstance(got, str) and isinstance(expected, str) and got == expected
    if isinstance(got, float) and isinstance(expected, float) and math.isnan(got) and math.isnan(expected):
        return True
    return got == expected


def _reference_value(value: Any, is_string: bool) -> Any:
    if isinstance(value, (list, tuple)):
        return None
    if is_string and isinstance(value, int):
        return str(value)
    return value


def differences(frames: dict[str, pl.DataFrame], reference: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Every value where the fast frames and the reference rows differ (both directions).

    Reference conventions mapped: arrays -> null (the fast path keeps arrays as null), enum
    numbers the profile does not name -> their string.
    """
    diffs: list[str] = []
    for kind in KINDS:
        frame, rows = frames[kind], reference[kind]
        if frame.height != len(rows):
            diffs.append(f"{kind}: {frame.height} rows vs {len(rows)}")
            continue
        names = set(frame.columns) | {name for row in rows for name in row}
        for name in sorted(names):
            is_string = frame.schema.get(name) == pl.String
            got = frame[name].to_list() if name in frame.columns else [None] * len(rows)
            expected = [_reference_value(row.get(name), is_string) for row in rows]
            if got == expected:  # the common case, compared in C
                continue
            for i, (mine, theirs) in enumerate(zip(got, expected)):
                if not _same(mine, theirs):
                    diffs.append(f"{kind}[{i}].{name}: fast {mine!r} vs reference {rows[i].get(name)!r}")
    return diffs


def fitparse_differences(data: bytes, frames: dict[str, pl.DataFrame]) -> tuple[int, list[str]]:
    """Compare with fitparse: record timestamps (raw seconds) and every same-named numeric value."""
    fit = fitparse.FitFile(io.BytesIO(data), check_crc=True)
    diffs: list[str] = []
    compared = 0
    for kind in KINDS:
        messages = list(fit.get_messages(kind))
        frame = frames[kind]
        if frame.height != len(messages):
            diffs.append(f"{kind}: {frame.height} rows vs fitparse {len(messages)}")
            continue
        columns = {name: frame[name].to_list() for name in frame.columns}
        for i, message in enumerate(messages):
            for field in message.fields:
                if field.name not in columns or frame.schema[field.name] == pl.String or field.field_def is not None and getattr(field.field_def, "dev_data_index", None) is not None:
                    continue
                expected = field.raw_value if field.name == "timestamp" else field.value
                if isinstance(expected, bool) or not isinstance(expected, (int, float)):
                    continue
                compared += 1
                if columns[field.name][i] != expected:
                    diffs.append(f"{kind}[{i}].{field.name}: fast {columns[field.name][i]!r} vs fitparse {expected!r}")
    return compared, diffs


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.glob("*.fit"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared FIT corpus absent")
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_file_agrees_with_reference(path: Path) -> None:
    data = path.read_bytes()
    try:
        frames = decode_all_fields(data)
    except Unsupported:
        assert path.name not in MUST_ACCEPT, f"{path.name} must be decoded by the fast path"
        pytest.skip("fast path declines this file (Unsupported): the reference decoders handle it")
    if walk(data).has_compressed_timestamps:
        compared, diffs = fitparse_differences(data, frames)
    else:
        reference = garmin_rows(data)
        diffs = differences(frames, reference)
        compared = sum(len(row) for rows in reference.values() for row in rows)
    assert compared > 0
    assert diffs == [], f"{len(diffs)} differing values, first: {diffs[:5]}"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared FIT corpus absent")
def test_broken_corpus_files_never_decode_silently_wrong() -> None:
    """Structurally broken files are declined (CRC mismatches are validate.py's job)."""
    for path in sorted((CORPUS / "broken").glob("*.fit")):
        if "crc-flipped" in path.name:
            continue
        with pytest.raises(Unsupported):
            decode_all_fields(path.read_bytes())


@pytest.mark.parametrize("endian", [Endian.LITTLE, Endian.BIG], ids=["little", "big"])
def test_fit_tool_file_agrees_with_garmin(endian: Endian) -> None:
    data = fit_tool_activity(300, endian=endian)
    assert {d.big_endian for d in walk(data).definitions} == {endian == Endian.BIG}
    frames = decode_all_fields(data)
    assert frames["record"].height == 300
    assert frames["record"]["heart_rate"].null_count() > 0  # invalid sentinels became null
    assert differences(frames, garmin_rows(data)) == []


def test_chained_fit_tool_files_carry_file_index() -> None:
    data = fit_tool_activity(50) + fit_tool_activity(30, endian=Endian.BIG)
    frames = decode_all_fields(data)
    assert frames["record"]["_file_index"].to_list() == [0] * 50 + [1] * 30
    assert differences(frames, garmin_rows(data)) == []


def test_compressed_timestamps_agree_with_fitparse() -> None:
    data = compressed_timestamp_file()
    frames = decode_all_fields(data)
    records = frames["record"]
    assert records["timestamp"].null_count() == 0
    assert records["timestamp"].is_sorted()
    compared, diffs = fitparse_differences(data, frames)
    assert compared > 400
    assert diffs == []


def test_chained_compressed_files_restart_the_timestamp() -> None:
    data = compressed_timestamp_file(start=1_000_000_000) + compressed_timestamp_file(start=900_000_007, samples=50)
    frames = decode_all_fields(data)
    second = frames["record"].filter(pl.col("_file_index") == 1)["timestamp"]
    assert second[0] == 900_000_007 and second[1] == 900_000_008


def test_schema_projection_casts_like_the_reference_adapters() -> None:
    schemas = {
        "record": pl.Schema({"timestamp": pl.Int64, "heart_rate": pl.Float64, "power": pl.Float64}),
        "file_id": pl.Schema({"manufacturer": pl.String, "product": pl.Int64}),
    }
    frames = decode_messages(fit_tool_activity(20), schemas)
    assert set(frames) == {"record", "file_id"}
    assert frames["record"].schema == pl.Schema({**schemas["record"], "_file_index": pl.Int32})
    assert frames["record"]["power"].null_count() == 20
    assert frames["file_id"].row(0) == ("garmin", 3113, 0)


#: columns as `sources.fit.raw` keeps them, incl. subfields and component targets
SELECTED = {
    "file_id": pl.Schema(
        {"type": pl.String, "manufacturer": pl.String, "product": pl.Int64, "garmin_product": pl.String,
         "serial_number": pl.Int64, "time_created": pl.Int64}
    ),
    "session": pl.Schema(
        {"sport": pl.String, "start_time": pl.Int64, "total_timer_time": pl.Float64, "avg_cadence": pl.Float64,
         "avg_running_cadence": pl.Float64, "enhanced_avg_speed": pl.Float64, "message_index": pl.Int64}
    ),
    "record": pl.Schema(
        {"timestamp": pl.Int64, "position_lat": pl.Int64, "distance": pl.Float64, "enhanced_speed": pl.Float64,
         "enhanced_altitude": pl.Float64, "heart_rate": pl.Float64, "speed": pl.Float64}
    ),
}  # fmt: skip


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared FIT corpus absent")
def test_selected_columns_equal_the_full_decode() -> None:
    """Decoding only the fields some columns need gives exactly those columns of a full decode."""
    from sources.fit.fast import project

    checked = 0
    for path in corpus_files():
        data = path.read_bytes()
        try:
            full = project(decode_all_fields(data), SELECTED)
        except Unsupported:
            continue
        selected = decode_messages(data, SELECTED)
        for kind in SELECTED:
            assert selected[kind].equals(full[kind]), f"{path.name} {kind}"
        checked += 1
    assert checked > 30


@pytest.mark.parametrize(
    ("field_bytes", "reason"),
    [
        (bytes([5, 1, 0x86]), "whole number"),  # uint32 distance declared with size 1 (COROS)
        (bytes([3, 1, 0x1F]), "base type"),  # unknown base type
        (bytes([3, 1, 0x02, 3, 1, 0x02]), "twice"),  # heart_rate defined twice
    ],
)
def test_odd_record_definitions_are_declined(field_bytes: bytes, reason: str) -> None:
    from tests.sources.fit.fit_samples import fit_file

    definition = bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([len(field_bytes) // 3]) + field_bytes
    message = bytes([0x00]) + bytes(sum(field_bytes[1::3]))
    with pytest.raises(Unsupported, match=reason):
        decode_all_fields(fit_file(definition + message))
