import pytest

from lake.storage import S3_TIMEOUTS, Lake, LakeConfigError, normalize_uri, s3_storage_options


def test_local_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert normalize_uri("lake") == str(tmp_path / "lake")
    assert normalize_uri(f"file://{tmp_path}/x") == str(tmp_path / "x")


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(LakeConfigError, match="unsupported URI scheme 's4'"):
        normalize_uri("s4://bucket/lake")


def test_s3_uri_needs_a_bucket():
    with pytest.raises(LakeConfigError, match="no bucket"):
        normalize_uri("s3:///lake")


def test_storage_options_come_from_standard_aws_variables():
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "eu-west-1"}
    opts = s3_storage_options(env)
    assert opts == {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
                    "AWS_REGION": "eu-west-1", "AWS_ALLOW_HTTP": "true", **S3_TIMEOUTS}


def test_a_stalled_s3_endpoint_fails_the_call_instead_of_hanging():
    """An endpoint that accepts connections and never answers: the Delta read gives up after the
    client timeout and its retries (here shortened), it does not wait forever."""
    import socket
    import time

    import pytest
    from deltalake import DeltaTable

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.getsockname()[1]}", "AWS_ACCESS_KEY_ID": "k",
               "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1"}
        lake = Lake.at("s3://stalled/lake", env=env, credentials={"timeout": "1s", "max_retries": "1", "retry_timeout": "5s"})
        started = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017 — object_store's error type is not public; the point is it returns
            DeltaTable(lake.uri("t"), storage_options=lake.storage_options)
        assert time.monotonic() - started < 30


def test_lake_paths_are_relative_to_the_root():
    lake = Lake.at("s3://bucket/prefix/", env={"AWS_ACCESS_KEY_ID": "AKIDSECRETVALUE"})
    assert lake.uri("raw", "fit") == "s3://bucket/prefix/raw/fit"
    assert lake.relative("s3://bucket/prefix/raw/fit/ab/x.fit") == "raw/fit/ab/x.fit"
    assert "AKIDSECRETVALUE" not in repr(lake), "credentials must not show in reprs (logs)"


def test_retries_are_bounded_and_follow_the_settings(monkeypatch):
    """Every S3 client gets a timeout and a bounded retry budget; the settings change them (polars
    takes `max_retries` as a number, s3fs/botocore counts attempts: retries + 1)."""
    from pipeline.lake_access import lake_at
    from runlake.settings import Settings

    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    default = Lake.at("s3://bucket/lake", env=env)
    assert {k: default.storage_options[k] for k in ("timeout", "max_retries", "retry_timeout")} == {
        "timeout": "120s", "max_retries": "10", "retry_timeout": "180s"}
    settings = Settings(lake_uri="s3://bucket/lake", s3_timeout_s=2.5, s3_max_retries=3, s3_retry_timeout_s=30)
    lake = lake_at(settings.lake, settings)
    assert lake.polars_options()["max_retries"] == 3 and lake.polars_options()["timeout"] == "2.5s"
    assert lake.storage_options["retry_timeout"] == "30s"
    config = lake.fsspec_options()["config_kwargs"]
    assert config["read_timeout"] == 2.5 and config["retries"] == {"max_attempts": 4, "mode": "standard"}
    assert Lake.at("/tmp/lake").polars_options() is None
