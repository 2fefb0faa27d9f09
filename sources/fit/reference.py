"""Adapters from the three reference decoders to `RawMessages`.

garmin-fit-sdk, fitdecode and fitparse each read a slightly different set of real files (see
`docs/fit.md`), so `decode_fit` falls back from one to the next. Each adapter decodes every
chained FIT file of the stream on its own (the chunks found by `validate_fit`), so
`_file_index` is exact and accumulated fields / compressed timestamps restart per file as the
FIT protocol says, and maps the decoder's values into the columns of `sources.fit.raw`.

Choices that keep the adapters in agreement (tested on the shared corpus):

* garmin-fit-sdk runs with `merge_heart_rates=False` (fitparse and fitdecode do not merge
  HRM-Swim/Tri `hr` messages into records) and datetimes as raw FIT seconds.
* fitparse/fitdecode fields are named by their definition number through garmin-fit-sdk's
  (newer) profile; a field reported under a subfield name (`avg_running_cadence`,
  `garmin_product`) also fills its main field from its stored number; enum numbers the older
  profiles do not know (fitparse: sport 53) are named from garmin-fit-sdk's profile.
* Developer fields are skipped (their numbers collide with profile numbers, their names with
  profile names); among duplicate fields of one message, the last non-null value wins, as in
  garmin-fit-sdk.
* Component expansion (compressed speed/distance, compressed timestamps) is the decoder's own.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import fitdecode
import fitparse
from fitparse.records import DevFieldDefinition
from garmin_fit_sdk import Decoder, Profile, Stream

from sources.fit.model import RawMessages
from sources.fit.raw import (
    FILE_INDEX,
    MESG_NUMS,
    RAW_SCHEMAS,
    SUBFIELD_PARENTS,
    build_frames,
    coerce,
    main_value_from_raw,
)
from sources.fit.validate import FitChunk

_KIND_BY_NUM = {num: kind for kind, num in MESG_NUMS.items()}
_NAME_BY_NUM = {
    kind: {num: profile["name"] for num, profile in Profile["messages"][mesg]["fields"].items()}
    for kind, mesg in MESG_NUMS.items()
}
_DATE_COLUMNS = {
    kind: {name for name in schema if name in ("timestamp", "start_time", "time_created", "local_timestamp")}
    for kind, schema in RAW_SCHEMAS.items()
}
_FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds


class DecoderError(Exception):
    """A reference decoder could not read the stream; the message names the decoder."""


def decode_garmin(data: bytes, chunks: list[FitChunk]) -> RawMessages:
    """garmin-fit-sdk → RawMessages. Raises `DecoderError` on any decode error (CRC checked)."""
    rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RAW_SCHEMAS}
    for chunk in chunks:
        decoder = Decoder(Stream.from_byte_array(bytearray(data[chunk.offset : chunk.end])))
        messages, errors = decoder.read(
            apply_scale_and_offset=True,
            convert_datetimes_to_dates=False,
            convert_types_to_strings=True,
            enable_crc_check=True,
            expand_sub_fields=True,
            expand_components=True,
            merge_heart_rates=False,
        )
        if errors:
            raise DecoderError(f"garmin-fit-sdk: {one_line(errors[0])}")
        for kind, schema in RAW_SCHEMAS.items():
            for message in messages.get(f"{kind}_mesgs", ()):
                row: dict[str, Any] = {FILE_INDEX: chunk.index}
                for name in schema:
                    row[name] = coerce(kind, name, message.get(name))
                rows[kind].append(row)
    return build_frames(rows)


def _fitdecode_messages(stream: bytes) -> Iterator[tuple[int, Iterable[Any]]]:
    with fitdecode.FitReader(
        io.BytesIO(stream), check_crc=fitdecode.CrcCheck.RAISE, error_handling=fitdecode.ErrorHandling.RAISE
    ) as reader:
        for frame in reader:
            if frame.frame_type == fitdecode.FIT_FRAME_DATA:
                yield frame.global_mesg_num, frame.fields


def _fitparse_messages(stream: bytes) -> Iterator[tuple[int, Iterable[Any]]]:
    for message in fitparse.FitFile(stream, check_crc=True).get_messages():
        yield message.mesg_num, message.fields


def _decode_fields(
    name: str,
    messages: Callable[[bytes], Iterator[tuple[int, Iterable[Any]]]],
    is_dev: Callable[[Any], bool],
    data: bytes,
    chunks: list[FitChunk],
) -> RawMessages:
    """Shared loop of the fitdecode and fitparse adapters (same FieldData shape)."""
    rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RAW_SCHEMAS}
    for chunk in chunks:
        try:
            for mesg_num, fields in messages(data[chunk.offset : chunk.end]):
                kind = _KIND_BY_NUM.get(mesg_num)
                if kind is not None:
                    rows[kind].append(_row(kind, chunk.index, fields, is_dev))
        except Exception as error:  # noqa: BLE001 - re-raised with the decoder's name
            raise DecoderError(f"{name}: {one_line(error)}") from error
    return build_frames(rows)


def decode_fitdecode(data: bytes, chunks: list[FitChunk]) -> RawMessages:
    """fitdecode → RawMessages (CRC and format errors raise)."""
    return _decode_fields("fitdecode", _fitdecode_messages, _is_fitdecode_dev, data, chunks)


def decode_fitparse(data: bytes, chunks: list[FitChunk]) -> RawMessages:
    """fitparse → RawMessages (CRC checked)."""
    return _decode_fields("fitparse", _fitparse_messages, _is_fitparse_dev, data, chunks)


#: name → adapter, in the order `decode_fit` tries them
REFERENCE_DECODERS: dict[str, Callable[[bytes, list[FitChunk]], RawMessages]] = {
    "garmin-fit-sdk": decode_garmin,
    "fitdecode": decode_fitdecode,
    "fitparse": decode_fitparse,
}


def _is_fitparse_dev(field: Any) -> bool:
    return isinstance(field.field_def, DevFieldDefinition)


def _is_fitdecode_dev(field: Any) -> bool:
    return field.field_def is not None and bool(getattr(field.field_def, "is_dev", False))


def _row(kind: str, file_index: int, fields: Iterable[Any], is_dev: Callable[[Any], bool]) -> dict[str, Any]:
    """One message of fitparse/fitdecode (same FieldData shape) as a RawMessages row."""
    schema = RAW_SCHEMAS[kind]
    parents = SUBFIELD_PARENTS.get(kind, {})
    dates = _DATE_COLUMNS[kind]
    row: dict[str, Any] = {FILE_INDEX: file_index}
    for field in fields:
        if is_dev(field):
            continue
        name = field.name
        value: Any = field.value
        if field.field_def is not None:
            main = _NAME_BY_NUM[kind].get(field.def_num)
            if main is not None and main != name:
                if name in parents and name in schema:
                    _put(row, kind, name, value, dates)
                name, value = main, main_value_from_raw(kind, main, field.raw_value)
        if name in schema:
            _put(row, kind, name, field.raw_value if name in dates and value is not None else value, dates)
    return row


def _put(row: dict[str, Any], kind: str, name: str, value: Any, dates: set[str]) -> None:
    if name in dates and isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        value = int(aware.timestamp()) - _FIT_EPOCH
    value = coerce(kind, name, value)
    if value is not None:
        row[name] = value


def one_line(error: BaseException) -> str:
    """An exception as one line of at most 300 characters (for quarantine messages)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."
