"""Turn settings into a usable `Lake`, failing early with one clear line when it cannot work."""

from __future__ import annotations

import os
from pathlib import Path

from runlake.errors import RunlakeError
from runlake.files import make_private_dir
from lake import migrations
from lake.storage import Lake, LakeConfigError, normalize_uri
from runlake.settings import Settings

#: Any of these means the AWS SDK chain can find credentials without keys in the environment.
_AMBIENT_CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",  # IRSA on EKS
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_EC2_METADATA_ENABLED",
)


def aws_credentials_from_block(block_name: str) -> dict[str, str]:
    """deltalake options from a prefect-aws `AwsCredentials` block (loaded only when named)."""
    from prefect_aws import AwsCredentials

    creds = AwsCredentials.load(block_name)
    options = {}
    if creds.aws_access_key_id:
        options["AWS_ACCESS_KEY_ID"] = creds.aws_access_key_id
    if creds.aws_secret_access_key:
        options["AWS_SECRET_ACCESS_KEY"] = creds.aws_secret_access_key.get_secret_value()
    if creds.aws_session_token:
        options["AWS_SESSION_TOKEN"] = creds.aws_session_token
    if creds.region_name:
        options["AWS_REGION"] = creds.region_name
    endpoint = creds.aws_client_parameters.endpoint_url if creds.aws_client_parameters else None
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        if str(endpoint).startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    return options


def _has_ambient_aws_credentials() -> bool:
    if any(os.environ.get(v) for v in _AMBIENT_CREDENTIAL_VARS):
        return True
    shared = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", Path.home() / ".aws" / "credentials"))
    return shared.is_file()


def s3_bounds(settings: Settings) -> dict[str, str]:
    """The S3 timeout and retry options the settings give (lake/storage.py's `S3_TIMEOUTS` names)."""
    return {
        "timeout": f"{settings.s3_timeout_s:g}s",
        "max_retries": str(settings.s3_max_retries),
        "retry_timeout": f"{settings.s3_retry_timeout_s:g}s",
    }


def lake_at(uri: str, settings: Settings) -> Lake:
    """A `Lake` for any URI (lake root or inbox), with the credentials and S3 bounds the settings give."""
    root = normalize_uri(uri)
    if not root.startswith("s3://"):
        return Lake.at(root)
    if settings.aws_credentials_block:
        return Lake.at(root, credentials={**aws_credentials_from_block(settings.aws_credentials_block), **s3_bounds(settings)})
    if not _has_ambient_aws_credentials():
        raise LakeConfigError(
            f"{uri} is on S3 but no AWS credentials were found: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE / IRSA), or RUNLAKE_AWS_CREDENTIALS_BLOCK"
        )
    return Lake.at(root, credentials=s3_bounds(settings))


def open_lake(settings: Settings, *, for_write: bool = True) -> Lake:
    """The configured lake. A local lake folder is created when missing and must be writable.

    `for_write` (every command and flow that writes): a lake of an older version is refused with
    one line naming `runlake lake migrate`, before anything is written (a new lake is at the latest
    version; its first write records it, lake/table.py). `runlake lake migrate` itself opens it with
    `for_write=False`.
    """
    lake = lake_at(settings.lake, settings)
    if not lake.is_s3:
        root = Path(lake.root)
        try:
            make_private_dir(root)  # 0700, with any missing parent (the home)
        except OSError as exc:
            raise RunlakeError(f"cannot create the lake folder {root}: {exc.strerror}") from exc
        if not root.is_dir():
            raise RunlakeError(f"the lake path {root} is not a folder")
        if not os.access(root, os.W_OK | os.X_OK):
            raise RunlakeError(f"the lake folder {root} is not writable")
    if for_write:
        require_latest_version(lake)
    return lake


def require_latest_version(lake: Lake) -> None:
    """Refuse a lake of another version than this code's (RunlakeError)."""
    version = migrations.current_version(lake)
    if version < migrations.LATEST:
        raise RunlakeError(
            f"the lake {lake.root} is at version {version}, this runlake needs version {migrations.LATEST}: "
            "run `runlake lake migrate` first"
        )
    if version > migrations.LATEST:
        raise RunlakeError(
            f"the lake {lake.root} is at version {version}, written by a newer runlake (this one knows up to "
            f"version {migrations.LATEST}): upgrade runlake"
        )
