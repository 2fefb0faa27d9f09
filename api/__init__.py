"""The runlake data API (`runlake api`, docs/api.md): daily training as JSON, public and private.

`api.app.create_app(settings, lake)` builds the FastAPI application; `api.server` is what uvicorn
serves. The API reads the lake only: an in-memory snapshot (`api.snapshot`) refreshed when a
table's Delta version changes (`api.refresh`), tokens checked by `pipeline.tokens`.
"""
