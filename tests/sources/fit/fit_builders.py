"""Tiny valid FIT files for tests that must always run, written with fit-tool (a FIT encoder).

Plus byte-level helpers to craft broken variants (re-computing CRCs where a test needs a
structurally valid file whose content is odd).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import FileType, GarminProduct, Manufacturer, Sport, SubSport

from sources.fit.validate import _crc_loop

FIT_EPOCH_UNIX = 631065600
T0_UNIX = 1_600_000_000  # 2020-09-13T12:26:40Z


@dataclass
class SessionSpec:
    start_unix: int = T0_UNIX
    n_records: int = 5
    sport: Sport = Sport.RUNNING
    sub_sport: SubSport = SubSport.GENERIC
    cadence: int = 85  # FIT rpm (strides/min for running)
    fractional_cadence: float = 0.5
    laps: int = 1


@dataclass
class FileSpec:
    sessions: list[SessionSpec] = field(default_factory=lambda: [SessionSpec()])
    file_type: FileType = FileType.ACTIVITY
    local_offset_s: int | None = 7200  # activity.local_timestamp − timestamp; None: no local time
    serial_number: int = 1234


def build_fit(spec: FileSpec | None = None) -> bytes:
    """One FIT file: file_id, then per session its records, laps and session message, then activity."""
    spec = spec or FileSpec()
    builder = FitFileBuilder(auto_define=True)
    first = spec.sessions[0].start_unix if spec.sessions else T0_UNIX
    file_id = FileIdMessage()
    file_id.type = spec.file_type
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = GarminProduct.FENIX6.value
    file_id.serial_number = spec.serial_number
    file_id.time_created = first * 1000
    builder.add(file_id)
    last = first
    for session_spec in spec.sessions:
        last = _add_session(builder, session_spec)
    if spec.file_type == FileType.ACTIVITY and spec.sessions:
        activity = ActivityMessage()
        activity.timestamp = last * 1000
        activity.num_sessions = len(spec.sessions)
        if spec.local_offset_s is not None:
            activity.local_timestamp = last - FIT_EPOCH_UNIX + spec.local_offset_s
        builder.add(activity)
    return builder.build().to_bytes()


def _add_session(builder: FitFileBuilder, spec: SessionSpec) -> int:
    start_ms = spec.start_unix * 1000
    for i in range(spec.n_records):
        record = RecordMessage()
        record.timestamp = start_ms + i * 1000
        record.position_lat = 47.5 + i * 1e-4
        record.position_long = 8.5
        record.heart_rate = 140 + i
        record.cadence = spec.cadence
        record.fractional_cadence = spec.fractional_cadence
        record.enhanced_speed = 3.2
        record.distance = i * 3.2
        record.enhanced_altitude = 400.5
        record.power = 250
        record.temperature = 20
        builder.add(record)
    elapsed = max(spec.n_records - 1, 0)
    lap_len = elapsed / spec.laps
    for lap_index in range(spec.laps):
        lap = LapMessage()
        lap.start_time = start_ms + int(lap_index * lap_len * 1000)
        lap.timestamp = start_ms + int((lap_index + 1) * lap_len * 1000)
        lap.total_elapsed_time = lap_len
        lap.total_timer_time = lap_len
        lap.total_distance = lap_len * 3.2
        lap.avg_heart_rate = 142
        lap.avg_cadence = spec.cadence
        builder.add(lap)
    session = SessionMessage()
    session.start_time = start_ms
    session.timestamp = start_ms + elapsed * 1000
    session.total_elapsed_time = float(elapsed)
    session.total_timer_time = float(elapsed)
    session.total_distance = elapsed * 3.2
    session.sport = spec.sport
    session.sub_sport = spec.sub_sport
    session.avg_heart_rate = 142
    session.max_heart_rate = 140 + max(spec.n_records - 1, 0)
    session.avg_cadence = spec.cadence
    session.num_laps = spec.laps
    builder.add(session)
    return spec.start_unix + elapsed


def with_file_crc(data: bytes) -> bytes:
    """`data` (one FIT file) with its trailing file CRC recomputed."""
    body = data[:-2]
    return body + struct.pack("<H", _crc_loop(body))


def with_14_byte_header(data: bytes, header_crc: int | None = None) -> bytes:
    """`data` (one FIT file with a 12-byte header, as fit-tool writes) with a 14-byte header.

    The header CRC is computed unless `header_crc` is given; the file CRC is recomputed.
    """
    assert data[0] == 12
    head = bytes([14]) + data[1:12]
    crc = _crc_loop(head) if header_crc is None else header_crc
    return with_file_crc(head + struct.pack("<H", crc) + data[12:])
