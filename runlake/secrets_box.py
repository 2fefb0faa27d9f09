"""Secrets at rest: the key that encrypts credentials kept in the lake, and Fernet around it.

The lake is the store of record for secrets several processes share (Strava's rotating tokens:
`lake/credentials.py` keeps the ciphertext only). The key never goes into the lake:

* production: `RUNLAKE_SECRET_KEY` (a Kubernetes Secret), the same in every pod and replica;
* the embedded default (a local lake folder): a key generated once into `<RUNLAKE_HOME>/secret.key`
  (0600, folder 0700). A lake on S3 needs `RUNLAKE_SECRET_KEY`: a key file would be one pod's
  alone, and what it encrypted unreadable to every other pod.

Every ciphertext is stored with its key's id (8 hex digits of the key's SHA-256, which reveal
nothing usable about a 256-bit key), so a wrong key is one clear line, never a bare "invalid
token". No message here carries a key or a plaintext.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from runlake.errors import RunlakeError, SettingsError
from runlake.files import create_private_once

if TYPE_CHECKING:
    from runlake.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"


class SecretKeyError(RunlakeError):
    """Stored credentials cannot be decrypted with the configured key (wrong key, damaged data)."""


def secret_key(settings: Settings) -> bytes:
    """The key encrypting credentials in the lake: RUNLAKE_SECRET_KEY, else the local key file."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    if settings.lake.startswith("s3://"):
        raise SettingsError(
            "RUNLAKE_SECRET_KEY must be set when the lake is on S3 (a key file under RUNLAKE_HOME would be this "
            "machine's alone); docs/settings.md says how to make one"
        )
    return _key_file(Path(settings.home) / KEY_FILE)


def _key_file(path: Path) -> bytes:
    if create_private_once(path, Fernet.generate_key):  # racing processes agree on the first one written
        log.info("created the key that encrypts credentials in the lake: %s (back it up with the lake)", path)
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others: tightening it to 0600", path)
        path.chmod(0o600)
    from runlake.settings import is_fernet_key

    key = path.read_bytes().strip()
    if not is_fernet_key(key.decode("ascii", errors="replace")):
        raise SecretKeyError(f"the key file {path} is damaged (not a Fernet key): restore it from a backup")
    return key


def key_id(key: bytes) -> str:
    """Which key this is, safe to store and print: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def encrypt(key: bytes, plaintext: str) -> str:
    """A Fernet token (AES-128-CBC + HMAC-SHA256, url-safe base64) of `plaintext`."""
    return Fernet(key).encrypt(plaintext.encode()).decode("ascii")


def decrypt(key: bytes, ciphertext: str, stored_key_id: str, *, what: str) -> str:
    """The plaintext of `ciphertext`; `what` names the secret for the one-line error."""
    current = key_id(key)
    if stored_key_id != current:
        raise SecretKeyError(
            f"{what} was encrypted with key {stored_key_id}, but the configured key is {current}: set RUNLAKE_SECRET_KEY "
            f"to the key it was encrypted with (or restore <RUNLAKE_HOME>/{KEY_FILE})"
        )
    try:
        return Fernet(key).decrypt(ciphertext.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise SecretKeyError(f"{what} is damaged (it does not decrypt with key {current})") from None
