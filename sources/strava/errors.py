"""What can go wrong talking to Strava, as exceptions whose text is one clear line.

No message here ever carries a token or a secret: they name the setting to fix instead.
`RateLimitReached` is not an error but a clean stop: the sync catches it, commits what it has
and reports that it stopped.
"""

from __future__ import annotations

from runlake.errors import RunlakeError


class StravaError(RunlakeError):
    """A Strava sync that cannot proceed; the text is one line a user can act on."""


class StravaAuthError(StravaError):
    """Strava refused the credentials (client secret, refresh token, access token)."""


class StravaUnavailable(StravaError):
    """Strava could not be reached or kept failing (connection refused, timeouts, 5xx)."""


class StravaPayloadError(StravaError):
    """Strava answered something that is not the JSON the endpoint documents."""


class RateLimitReached(Exception):
    """Strava's budget (or our share of it) is used up: stop cleanly, resume on a later run."""

    def __init__(self, message: str, *, window: str):
        super().__init__(message)
        self.window = window  # "15-minute" or "daily"
