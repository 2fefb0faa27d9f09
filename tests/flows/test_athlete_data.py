"""`runlake athlete export|erase`: one athlete's data out of the lake, whole, and then gone for good.

Three athletes share a lake (the default one, the one erased, a bystander), and one FIT file given
by two of them. Handles, ids, names and values are random-looking, so that finding none of them
in any byte of the lake and home folders after the erasure means something (checked to be found
before it).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from bench.private_history import Run
from flows.cli import app
from pipeline.steps.athlete_data import MANIFEST, SECRET_COLUMNS, export_file_name
from pipeline.athletes import resolve_athlete
from pipeline.steps.build_marts import build_marts
from lake import activities, activity_edits, athlete_profile, athletes, fit_files, overrides, privacy_marks, raw, records, registry, strava_state
from lake.storage import Lake
from lake.table import overwrite, scan, table_exists
from runlake.settings import Settings
from tests.file_texts import file_texts
from pipeline.strava_sync import archive_raw
from pipeline.tokens import create_token

TODAY = dt.date(2024, 6, 30)
DEFAULT_ID = "me-5c0e91d2b7f4a3e8c160"  # RUNLAKE_ATHLETE_ID may not take the generated a-… form


class Who:
    def __init__(self, athlete_id, handle, name, speed, length, strava_id, tag):
        self.athlete_id, self.handle, self.name = athlete_id, handle, name
        self.speed, self.length, self.strava_id, self.tag = speed, length, strava_id, tag
        self.own_sha = (tag.encode().hex() * 64)[:64]


DEFAULT = Who(DEFAULT_ID, "me", None, 3.61, 8000.0, None, "d1")
ERASED = Who("a-9f3b27c4e1d8a6051b7e", "qzx-erasee-7k4w", "Xanthippe Quorvil-Nyx", 3.4187219, 6123.457, 98765432101, "e7")
BYSTANDER = Who("a-20d7e6f1c9b3a4852e6d", "plumvoy-c3", "Ottoline Brask", 3.2, 5000.0, 55501, "c3")
EVERYONE = (DEFAULT, ERASED, BYSTANDER)
SHARED_SHA = "5a" * 32
ERASED_MARKER = "zorblatt-7713-quux"  # in the erased athlete's raw files, Strava token, inbox and API token name


def _runs(who: Who) -> list[Run]:
    start = dt.datetime(2024, 6, 10, 6, tzinfo=dt.timezone.utc)
    return [
        Run(f"act-{who.tag}-{i}", start + dt.timedelta(days=3 * i, hours=1 if who is ERASED else 0),
            lat=48.85 + 0.01 * i, lon=2.35, length_m=who.length, speed_mps=who.speed, strava_id=None)
        for i in range(2)
    ]


def _write_lake(lake: Lake, home: Path) -> None:
    acts, recs, files, synced, profiles = [], [], [], [], []
    for who in EVERYONE:
        for run in _runs(who):
            acts.append(run.activity() | {"athlete_id": who.athlete_id, "fit_sha256": who.own_sha})
            recs.append(run.records().with_columns(athlete_id=pl.lit(who.athlete_id)))
        files.append({"sha256": who.own_sha, "athlete_id": who.athlete_id, "file_name": f"{who.tag}.fit",
                      "status": "ingested", "raw_uri": raw.fit_relative_path(who.own_sha), "activities": 2})
        content = f"FIT {ERASED_MARKER}" if who is ERASED else f"FIT of {who.tag}"
        raw.archive_fit(lake, who.own_sha, content.encode())
        profiles.append({"athlete_id": who.athlete_id, "valid_from": dt.date(2024, 1, 1), "hr_max_bpm": 187 + len(profiles)})
    for who in (ERASED, BYSTANDER):  # the same file given by both
        files.append({"sha256": SHARED_SHA, "athlete_id": who.athlete_id, "file_name": "shared.fit", "status": "ingested",
                      "raw_uri": raw.fit_relative_path(SHARED_SHA), "activities": 0})
        synced.append({"strava_id": who.strava_id, "athlete_id": who.athlete_id, "status": "stored",
                       "raw_uri": archive_raw(lake, who.strava_id, {"activity": json.dumps({"name": f"{who.tag} {ERASED_MARKER if who is ERASED else ''}"}).encode()})})
        token = home / "strava" / f"{who.athlete_id}.token.json"
        token.parent.mkdir(parents=True, exist_ok=True)
        token.write_text(json.dumps({"refresh_token": f"tok-{who.tag}-{ERASED_MARKER if who is ERASED else ''}"}))
        pending = home / "inbox" / "athletes" / who.athlete_id / "pending.fit"
        pending.parent.mkdir(parents=True, exist_ok=True)
        pending.write_text(f"pending {who.tag} {ERASED_MARKER if who is ERASED else ''}")
    (home / "inbox" / "mine.fit").write_text("the default athlete's own file")
    raw.archive_fit(lake, SHARED_SHA, b"FIT shared by two athletes")

    overwrite(lake, activities.SPEC, pl.DataFrame(acts, schema_overrides=activities.SPEC.schema))
    overwrite(lake, records.SPEC, pl.concat(recs, how="diagonal_relaxed"))
    overwrite(lake, fit_files.SPEC, pl.DataFrame(files, schema_overrides=fit_files.SPEC.schema))
    overwrite(lake, strava_state.ACTIVITIES, pl.DataFrame(synced, schema_overrides=strava_state.ACTIVITIES.schema))
    overwrite(lake, athlete_profile.SPEC, pl.DataFrame(profiles, schema_overrides=athlete_profile.SPEC.schema))
    overwrite(lake, privacy_marks.SPEC, pl.DataFrame(
        [{"athlete_id": ERASED.athlete_id, "activity_id": f"act-{ERASED.tag}-1", "is_private": True, "reason": "set_private"}],
        schema_overrides=privacy_marks.SPEC.schema))
    overwrite(lake, overrides.SPEC, pl.DataFrame(  # the athletes' corrections: exported and erased with them
        [{"athlete_id": w.athlete_id, "activity_id": f"act-{w.tag}-0", "fit_sha256": w.own_sha, "session_index": 0,
          "distance_m": 5000.0, "is_race": True, "set_at": dt.datetime(2024, 6, 20, tzinfo=dt.timezone.utc)}
         for w in (ERASED, BYSTANDER)],
        schema_overrides=overrides.SPEC.schema))
    overwrite(lake, activity_edits.SPEC, pl.DataFrame(  # the athletes' merges: exported and erased with them
        [{"athlete_id": w.athlete_id, "edit_id": f"merge-{w.tag}", "role": role, "kind": "merge", "activity_id": f"act-{w.tag}-{n}",
          "set_at": dt.datetime(2024, 6, 20, tzinfo=dt.timezone.utc)}
         for w in (ERASED, BYSTANDER) for role, n in (("into", 0), ("from", 9))],  # act-…-9 does not exist: inert
        schema_overrides=activity_edits.SPEC.schema))
    overwrite(lake, athletes.SPEC, pl.DataFrame(
        [{"athlete_id": w.athlete_id, "handle": w.handle, "display_name": w.name, "public": True} for w in (ERASED, BYSTANDER)],
        schema_overrides=athletes.SPEC.schema))
    token_time = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    create_token(lake, ERASED.athlete_id, name=ERASED_MARKER, scopes=["read:private"], now=token_time)
    create_token(lake, BYSTANDER.athlete_id, name="coach", scopes=["read:public"], now=token_time)
    settings = Settings.with_overrides(athlete_id=DEFAULT_ID)
    for who in (BYSTANDER, ERASED, DEFAULT):  # the default last: the public layer is its own
        handle = None if who is DEFAULT else who.handle
        build_marts(lake, resolve_athlete(lake, settings, handle).settings, today=TODAY)


@pytest.fixture(scope="module")
def built_home(tmp_path_factory) -> Path:
    """A home with its lake, built once (three marts builds); each test works on a copy."""
    home = tmp_path_factory.mktemp("built") / "home"
    with pytest.MonkeyPatch.context() as mp:  # the function-scoped isolation has not run yet
        for name in list(os.environ):
            if name.startswith(("RUNLAKE_", "AWS_")):
                mp.delenv(name)
        mp.setenv("RUNLAKE_HOME", str(home))
        _write_lake(Lake.at(str(home / "lake")), home)
    return home


@pytest.fixture
def lake_dir(built_home, tmp_path, monkeypatch) -> tuple[Lake, Path]:
    home = tmp_path / "home"
    shutil.copytree(built_home, home)  # a lake is movable: tables store relative paths
    monkeypatch.setenv("RUNLAKE_HOME", str(home))
    monkeypatch.setenv("RUNLAKE_ATHLETE_ID", DEFAULT_ID)
    return Lake.at(str(home / "lake")), home


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def _rows(lake: Lake, athlete_id: str) -> dict[str, int]:
    return {spec.name: scan(lake, spec).filter(pl.col("athlete_id") == athlete_id).select(pl.len()).collect().item()
            for spec in registry.PRIVATE}


# --- export ------------------------------------------------------------------------------------------


def _zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_export_holds_every_row_and_raw_file_of_the_athlete(lake_dir, tmp_path):
    lake, _ = lake_dir
    out = tmp_path / "export.zip"
    result = run("athlete", "export", ERASED.handle, "--out", str(out))
    assert result.exit_code == 0, result.output
    files = _zip(out)
    manifest = json.loads(files[MANIFEST])

    mine = ["raw/fit/" + ERASED.own_sha[:2] + f"/{ERASED.own_sha}.fit", raw.fit_relative_path(SHARED_SHA)]
    strava = raw.list_relative(lake, f"raw/strava/{ERASED.strava_id}")
    assert len(strava) == 1
    assert set(files) == {export_file_name(s) for s in registry.OWNED} | set(mine) | set(strava) | {MANIFEST}
    for rel in mine + strava:
        assert files[rel] == raw.read_bytes(lake, rel)
    assert manifest["raw_files"] == 3
    assert manifest["athlete"] == {"handle": ERASED.handle, "athlete_id": ERASED.athlete_id, "display_name": ERASED.name}
    assert manifest["runlake_version"]

    for spec in registry.PRIVATE:
        exported = pl.read_parquet(io.BytesIO(files[export_file_name(spec)]))
        expected = scan(lake, spec).filter(pl.col("athlete_id") == ERASED.athlete_id).collect()
        expected = expected.drop(SECRET_COLUMNS & set(expected.columns))  # never exported (ciphertext)
        assert exported.sort(spec.key).equals(expected.sort(spec.key)), spec.name
        assert manifest["tables"][spec.name]["rows"] == expected.height
    assert manifest["tables"]["records"]["rows"] == sum(r.records().height for r in _runs(ERASED))
    assert manifest["tables"]["athletes"]["rows"] == 1
    assert manifest["tables"]["private/overrides"]["rows"] == 1  # the athlete's corrections go with the export
    assert manifest["tables"]["private/api_tokens"] == {"file": "private__api_tokens.parquet", "rows": 1,
                                                        "omitted_columns": ["salt", "token_hash"]}
    for spec in registry.PUBLIC:  # its own public rows (the athlete is public), nobody else's
        expected = scan(lake, spec).filter(pl.col("athlete") == ERASED.handle).collect()
        assert manifest["tables"][spec.name]["rows"] == expected.height
    assert manifest["tables"]["public/activities"]["rows"] > 0


def test_export_of_the_default_athlete_holds_the_public_layer(lake_dir, tmp_path):
    lake, _ = lake_dir
    out = tmp_path / "me.zip"
    result = run("athlete", "export", "me", "--out", str(out))
    assert result.exit_code == 0, result.output
    files = _zip(out)
    manifest = json.loads(files[MANIFEST])
    assert manifest["athlete"]["athlete_id"] == DEFAULT_ID
    assert manifest["tables"]["athletes"]["rows"] == 0  # implicit: no row
    assert manifest["tables"]["records"]["rows"] == sum(r.records().height for r in _runs(DEFAULT))
    public_activities = pl.read_parquet(io.BytesIO(files["public__activities.parquet"]))
    assert public_activities.height == 2
    assert manifest["tables"]["public/activities"]["rows"] == 2


def test_export_of_an_unknown_handle_fails_with_one_line(lake_dir, tmp_path):
    result = run("athlete", "export", "nobody-here", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 1
    assert "no athlete has the handle 'nobody-here'" in result.output
    assert not (tmp_path / "x.zip").exists()


# --- erasure -----------------------------------------------------------------------------------------


def _needles() -> list[str]:
    return [ERASED.handle, ERASED.name, ERASED.athlete_id, ERASED_MARKER, str(ERASED.strava_id), repr(ERASED.speed),
            f"act-{ERASED.tag}-0", f"act-{ERASED.tag}-1", ERASED.own_sha]


def _traces(*roots: Path) -> list[str]:
    """Every place under `roots` that holds one of the erased athlete's values: a path component,
    a file's bytes, a gzip's content, or any value of a Parquet file (its pages are compressed)."""
    found = []
    for root in roots:
        for path in root.rglob("*"):
            where = str(path.relative_to(root))
            found += [f"{where}: name has {n}" for n in _needles() if n in where]
            if not path.is_file():
                continue
            texts = file_texts(path)
            found += [f"{where}: holds {n}" for n in _needles() for text in texts if n in text]
    return found


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_erase_without_yes_refuses_and_writes_nothing(lake_dir):
    _, home = lake_dir
    before = _tree(home)
    result = run("athlete", "erase", ERASED.handle)
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert _tree(home) == before


def test_erase_leaves_no_trace_of_the_athlete_and_others_untouched(lake_dir):
    lake, home = lake_dir
    assert len(_traces(home)) > 20  # the scan finds the athlete everywhere before
    assert (Path(lake.root) / "records" / f"athlete_id={ERASED.athlete_id}").is_dir()
    others = {w.athlete_id: _rows(lake, w.athlete_id) for w in (DEFAULT, BYSTANDER)}
    def public_rows(kept: bool) -> dict[str, int]:
        mine = pl.col("athlete") == ERASED.handle
        return {s.name: scan(lake, s).filter(~mine if kept else mine).select(pl.len()).collect().item()
                for s in registry.PUBLIC}

    public = public_rows(kept=True)
    assert sum(public_rows(kept=False).values()) > 0  # the erased athlete is public: it has public rows
    assert _rows(lake, ERASED.athlete_id)["marts/daily_load"] > 0
    assert _rows(lake, ERASED.athlete_id)["private/overrides"] == 1

    result = run("athlete", "erase", ERASED.handle, "--yes")
    assert result.exit_code == 0, result.output
    assert f"records: {sum(r.records().height for r in _runs(ERASED))} rows deleted" in result.output
    assert "raw files: 2 deleted, 1 kept" in result.output

    assert _traces(home) == []
    assert {w.athlete_id: _rows(lake, w.athlete_id) for w in (DEFAULT, BYSTANDER)} == others
    assert public_rows(kept=True) == public and not any(public_rows(kept=False).values())
    assert raw.read_bytes(lake, raw.fit_relative_path(SHARED_SHA)) == b"FIT shared by two athletes"
    assert raw.list_relative(lake, f"raw/strava/{BYSTANDER.strava_id}")
    assert (home / "strava" / f"{BYSTANDER.athlete_id}.token.json").is_file()
    assert (home / "inbox" / "athletes" / BYSTANDER.athlete_id / "pending.fit").is_file()
    assert (home / "inbox" / "mine.fit").is_file()
    assert run("athlete", "export", ERASED.handle, "--out", str(home.parent / "gone.zip")).exit_code == 1


def test_erasing_the_default_athlete_empties_its_rows_and_keeps_its_inbox(lake_dir):
    lake, home = lake_dir
    bystander = _rows(lake, BYSTANDER.athlete_id)
    result = run("athlete", "erase", "me", "--yes")
    assert result.exit_code == 0, result.output
    assert "is your own folder: not deleted" in result.output
    assert set(_rows(lake, DEFAULT_ID).values()) == {0}
    assert _rows(lake, BYSTANDER.athlete_id) == bystander
    for spec in registry.PUBLIC:
        assert table_exists(lake, spec)
        assert scan(lake, spec).filter(pl.col("athlete") == "me").select(pl.len()).collect().item() == 0, spec.name
    assert not (Path(lake.root) / "records" / f"athlete_id={DEFAULT_ID}").exists()
    assert (home / "inbox" / "mine.fit").is_file()
    assert not Path(lake.uri(raw.fit_relative_path(DEFAULT.own_sha))).exists()


def test_an_erasure_killed_after_its_deletes_is_finished_by_running_it_again(lake_dir, monkeypatch):
    """Killed after every delete (the registry row's included), before the history purge: the
    re-run still finds the athlete (its mark under `_meta/erasing`) and finishes the erasure."""
    from pipeline.steps import athlete_data

    lake, home = lake_dir
    purge = athlete_data.purge_history

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(athlete_data, "purge_history", killed)
    with pytest.raises(KeyboardInterrupt):
        athlete_data.erase_athlete(lake, Settings(), ERASED.handle)
    assert scan(lake, athletes.SPEC).filter(pl.col("handle") == ERASED.handle).collect().is_empty()
    assert set(_rows(lake, ERASED.athlete_id).values()) == {0}
    assert _traces(home) != []  # the history and the mark still hold the athlete

    monkeypatch.setattr(athlete_data, "purge_history", purge)
    result = run("athlete", "erase", ERASED.handle, "--yes")
    assert result.exit_code == 0, result.output
    assert _traces(home) == []
    assert raw.list_relative(lake, athlete_data.ERASING_PREFIX) == []
    assert run("athlete", "erase", ERASED.handle, "--yes").exit_code == 1  # now it is unknown
