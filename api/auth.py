"""`Authorization: Bearer <token>`: who is asking, checked against the token book.

The comparison itself (a salted hash, constant time) is `pipeline.tokens.TokenBook.check`; here
the header is parsed and the answers are turned into 401/403 errors that say what to do, never
echoing the token.
"""

from __future__ import annotations

import datetime as dt

from api.errors import ApiError
from pipeline.tokens import READ_PRIVATE, READ_PUBLIC, TokenBook, TokenInfo, TokenRejected  # noqa: F401  (scopes re-exported for the gate)

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="runlake"'}


def unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, {"WWW-Authenticate": 'Bearer realm="runlake", error="invalid_token"'}
                    if code != "missing_token" else dict(CHALLENGE))


def bearer_token(header: bytes | None) -> str | None:
    """The token of an `Authorization: Bearer …` header (None without the header)."""
    if header is None:
        return None
    scheme, _, token = header.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("invalid_token", "the Authorization header must be 'Bearer <token>'")
    return token.strip()


def authenticate(book: TokenBook, header: bytes | None, now: dt.datetime) -> TokenInfo | None:
    """The presented token's holder (None when no token was presented)."""
    token = bearer_token(header)
    if token is None:
        return None
    try:
        return book.check(token, now=now)
    except TokenRejected as rejected:
        raise unauthorized(rejected.code, rejected.message) from None


def require(info: TokenInfo | None, scope: str) -> TokenInfo:
    if info is None:
        raise unauthorized("missing_token", "this endpoint needs 'Authorization: Bearer <token>' (see docs/api.md)")
    if not info.allows(scope):
        raise ApiError(403, "insufficient_scope", f"this endpoint needs a token with the scope {scope}")
    return info
