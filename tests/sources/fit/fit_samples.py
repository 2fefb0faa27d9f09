"""Small FIT files built in the tests: with fit-tool, and by hand where fit-tool cannot.

fit-tool writes valid FIT with normal headers in either byte order; compressed-timestamp headers
(old Garmin FR70-style files) it cannot write, so `compressed_timestamp_file` lays out the bytes
itself (header, definitions, data messages, CRC).
"""

from __future__ import annotations

import math
import struct

from fit_tool.endian import Endian
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import FileType, Manufacturer, Sport, SubSport
from garmin_fit_sdk import CrcCalculator

UNIX_MS_2024 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def fit_tool_activity(samples: int, *, endian: Endian = Endian.LITTLE, gaps: bool = True) -> bytes:
    """A running activity of `samples` one-second records; every 7th sample lacks HR/GPS."""
    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage(endian=endian)
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = 3113
    file_id.serial_number = 3_400_000_123
    file_id.time_created = UNIX_MS_2024
    builder.add(file_id)
    distance = 0.0
    for i in range(samples):
        record = RecordMessage(endian=endian)
        record.timestamp = UNIX_MS_2024 + i * 1000
        speed = 3.2 + 0.8 * math.sin(i / 60)
        distance += speed
        record.distance = distance
        record.speed = speed
        record.altitude = 120.0 + 15 * math.sin(i / 300)
        record.cadence = 88 + (i % 5)
        if not (gaps and i % 7 == 3):
            record.heart_rate = 140 + (i % 30)
            record.position_lat = 47.3 + i * 1e-5
            record.position_long = 8.5 + i * 1e-5
        record.temperature = 18 - (i % 3)
        builder.add(record)
    end_ms = UNIX_MS_2024 + samples * 1000
    lap = LapMessage(endian=endian)
    lap.timestamp = end_ms
    lap.start_time = UNIX_MS_2024
    lap.total_elapsed_time = float(samples)
    lap.total_timer_time = float(samples)
    lap.total_distance = distance
    lap.avg_heart_rate = 150
    lap.max_heart_rate = 170
    lap.sport = Sport.RUNNING
    builder.add(lap)
    session = SessionMessage(endian=endian)
    session.timestamp = end_ms
    session.start_time = UNIX_MS_2024
    session.total_elapsed_time = float(samples)
    session.total_timer_time = float(samples)
    session.total_distance = distance
    session.sport = Sport.RUNNING
    session.sub_sport = SubSport.GENERIC
    session.avg_heart_rate = 150
    session.max_heart_rate = 170
    session.total_ascent = 40
    session.total_descent = 38
    session.total_calories = 500
    session.avg_cadence = 90
    session.avg_speed = distance / samples
    builder.add(session)
    activity = ActivityMessage(endian=endian)
    activity.timestamp = end_ms
    activity.total_timer_time = float(samples)
    activity.num_sessions = 1
    activity.local_timestamp = (end_ms // 1000) - 631_065_600 + 3600  # FIT seconds: fit-tool does not convert it
    builder.add(activity)
    return builder.build().to_bytes()


def _crc(data: bytes) -> bytes:
    return struct.pack("<H", CrcCalculator.calculate_crc(data, 0, len(data)))


def fit_file(body: bytes) -> bytes:
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += _crc(header)
    content = header + body
    return content + _crc(content)


def compressed_timestamp_file(start: int = 1_000_000_000, samples: int = 200, gap_every: int = 37) -> bytes:
    """Records with compressed-timestamp headers after one full-timestamp record.

    Local type 0: record with timestamp (253, uint32) and heart_rate; local type 1: record with
    heart_rate and distance only, sent with compressed headers (5-bit offsets, wrapping past 31,
    with a jump of 20 s every `gap_every` samples).
    """
    body = bytearray()
    # definition local 0: file_id (type enum, time_created uint32)
    body += bytes([0x40, 0, 0]) + struct.pack("<H", 0) + bytes([2, 0, 1, 0x00, 4, 4, 0x86])
    body += bytes([0x00, 4]) + struct.pack("<I", start)
    # definition local 0 again: record with timestamp + heart_rate
    body += bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([2, 253, 4, 0x86, 3, 1, 0x02])
    body += bytes([0x00]) + struct.pack("<I", start) + bytes([120])
    # definition local 1: record with heart_rate + distance (no timestamp field)
    body += bytes([0x41, 0, 0]) + struct.pack("<H", 20) + bytes([2, 3, 1, 0x02, 5, 4, 0x86])
    t = start
    for i in range(samples):
        t += 20 if i % gap_every == gap_every - 1 else 1
        hr = 0xFF if i % 11 == 5 else 120 + i % 50
        header = 0x80 | (1 << 5) | (t & 0x1F)
        body += bytes([header, hr]) + struct.pack("<I", i * 250)
    # a normal record resets the reference timestamp, then compressed ones continue from it
    t += 100
    body += bytes([0x00]) + struct.pack("<I", t) + bytes([150])
    for _ in range(40):
        t += 3
        body += bytes([0x80 | (1 << 5) | (t & 0x1F), 151]) + struct.pack("<I", 99)
    return fit_file(bytes(body))
