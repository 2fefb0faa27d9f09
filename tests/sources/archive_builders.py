"""Test helpers: GPX and TCX files written from a FIT file's decoded records (gpxpy, lxml), and a
Strava bulk-export zip of such files with its `activities.csv`."""

from __future__ import annotations

import csv
import gzip
import io
import math
import zipfile
from datetime import datetime

import gpxpy.gpx
import polars as pl
from lxml import etree

from sources.fit.decode import decode_fit

TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
TPX_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
GPXTPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"


def fit_records(fit: bytes) -> tuple[dict, pl.DataFrame]:
    """(summary, records) of a FIT file's first session."""
    session = decode_fit(fit).sessions[0]
    return session.summary, session.records


def _ok(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def gpx_from_fit(fit: bytes, *, sport: str = "running") -> bytes:
    """A GPX 1.1 track of the FIT file's records: positions, elevation, hr and cadence (per foot)."""
    summary, records = fit_records(fit)
    doc = gpxpy.gpx.GPX()
    doc.creator = "runlake test"
    doc.nsmap["gpxtpx"] = GPXTPX_NS
    track = gpxpy.gpx.GPXTrack()
    track.type = sport
    segment = gpxpy.gpx.GPXTrackSegment()
    for r in records.iter_rows(named=True):
        if not (_ok(r["lat_deg"]) and _ok(r["timestamp"])):
            continue
        point = gpxpy.gpx.GPXTrackPoint(r["lat_deg"], r["lon_deg"], elevation=r["altitude_m"], time=r["timestamp"])
        ext = etree.Element(f"{{{GPXTPX_NS}}}TrackPointExtension")
        if _ok(r["hr_bpm"]):
            etree.SubElement(ext, f"{{{GPXTPX_NS}}}hr").text = str(int(r["hr_bpm"]))
        if _ok(r["cadence_spm"]):
            etree.SubElement(ext, f"{{{GPXTPX_NS}}}cad").text = str(round(r["cadence_spm"] / 2))
        point.extensions.append(ext)
        segment.points.append(point)
    track.segments.append(segment)
    doc.tracks.append(track)
    return doc.to_xml(version="1.1").encode()


def tcx_from_fit(fit: bytes, *, sport: str = "Running") -> bytes:
    """A TCX activity of the FIT file's records and laps (timer time, distance per lap)."""
    summary, records = fit_records(fit)
    session = decode_fit(fit).sessions[0]
    root = etree.Element(f"{{{TCX_NS}}}TrainingCenterDatabase", nsmap={None: TCX_NS, "ns3": TPX_NS})
    activity = etree.SubElement(etree.SubElement(root, f"{{{TCX_NS}}}Activities"), f"{{{TCX_NS}}}Activity", Sport=sport)
    etree.SubElement(activity, f"{{{TCX_NS}}}Id").text = summary["start_time"].isoformat()
    laps = session.laps.to_dicts()
    starts = [lap["start_time"] for lap in laps] + [datetime.max.replace(tzinfo=summary["start_time"].tzinfo)]
    for i, lap in enumerate(laps):
        node = etree.SubElement(activity, f"{{{TCX_NS}}}Lap", StartTime=lap["start_time"].isoformat())
        etree.SubElement(node, f"{{{TCX_NS}}}TotalTimeSeconds").text = str(lap["moving_s"])
        etree.SubElement(node, f"{{{TCX_NS}}}DistanceMeters").text = str(lap["distance_m"])
        etree.SubElement(node, f"{{{TCX_NS}}}Intensity").text = "Active"
        etree.SubElement(node, f"{{{TCX_NS}}}TriggerMethod").text = "Manual"
        track = etree.SubElement(node, f"{{{TCX_NS}}}Track")
        mine = records.filter((pl.col("timestamp") >= starts[i]) & (pl.col("timestamp") < starts[i + 1]))
        for r in mine.iter_rows(named=True):
            point = etree.SubElement(track, f"{{{TCX_NS}}}Trackpoint")
            etree.SubElement(point, f"{{{TCX_NS}}}Time").text = r["timestamp"].isoformat()
            if _ok(r["lat_deg"]):
                pos = etree.SubElement(point, f"{{{TCX_NS}}}Position")
                etree.SubElement(pos, f"{{{TCX_NS}}}LatitudeDegrees").text = repr(r["lat_deg"])
                etree.SubElement(pos, f"{{{TCX_NS}}}LongitudeDegrees").text = repr(r["lon_deg"])
            if _ok(r["altitude_m"]):
                etree.SubElement(point, f"{{{TCX_NS}}}AltitudeMeters").text = repr(r["altitude_m"])
            if _ok(r["distance_m"]):
                etree.SubElement(point, f"{{{TCX_NS}}}DistanceMeters").text = repr(r["distance_m"])
            if _ok(r["hr_bpm"]):
                hr = etree.SubElement(point, f"{{{TCX_NS}}}HeartRateBpm")
                etree.SubElement(hr, f"{{{TCX_NS}}}Value").text = str(int(r["hr_bpm"]))
            tpx = etree.SubElement(etree.SubElement(point, f"{{{TCX_NS}}}Extensions"), f"{{{TPX_NS}}}TPX")
            if _ok(r["speed_mps"]):
                etree.SubElement(tpx, f"{{{TPX_NS}}}Speed").text = repr(r["speed_mps"])
            if _ok(r["cadence_spm"]):
                etree.SubElement(tpx, f"{{{TPX_NS}}}RunCadence").text = str(round(r["cadence_spm"] / 2))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


CSV_HEADER = ["Activity ID", "Activity Date", "Activity Name", "Activity Type", "Activity Description", "Elapsed Time",
              "Distance", "Max Heart Rate", "Relative Effort", "Commute", "Activity Private Note", "Activity Gear",
              "Filename", "Athlete Weight", "Bike Weight", "Elapsed Time", "Moving Time", "Distance"]


def strava_export_zip(files: list[tuple[int, str, bytes, dict]], *, gzip_files: bool = True) -> bytes:
    """A Strava bulk export: (Strava id, file name, bytes, CSV fields) per activity, files under
    `activities/` (gzipped like Strava's), plus `activities.csv` and a profile file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for strava_id, name, data, fields in files:
            member = f"activities/{name}" + (".gz" if gzip_files else "")
            archive.writestr(member, gzip.compress(data, mtime=0) if gzip_files else data)
            row = {"Activity ID": str(strava_id), "Filename": member, "Activity Name": fields.get("name", ""),
                   "Activity Type": fields.get("type", "Run"), "Activity Gear": fields.get("gear", ""),
                   "Activity Description": fields.get("description", "")}
            writer.writerow([row.get(column, "") for column in CSV_HEADER])
        writer.writerow(["999", "", "Manual entry", "Run"] + [""] * (len(CSV_HEADER) - 4))
        archive.writestr("activities.csv", buffer.getvalue())
        archive.writestr("profile.csv", "Athlete ID\n1\n")
    return out.getvalue()
