"""The plain functions behind the flows; the CLI calls them directly (no Prefect import)."""
