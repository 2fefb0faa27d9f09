"""`runlake token create|revoke|list`: the token printed once, alone on the last line of stdout;
never a token, secret, salt or hash anywhere else (listing, export, lake files); one-line errors."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.cli import app
from lake import tokens as tokens_table
from lake.storage import Lake
from lake.table import read
from pipeline.tokens import TokenBook, TokenRejected
from tests.flows.test_cli_ingest import runlake

TOKEN_RE = re.compile(r"rlk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
DEFAULT_ID = "me"  # RUNLAKE_ATHLETE_ID's default


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def created(*args: str) -> str:
    """`runlake token create ARGS`: the token, from the last line of stdout."""
    result = run("token", "create", *args)
    assert result.exit_code == 0, result.output
    *description, last = result.stdout.splitlines()
    assert TOKEN_RE.fullmatch(last), result.stdout
    assert last not in "\n".join(description)
    return last


def _secrets(lake: Lake, tokens: list[str]) -> list[str]:
    """Every string that must never be shown: the tokens, their secrets, the stored salts and hashes."""
    stored = read(lake, tokens_table.SPEC)
    assert stored.height == len(tokens)
    return tokens + [t.split("_", 2)[2] for t in tokens] + stored["salt"].to_list() + stored["token_hash"].to_list()


def test_create_describes_the_token_and_prints_it_alone_on_the_last_line(tmp_path):
    env = {"RUNLAKE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    proc = runlake("token", "create", "--name", "coach", "--scope", "read:private", "--expires-in", "30", env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    token = lines[-1]
    assert TOKEN_RE.fullmatch(token) and proc.stdout.endswith(token + "\n")
    description = "\n".join(lines[:-1])
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).date()
    assert "coach" in description and "read:private" in description and "shown this once" in description
    assert expires.isoformat() in description or (expires - dt.timedelta(days=1)).isoformat() in description  # midnight
    assert token not in description and token not in proc.stderr

    info = TokenBook.load(Lake.at(str(tmp_path / "home" / "lake"))).check(token, now=dt.datetime.now(dt.UTC))
    assert (info.athlete_id, info.name, info.scopes) == (DEFAULT_ID, "coach", frozenset({"read:private"}))


def test_defaults_and_repeated_scopes(lake):
    public = created("--name", "pub")
    both = created("--name", "both", "--scope", "read:public", "--scope", "read:private")
    book, now = TokenBook.load(lake), dt.datetime.now(dt.UTC)
    info = book.check(public, now=now)
    assert info.scopes == frozenset({"read:public"}) and (info.expires_at - info.created_at) == dt.timedelta(days=365)
    assert book.check(both, now=now).scopes == frozenset({"read:public", "read:private"})


def test_the_athlete_option_makes_the_token_that_athlete_s(lake):
    assert run("athlete", "add", "ann").exit_code == 0
    ann = created("--athlete", "ann", "--name", "coach")
    mine = created("--name", "coach")  # the same name: each athlete's names are its own
    book, now = TokenBook.load(lake), dt.datetime.now(dt.UTC)
    ann_id = book.check(ann, now=now).athlete_id
    assert ann_id.startswith("a-") and book.check(mine, now=now).athlete_id == DEFAULT_ID

    listed = run("token", "list", "--athlete", "ann")
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 1
    result = run("token", "revoke", "--athlete", "ann", "coach")
    assert result.exit_code == 0, result.output
    after = TokenBook.load(lake)
    assert after.check(mine, now=now).name == "coach"  # the default athlete's "coach" is still live
    with pytest.raises(TokenRejected, match="revoked"):
        after.check(ann, now=now)


def test_list_shows_every_token_s_state_and_never_a_secret(lake):
    tokens = [created("--name", "coach", "--scope", "read:private"), created("--name", "old"),
              created("--name", "brief", "--expires-in", "1")]
    assert run("token", "revoke", "old").exit_code == 0
    result = run("token", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["brief", "old", "coach"]  # newest first
    assert [line.split()[-1] for line in lines] == ["live", "revoked", "live"]
    assert "read:private" in lines[2] and "created" in lines[2] and "expires" in lines[2]
    for secret in _secrets(lake, tokens):
        assert secret not in result.output


def test_list_of_an_athlete_without_tokens_prints_no_line(lake):
    result = run("token", "list")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no API tokens" in result.stderr


def test_no_token_secret_salt_or_hash_in_an_export_or_the_lake_s_files(lake, tmp_path):
    tokens = [created("--name", "coach", "--scope", "read:private"), created("--name", "app")]
    assert run("token", "revoke", "app").exit_code == 0
    out = tmp_path / "me.zip"
    result = run("athlete", "export", "me", "--out", str(out))
    assert result.exit_code == 0, result.output
    needles = _secrets(lake, tokens)
    with zipfile.ZipFile(out) as zf:
        exported = pq.read_table(io.BytesIO(zf.read("private__api_tokens.parquet")))
        assert exported.num_rows == 2 and not {"salt", "token_hash"} & set(exported.column_names)
        for name in zf.namelist():
            data = zf.read(name)
            texts = [data.decode("utf-8", "replace")]
            if name.endswith(".parquet"):
                texts.append(repr(pq.read_table(io.BytesIO(data)).to_pylist()))
            for needle in needles:
                assert all(needle not in text for text in texts), (name, needle)
    for path in Path(lake.root).rglob("*"):  # the lake has the salts and hashes, never a token or secret
        if path.is_file():
            data = path.read_bytes()
            assert all(t.encode() not in data for t in needles[: 2 * len(tokens)]), path


def test_user_errors_are_one_line_and_change_nothing(lake):
    created("--name", "coach")
    version = TokenBook.load(lake).version
    for args, needle in [
        (("create", "--name", "coach"), "a live token is already named 'coach'"),
        (("create", "--name", "x", "--scope", "admin"), "unknown token scope 'admin'"),
        (("create", "--name", "bad name"), "token name 'bad name'"),
        (("create", "--name", "x", "--expires-in", "0"), "1 to 3650 days"),
        (("create", "--name", "x", "--athlete", "nobody"), "no athlete has the handle 'nobody'"),
        (("revoke", "missing"), "no live token is named 'missing'"),
    ]:
        result = run("token", *args)
        assert result.exit_code == 1, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and needle in lines[0], result.stderr
        assert result.stdout == "" and "Traceback" not in result.output
    assert TokenBook.load(lake).version == version

