"""Strava API v3 source: client, OAuth token ownership, rate limits, mapping to lake rows, sync.

See docs/strava.md. `pipeline.strava_sync.sync_strava` is the entry point the CLI and the
`sync-strava` flow share.
"""
