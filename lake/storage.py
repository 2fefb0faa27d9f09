"""Lake location: a root URI plus the storage options deltalake and fsspec need.

This is the one place that turns configuration into deltalake storage options. A `Lake` is
passed to every table function; table paths are always relative to its root, so a lake can be
copied or moved to another folder or bucket and still works.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

SUPPORTED_SCHEMES = ("", "file", "s3")

#: Standard AWS variables forwarded to deltalake (object_store reads the same names).
_AWS_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ALLOW_HTTP",
)


class LakeConfigError(ValueError):
    """The lake URI or its credentials cannot work."""


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def normalize_uri(uri: str) -> str:
    """Absolute local path or s3://bucket/prefix without trailing slash."""
    scheme = urlparse(uri).scheme
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    if scheme not in SUPPORTED_SCHEMES:
        raise LakeConfigError(f"unsupported URI scheme {scheme!r} in {uri!r}: use a folder path or s3://bucket/prefix")
    if scheme == "s3":
        parsed = urlparse(uri)
        if not parsed.netloc:
            raise LakeConfigError(f"S3 URI {uri!r} has no bucket")
        return uri.rstrip("/")
    if scheme == "file":
        uri = urlparse(uri).path
    return str(Path(uri).expanduser().resolve())


#: No storage call waits forever (object_store, under deltalake and polars): a request that hangs
#: is cut after `timeout`, a connection after `connect_timeout`, and a failed request (5xx, timeout,
#: dropped connection) is retried with exponential backoff at most `max_retries` times within
#: `retry_timeout`; then the command fails with its error. `runlake/settings.py` can shorten them
#: (`RUNLAKE_S3_TIMEOUT_S`, …; `pipeline/lake_access.py` passes them as overrides).
S3_TIMEOUTS = {"timeout": "120s", "connect_timeout": "10s", "max_retries": "10", "retry_timeout": "180s"}
#: The same bounds for s3fs/botocore (raw files, leases, listings); `Lake.fsspec_options` follows
#: the lake's own `timeout` and `max_retries`.
S3FS_CONFIG = {"connect_timeout": 10, "read_timeout": 120, "retries": {"max_attempts": 11, "mode": "standard"}}


def _seconds(value: str) -> float:
    """object_store's duration strings as this module writes them ("120s", "1.5s")."""
    return float(value.removesuffix("s"))


def s3_storage_options(env: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """deltalake/object_store options from the standard AWS variables (plus explicit overrides)."""
    env = os.environ if env is None else env
    options = {name: env[name] for name in _AWS_ENV if env.get(name)}
    if "AWS_REGION" not in options:
        options["AWS_REGION"] = options.pop("AWS_DEFAULT_REGION", "us-east-1")
    options.pop("AWS_DEFAULT_REGION", None)
    endpoint = options.get("AWS_ENDPOINT_URL", "")
    if endpoint.startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    options.update(S3_TIMEOUTS)
    options.update(overrides or {})
    return options


@dataclass(frozen=True)
class Lake:
    """A lake root and how to reach it."""

    root: str
    storage_options: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def at(cls, uri: str, env: Mapping[str, str] | None = None, credentials: Mapping[str, str] | None = None) -> "Lake":
        root = normalize_uri(uri)
        options = s3_storage_options(env, credentials) if is_s3(root) else {}
        return cls(root, options)

    @property
    def is_s3(self) -> bool:
        return is_s3(self.root)

    def uri(self, *parts: str) -> str:
        """URI of a path inside the lake (`lake.uri("raw", "fit")`)."""
        rel = "/".join(p.strip("/") for p in parts if p)
        return f"{self.root}/{rel}" if rel else self.root

    def relative(self, uri: str) -> str:
        """A URI inside the lake, relative to its root (what tables store)."""
        prefix = self.root + "/"
        if not uri.startswith(prefix):
            raise ValueError(f"{uri!r} is not inside the lake {self.root!r}")
        return uri[len(prefix):]

    def polars_options(self) -> dict | None:
        """The storage options for polars' `scan_delta` (None for a local lake): polars wants
        `max_retries` as a number where deltalake wants every option as a string."""
        if not self.storage_options:
            return None
        options: dict = dict(self.storage_options)
        if "max_retries" in options:
            options["max_retries"] = int(options["max_retries"])
        return options

    def fsspec_options(self) -> dict:
        """The same credentials in s3fs's vocabulary (for raw-file I/O)."""
        if not self.is_s3:
            return {}
        o = self.storage_options
        client_kwargs = {"region_name": o.get("AWS_REGION", "us-east-1")}
        if o.get("AWS_ENDPOINT_URL"):
            client_kwargs["endpoint_url"] = o["AWS_ENDPOINT_URL"]
        config = dict(S3FS_CONFIG)
        if o.get("timeout"):
            config["read_timeout"] = _seconds(o["timeout"])
        if o.get("connect_timeout"):
            config["connect_timeout"] = _seconds(o["connect_timeout"])
        if o.get("max_retries"):
            config["retries"] = {"max_attempts": int(o["max_retries"]) + 1, "mode": "standard"}
        opts: dict = {"client_kwargs": client_kwargs, "config_kwargs": config}
        if o.get("AWS_ACCESS_KEY_ID"):
            opts["key"] = o["AWS_ACCESS_KEY_ID"]
            opts["secret"] = o.get("AWS_SECRET_ACCESS_KEY")
            if o.get("AWS_SESSION_TOKEN"):
                opts["token"] = o["AWS_SESSION_TOKEN"]
        return opts
