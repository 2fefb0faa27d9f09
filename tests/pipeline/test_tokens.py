"""API tokens (pipeline/tokens.py): made once, stored only as a salted hash, checked by a
`TokenBook`, refused with the right code when malformed, unknown, wrong, revoked or expired."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import polars as pl
import pytest

from lake import tokens as tokens_table
from lake.table import read
from pipeline.tokens import (
    SCOPES, TOKEN_PREFIX, TokenBook, TokenInfo, TokenRejected, create_token, list_tokens, revoke_token, tokens_version,
)
from runlake.errors import RunlakeError

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
ANN, BOB = "a-0123456789abcdef0123", "a-fedcba9876543210fedc"


def _rejected(book: TokenBook, presented: str, *, now: dt.datetime = NOW) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        book.check(presented, now=now)
    return caught.value


def _parts(token: str) -> tuple[str, str]:
    token_id, secret = token.removeprefix(TOKEN_PREFIX).split("_", 1)
    return token_id, secret


def test_a_created_token_checks_and_is_stored_only_as_a_salted_hmac(local_lake):
    token = create_token(local_lake, ANN, name="coach", scopes=["read:private"], expires_in_days=30, now=NOW)
    token_id, secret = _parts(token)
    assert token.startswith(TOKEN_PREFIX) and len(token_id) == 16 and int(token_id, 16) >= 0 and len(secret) == 43

    info = TokenBook.load(local_lake).check(token, now=NOW)
    assert info == TokenInfo(ANN, token_id, "coach", frozenset({"read:private"}), NOW, NOW + dt.timedelta(days=30), None)

    row = read(local_lake, tokens_table.SPEC).row(0, named=True)
    assert (row["athlete_id"], row["token_id"], row["scopes"]) == (ANN, token_id, "read:private")
    salt = bytes.fromhex(row["salt"])
    assert len(salt) == 16
    assert row["token_hash"] == hmac.new(salt, secret.encode(), hashlib.sha256).hexdigest()


def test_the_token_is_nowhere_in_the_lake_s_files(local_lake):
    token = create_token(local_lake, ANN, name="coach", scopes=["read:public"], now=NOW)
    _, secret = _parts(token)
    files = [p for p in Path(local_lake.root).rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".json" for p in files)
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data and token.encode() not in data, path
    assert secret not in repr(read(local_lake, tokens_table.SPEC).to_dicts())  # parquet pages are compressed: values too


def test_wrong_secret_unknown_id_and_malformed_strings_are_invalid(local_lake):
    token = create_token(local_lake, ANN, name="coach", scopes=["read:public"], now=NOW)
    token_id, secret = _parts(token)
    book = TokenBook.load(local_lake)
    other_secret = ("A" if secret[0] != "A" else "B") + secret[1:]
    presented = [
        f"{TOKEN_PREFIX}{token_id}_{other_secret}",  # wrong secret
        f"{TOKEN_PREFIX}{'0' * 16 if token_id != '0' * 16 else '1' * 16}_{secret}",  # unknown id
        "", "rlk_", token[len(TOKEN_PREFIX):], f"xyz_{token_id}_{secret}", token.upper(), token + "x", token[:-1],
        f"{TOKEN_PREFIX}{token_id}__{secret}", f"{TOKEN_PREFIX}_{token_id}_{secret}", f"{TOKEN_PREFIX}{token_id}_{secret}_",
        f"{TOKEN_PREFIX}{token_id}_{secret[:-1]}=", " " + token, token + "\n", token * 2, "rlk_" + "a" * 10_000_000,
    ]
    for candidate in presented:
        rejected = _rejected(book, candidate)
        assert rejected.code == "invalid_token", candidate[:80]
        assert token_id not in rejected.message and secret not in rejected.message and token_id not in str(rejected)
    assert book.check(token, now=NOW).name == "coach"


def test_revoked_and_expired_tokens_are_told_apart_only_with_the_right_secret(local_lake):
    revoked = create_token(local_lake, ANN, name="old", scopes=["read:public"], now=NOW)
    short = create_token(local_lake, ANN, name="short", scopes=["read:public"], expires_in_days=1, now=NOW)
    info = revoke_token(local_lake, ANN, "old", now=NOW + dt.timedelta(hours=1))
    assert info.name == "old" and info.revoked_at == NOW + dt.timedelta(hours=1)
    book = TokenBook.load(local_lake)

    assert _rejected(book, revoked).code == "revoked_token"
    just_before_expiry = NOW + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    assert book.check(short, now=just_before_expiry).name == "short"
    expired = _rejected(book, short, now=NOW + dt.timedelta(days=1))
    assert expired.code == "expired_token" and "2025-03-02" in expired.message
    assert _rejected(book, revoked, now=NOW + dt.timedelta(days=400)).code == "revoked_token"  # revoked wins
    token_id, secret = _parts(short)
    wrong = f"{TOKEN_PREFIX}{token_id}_{secret[::-1]}" if secret[::-1] != secret else short[:-1] + "?"
    assert _rejected(book, wrong, now=NOW + dt.timedelta(days=2)).code == "invalid_token"


def test_rejection_codes_are_the_three_known_ones():
    assert TokenRejected("expired_token", "The API token expired.").message == "The API token expired."
    with pytest.raises(ValueError, match="unknown token rejection code"):
        TokenRejected("nope", "x")


def test_read_private_implies_read_public():
    def info(*scopes: str) -> TokenInfo:
        return TokenInfo(ANN, "0" * 16, "t", frozenset(scopes), NOW, NOW, None)

    assert SCOPES == ("read:public", "read:private")
    assert info("read:private").allows("read:public") and info("read:private").allows("read:private")
    assert info("read:public").allows("read:public") and not info("read:public").allows("read:private")
    assert not info("read:private").allows("write:private") and not info("read:public").allows("")


def test_scopes_are_stored_sorted_and_unique(local_lake):
    token = create_token(local_lake, ANN, name="both", scopes=["read:public", "read:private", "read:public"], now=NOW)
    assert read(local_lake, tokens_table.SPEC)["scopes"].to_list() == ["read:private read:public"]
    assert TokenBook.load(local_lake).check(token, now=NOW).scopes == frozenset(SCOPES)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scopes": ["admin"]}, "unknown token scope 'admin'"),
    ({"scopes": ["read:public", "write:private"]}, "unknown token scope 'write:private'"),
    ({"scopes": []}, "at least one scope"),
    ({"name": ""}, "token name ''"),
    ({"name": "-coach"}, "token name '-coach'"),
    ({"name": "my coach"}, "token name 'my coach'"),
    ({"name": "c" * 65}, "is not 1-64"),
    ({"expires_in_days": 0}, "1 to 3650 days, not 0"),
    ({"expires_in_days": 3651}, "1 to 3650 days, not 3651"),
])
def test_bad_requests_are_refused_with_one_line_and_write_nothing(local_lake, kwargs, message):
    args = {"name": "coach", "scopes": ["read:public"], "expires_in_days": 365} | kwargs
    with pytest.raises(RunlakeError, match=message):
        create_token(local_lake, ANN, now=NOW, **args)
    assert tokens_version(local_lake) is None


def test_the_longest_name_and_lifetime_are_allowed(local_lake):
    token = create_token(local_lake, ANN, name="C0ach_." + "x" * 57, scopes=["read:public"], expires_in_days=3650, now=NOW)
    assert TokenBook.load(local_lake).check(token, now=NOW).expires_at == NOW + dt.timedelta(days=3650)


def test_a_live_name_is_refused_and_free_again_after_revocation_or_expiry(local_lake):
    first = create_token(local_lake, ANN, name="coach", scopes=["read:public"], expires_in_days=2, now=NOW - dt.timedelta(hours=1))
    with pytest.raises(RunlakeError, match="a live token is already named 'coach'"):
        create_token(local_lake, ANN, name="coach", scopes=["read:private"], now=NOW)
    create_token(local_lake, BOB, name="coach", scopes=["read:public"], now=NOW)  # another athlete's names are its own
    revoke_token(local_lake, ANN, "coach", now=NOW)
    second = create_token(local_lake, ANN, name="coach", scopes=["read:private"], expires_in_days=1, now=NOW)
    later = NOW + dt.timedelta(days=1)
    third = create_token(local_lake, ANN, name="coach", scopes=["read:public"], now=later)  # the second expired

    book = TokenBook.load(local_lake)
    assert _rejected(book, first, now=later).code == "revoked_token"
    assert _rejected(book, second, now=later).code == "expired_token"
    assert book.check(third, now=later).name == "coach"
    assert [t.state(later) for t in list_tokens(local_lake, ANN)] == ["live", "expired", "revoked"]
    assert revoke_token(local_lake, ANN, "coach", now=later).token_id == _parts(third)[0]
    with pytest.raises(RunlakeError, match="no live token is named 'coach'"):
        revoke_token(local_lake, ANN, "coach", now=later)
    assert [t.state(later) for t in list_tokens(local_lake, ANN)] == ["revoked", "expired", "revoked"]


def test_revoking_an_unknown_or_another_athlete_s_token_is_refused(local_lake):
    create_token(local_lake, BOB, name="coach", scopes=["read:public"], now=NOW)
    with pytest.raises(RunlakeError, match="no live token is named 'coach'"):
        revoke_token(local_lake, ANN, "coach", now=NOW)
    with pytest.raises(RunlakeError, match="no live token is named 'nothing'"):
        revoke_token(local_lake, BOB, "nothing", now=NOW)
    assert [t.revoked_at for t in list_tokens(local_lake, BOB)] == [None]


def test_list_is_the_athlete_s_tokens_newest_first_without_secrets(local_lake):
    assert list_tokens(local_lake, ANN) == []
    made = [create_token(local_lake, ANN, name=f"t{i}", scopes=["read:public"], now=NOW + dt.timedelta(minutes=i))
            for i in range(3)]
    create_token(local_lake, BOB, name="bobs", scopes=["read:private"], now=NOW)
    revoke_token(local_lake, ANN, "t1", now=NOW + dt.timedelta(hours=1))
    listed = list_tokens(local_lake, ANN)
    assert [(t.name, t.athlete_id, t.revoked_at is not None) for t in listed] == [
        ("t2", ANN, False), ("t1", ANN, True), ("t0", ANN, False)]
    text = repr(listed)
    for token in made:
        assert _parts(token)[1] not in text
    assert "salt" not in text and "hash" not in text


def test_an_athlete_s_token_is_never_another_athlete_s(local_lake):
    ann = create_token(local_lake, ANN, name="coach", scopes=["read:private"], now=NOW)
    bob = create_token(local_lake, BOB, name="coach", scopes=["read:public"], now=NOW)
    book = TokenBook.load(local_lake)
    assert book.check(ann, now=NOW).athlete_id == ANN and book.check(bob, now=NOW).athlete_id == BOB
    ann_id, ann_secret = _parts(ann)
    bob_id, bob_secret = _parts(bob)
    assert _rejected(book, f"{TOKEN_PREFIX}{bob_id}_{ann_secret}").code == "invalid_token"
    assert _rejected(book, f"{TOKEN_PREFIX}{ann_id}_{bob_secret}").code == "invalid_token"
    revoke_token(local_lake, BOB, "coach", now=NOW)
    assert TokenBook.load(local_lake).check(ann, now=NOW).athlete_id == ANN  # Bob's revocation leaves Ann's token


def test_a_book_of_a_lake_without_the_table_is_empty_and_reloads_on_a_new_version(local_lake):
    book = TokenBook.load(local_lake)
    assert book.version is None and tokens_version(local_lake) is None
    assert not (Path(local_lake.root) / tokens_table.SPEC.name).exists()  # loading wrote nothing
    token = create_token(local_lake, ANN, name="coach", scopes=["read:public"], now=NOW)
    assert _rejected(book, token).code == "invalid_token"  # a snapshot: the old book does not know it

    first = tokens_version(local_lake)
    assert first is not None and first != book.version
    fresh = TokenBook.load(local_lake)
    assert fresh.version == first and fresh.check(token, now=NOW).name == "coach"
    assert tokens_version(local_lake) == first  # reading changes nothing
    revoke_token(local_lake, ANN, "coach", now=NOW)
    assert tokens_version(local_lake) == first + 1  # one commit per revocation
    assert fresh.check(token, now=NOW).name == "coach"  # until reloaded
    assert _rejected(TokenBook.load(local_lake), token).code == "revoked_token"


def test_times_must_be_timezone_aware(local_lake):
    with pytest.raises(ValueError, match="timezone-aware"):
        create_token(local_lake, ANN, name="coach", scopes=["read:public"], now=NOW.replace(tzinfo=None))
    assert tokens_version(local_lake) is None


def test_a_token_written_meanwhile_by_another_writer_is_seen_before_a_name_is_reused(local_lake, monkeypatch):
    """The name check and the write are one decision on one snapshot: a commit by another writer
    in between makes the write fail and the decision is taken again on a fresh read."""
    real_save = tokens_table.save_at_version
    saves = []

    def save_after_a_rival(lake, rows: pl.DataFrame, *, version):
        saves.append(rows["scopes"].to_list())
        if len(saves) == 1:  # the rival's own save (the second call) goes through
            create_token(lake, ANN, name="coach", scopes=["read:public"], now=NOW)
        real_save(lake, rows, version=version)

    monkeypatch.setattr(tokens_table, "save_at_version", save_after_a_rival)
    with pytest.raises(RunlakeError, match="a live token is already named 'coach'"):
        create_token(local_lake, ANN, name="coach", scopes=["read:private"], now=NOW)
    assert saves == [["read:private"], ["read:public"]]  # tried once, then refused on the fresh read
    assert [t.scopes for t in list_tokens(local_lake, ANN)] == [frozenset({"read:public"})]
