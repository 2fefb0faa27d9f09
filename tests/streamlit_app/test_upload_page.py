"""`/upload` as AppTests (`AppTest.user` sets the identity; `file_uploader.set_value` the files):
signed out, signed in, the upload of a zip end to end in process, limits, another athlete, and a
Strava bulk export (FIT, GPX, TCX and activities.csv)."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from lake import activities, athletes, fit_files
from lake.storage import Lake
from lake.table import read
from sources.fit.synthetic import write_run
from streamlit_app import upload_jobs
from tests.pipeline.test_archive_import import archive_runs, synthetic_fits
from tests.sources.archive_builders import strava_export_zip
from tests.streamlit_app.signin_support import app_as, signed_in

PAGE = "pages/upload.py"
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def runners(two_runners) -> dict:
    """ann and bob (signed-in identities, runs, marts; signin_support.py), made once for this module."""
    return two_runners


@pytest.fixture(autouse=True)
def no_prefect_api(monkeypatch):
    """These tests run the in-process path: no Prefect API may be configured."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert upload_jobs.prefect_api_url() is None, "a Prefect profile configures an API: these tests need none"


@pytest.fixture(scope="module")
def new_runs(tmp_path_factory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("uploads")
    out = []
    for i in range(2):
        path = folder / f"u{i}.fit"
        write_run(path, datetime(2025, 4, 1 + i, 7, 0, tzinfo=OSLO) + timedelta(hours=i), 6000 + 1000 * i, seed=40 + i)
        out.append(path.read_bytes())
    return out


def archive(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


def uploader(at: AppTest):
    found = [u for u in at.file_uploader if u.label == "FIT files"]
    assert len(found) == 1, [u.label for u in at.file_uploader]
    return found[0]


def ingest_button(at: AppTest):
    found = [b for b in at.button if b.label == "Ingest"]
    assert len(found) == 1, [b.label for b in at.button]
    return found[0]


def wait_for_end(at: AppTest, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not at.success and not at.error:
        assert time.monotonic() < deadline, "the upload did not finish"
        time.sleep(0.5)
        at.run()
        assert not at.exception, [e.value for e in at.exception]


def ids_of(env: dict) -> dict[str, str]:
    registry = read(Lake.at(env["RUNLAKE_LAKE_URI"]), athletes.SPEC)
    return dict(zip(registry["handle"], registry["athlete_id"], strict=True))


def test_signed_out_visitors_get_the_sign_in_prompt_and_no_uploader(runners, monkeypatch):
    at = app_as(runners, monkeypatch, user={"is_logged_in": False}, page=PAGE)
    assert any("Sign in to see this page" in i.value for i in at.info)
    assert not at.file_uploader and not [b for b in at.button if b.label == "Ingest"]


def test_signed_in_runners_get_the_uploader_and_the_ingest_button(runners, monkeypatch):
    at = app_as(runners, monkeypatch, user=signed_in("ann-subject"), page=PAGE)
    files = uploader(at)
    assert files.accept_multiple_files and sorted(files.allowed_type) == [".csv", ".fit", ".gpx", ".gz", ".tcx", ".zip"]
    assert ingest_button(at).disabled  # nothing chosen yet


def test_an_uploaded_zip_becomes_the_signed_in_athletes_rows_with_progress_and_results(runners, monkeypatch, new_runs):
    ids = ids_of(runners)
    lake = Lake.at(runners["RUNLAKE_LAKE_URI"])
    bob_before = read(lake, activities.SPEC).filter(pl.col("athlete_id") == ids["bob"]).height
    at = app_as(runners, monkeypatch, user=signed_in("ann-subject"), page=PAGE, athlete="bob")  # the URL is ignored
    uploader(at).set_value([
        ("export.zip", archive([("2025/u0.fit", new_runs[0]), ("2025/u1.fit", new_runs[1]), ("../evil.fit", new_runs[0])]), "application/zip"),
        ("broken.fit", new_runs[0][:64], "application/octet-stream"),
    ])
    at.run()
    ingest_button(at).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("progress"), "no progress shown while the upload ran"
    assert uploader(at).disabled and ingest_button(at).disabled
    wait_for_end(at)

    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    results = dict(zip(table["file"], table["result"], strict=True))
    assert results == {
        "export.zip/2025/u0.fit": "ingested", "export.zip/2025/u1.fit": "ingested",
        "broken.fit": "quarantined", "export.zip/../evil.fit": "refused",
    }
    acts = read(lake, activities.SPEC)
    assert acts.filter(pl.col("athlete_id") == ids["ann"]).height == 4  # 2 before, 2 uploaded
    assert acts.filter(pl.col("athlete_id") == ids["bob"]).height == bob_before
    mine = read(lake, fit_files.SPEC).filter(pl.col("athlete_id") == ids["ann"])
    assert mine.filter(pl.col("file_name") == "u0.fit").height == 1

    # the same files again: duplicates, nothing new
    uploader(at).set_value([("again.zip", archive([("u0.fit", new_runs[0])]), "application/zip")])
    at.run()
    ingest_button(at).click()
    at.run()
    wait_for_end(at)
    assert dict(zip(at.dataframe[0].value["file"], at.dataframe[0].value["result"], strict=True)) == {"again.zip/u0.fit": "duplicate"}

    # /me shows the new runs at once (its caches were cleared for ann)
    at.switch_page("pages/me.py")
    at.run()
    assert at.dataframe[0].value.shape[0] == 4

    # another athlete signed in in the same browser session never sees ann's results
    at.user = signed_in("bob-subject")
    at.switch_page(PAGE)
    at.run()
    assert not at.exception and not at.success and not at.dataframe
    assert not uploader(at).disabled  # ann's running or finished job is not bob's


def test_an_upload_over_a_limit_is_refused_with_a_message_and_writes_nothing(runners, monkeypatch, new_runs):
    monkeypatch.setenv("RUNLAKE_UPLOAD_MAX_FILES", "1")
    lake = Lake.at(runners["RUNLAKE_LAKE_URI"])
    before = read(lake, fit_files.SPEC).height
    at = app_as(runners, monkeypatch, user=signed_in("bob-subject"), page=PAGE)
    uploader(at).set_value([("a.fit", new_runs[0], "application/octet-stream"), ("b.fit", new_runs[1], "application/octet-stream")])
    at.run()
    ingest_button(at).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == ["The upload holds more than 1 activity files, the most accepted at once: split it."]
    assert not at.get("progress") and read(lake, fit_files.SPEC).height == before


def test_an_upload_without_fit_files_says_so(runners, monkeypatch):
    at = app_as(runners, monkeypatch, user=signed_in("bob-subject"), page=PAGE)
    uploader(at).set_value([("notes.zip", archive([("notes.txt", b"hello")]), "application/zip")])
    at.run()
    ingest_button(at).click()
    at.run()
    assert any("No activity file" in w.value for w in at.warning)
    assert dict(zip(at.dataframe[0].value["file"], at.dataframe[0].value["result"], strict=True)) == {"notes.zip/notes.txt": "refused"}


def test_an_uploaded_strava_export_gives_names_strava_ids_and_formats(runners, monkeypatch):
    """A Strava bulk export (gzipped FIT, GPX and TCX of the same records, activities.csv) through
    the page: each file's result, and the CSV's names, Strava ids and gear on the athlete's rows."""
    ids = ids_of(runners)
    lake = Lake.at(runners["RUNLAKE_LAKE_URI"])
    export = strava_export_zip(archive_runs(synthetic_fits()))
    at = app_as(runners, monkeypatch, user=signed_in("bob-subject"), page=PAGE)
    uploader(at).set_value([("export_1.zip", export, "application/zip")])
    at.run()
    ingest_button(at).click()
    at.run()
    wait_for_end(at)
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert dict(zip(table["file"], table["result"], strict=True)) == {
        "export_1.zip/activities/9000.fit.gz": "ingested", "export_1.zip/activities/9001.gpx.gz": "ingested",
        "export_1.zip/activities/9002.tcx.gz": "ingested", "export_1.zip/profile.csv": "refused",
    }
    mine = read(lake, activities.SPEC).filter((pl.col("athlete_id") == ids["bob"]) & pl.col("strava_id").is_in([700, 701, 702]))
    assert mine.sort("strava_id").select("strava_id", "name", "source", "gear_id").rows() == [
        (700, "Run 0", "fit+strava", "Pegasus 40"), (701, "Run 1", "gpx+strava", "Pegasus 40"),
        (702, "Run 2", "tcx+strava", "Pegasus 40"),
    ]
