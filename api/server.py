"""What `runlake api` serves: the application built from the environment, at the edge.

uvicorn imports `api.server:app_from_environment` by name (a factory), so the settings are read
when the server starts, in the serving process, and nowhere else.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from pipeline.lake_access import lake_at
from runlake.settings import Settings


def app_from_environment() -> FastAPI:
    settings = Settings.with_overrides()
    return create_app(settings, lake_at(settings.lake, settings))
