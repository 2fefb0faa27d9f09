"""`Activity` -> FIT bytes, in the message order a Garmin watch writes.

file_id, file_creator, device_info, timer start event, then the records in time order with a lap
message right after each lap's last sample and a timer stop/start event pair around each pause,
then the final timer stop, the last lap, the session and the activity message (whose
`local_timestamp` - `timestamp` gives the UTC offset).
"""

from __future__ import annotations

import numpy as np

from sources.fit.synthetic.activity import Activity, moving_seconds, summarise
from sources.fit.synthetic.encode import FitWriter, fit_time, pack, semicircles

SPORT = {"running": 1, "cycling": 2}
SUB_SPORT = {"generic": 0, "treadmill": 1, "trail": 3, "track": 4, "indoor_cycling": 6, "road": 7}
INTENSITY = {"active": 0, "rest": 1, "warmup": 2, "cooldown": 3}
LAP_TRIGGER = {"manual": 0, "time": 1, "distance": 2, "session_end": 7}
EVENT_TIMER, EVENT_SESSION, EVENT_LAP, EVENT_ACTIVITY = 0, 8, 9, 26
START, STOP, STOP_ALL = 0, 1, 4
TIMER_MANUAL, TIMER_AUTO = 0, 1


def _record_columns(activity: Activity, t0_fit: int) -> dict:
    s = activity.samples
    cols: dict = {"timestamp": t0_fit + s.elapsed_s}
    if s.lat_deg is not None:
        cols["position_lat"] = semicircles(s.lat_deg)
        cols["position_long"] = semicircles(s.lon_deg)
    cols["distance"] = s.distance_m
    cols["enhanced_speed"] = s.speed_mps
    cols["enhanced_altitude"] = s.altitude_m
    cols["heart_rate"] = s.hr_bpm
    if s.cadence_spm is not None:
        per_foot = s.cadence_spm / 2.0 if activity.running else s.cadence_spm
        cols["cadence"] = np.floor(per_foot)
        if activity.running:
            cols["fractional_cadence"] = np.floor((per_foot - np.floor(per_foot)) * 128) / 128
    cols["power"] = s.power_w
    cols["temperature"] = s.temperature_c
    return cols


def _summary_columns(activity: Activity, start: int, end: int, t0_fit: int, summary: dict) -> dict:
    cols = {k: v for k, v in summary.items() if not k.endswith("_position_lat")}
    s = activity.samples
    cols["start_time"] = t0_fit + int(s.elapsed_s[start])
    cols["timestamp"] = t0_fit + int(s.elapsed_s[end])
    if "start_position_lat" in summary:
        lat, lon = summary["start_position_lat"]
        cols["start_position_lat"], cols["start_position_long"] = semicircles(lat), semicircles(lon)
    cols["sport"] = SPORT[activity.sport]
    cols["sub_sport"] = SUB_SPORT[activity.sub_sport]
    return cols


def _lap_columns(activity: Activity, index: int, t0_fit: int) -> dict:
    lap = activity.laps[index]
    summary = summarise(activity, lap.start, lap.end)
    cols = _summary_columns(activity, lap.start, lap.end, t0_fit, summary)
    if "end_position_lat" in summary:
        lat, lon = summary["end_position_lat"]
        cols["end_position_lat"], cols["end_position_long"] = semicircles(lat), semicircles(lon)
    cols.update(message_index=index, event=EVENT_LAP, event_type=STOP,
                intensity=INTENSITY[lap.intensity], lap_trigger=LAP_TRIGGER[lap.trigger])
    return cols


def encode_activity(activity: Activity) -> bytes:
    """The complete FIT file of `activity` (header, messages, CRCs)."""
    s = activity.samples
    if len(s) < 2:
        raise ValueError("an activity needs at least two samples")
    t0_unix = int(activity.start_utc.timestamp())
    t0_fit = int(fit_time(t0_unix))
    t_end = t0_fit + int(s.elapsed_s[-1])
    dev = activity.device
    w = FitWriter()
    w.add("file_id", {"type": 4, "manufacturer": dev.manufacturer, "product": dev.product,
                      "serial_number": dev.serial_number, "time_created": t0_fit})
    w.add("file_creator", {"software_version": round(dev.software_version * 100)})
    w.add("device_info", {"timestamp": t0_fit, "device_index": 0, "manufacturer": dev.manufacturer,
                          "serial_number": dev.serial_number, "product": dev.product,
                          "software_version": dev.software_version, "source_type": 5})

    def event(ts: int, event_type: int, trigger: int) -> None:
        w.add("event", {"timestamp": ts, "event": EVENT_TIMER, "event_type": event_type,
                        "data": trigger, "event_group": 0})

    event(t0_fit, START, TIMER_MANUAL)
    records = pack("record", _record_columns(activity, t0_fit), len(s))
    pauses = set(np.flatnonzero(np.diff(s.elapsed_s) > 1).tolist())
    lap_ends = {lap.end: i for i, lap in enumerate(activity.laps[:-1])}
    cuts = sorted(pauses | set(lap_ends)) + [len(s) - 1]
    begin = 0
    for cut in cuts:
        if cut >= begin:
            w.add_packed(records, begin, cut + 1)
            begin = cut + 1
        if cut in lap_ends:
            w.add("lap", _lap_columns(activity, lap_ends[cut], t0_fit))
        if cut in pauses:
            event(t0_fit + int(s.elapsed_s[cut]), STOP_ALL, TIMER_AUTO)
            event(t0_fit + int(s.elapsed_s[cut + 1]), START, TIMER_AUTO)
    event(t_end, STOP_ALL, TIMER_MANUAL)
    w.add("lap", _lap_columns(activity, len(activity.laps) - 1, t0_fit))
    session = _summary_columns(activity, 0, len(s) - 1, t0_fit, summarise(activity, 0, len(s) - 1))
    session.update(message_index=0, event=EVENT_SESSION, event_type=STOP, first_lap_index=0,
                   num_laps=len(activity.laps), trigger=0)
    w.add("session", session)
    w.add("activity", {"timestamp": t_end, "total_timer_time": moving_seconds(s.elapsed_s), "num_sessions": 1,
                       "type": 0, "event": EVENT_ACTIVITY, "event_type": STOP,
                       "local_timestamp": t_end + activity.utc_offset_s})
    return w.to_bytes()
