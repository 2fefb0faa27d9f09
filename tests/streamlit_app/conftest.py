"""Fixtures for the dashboard AppTests (helpers live in apptest_support.py)."""

from apptest_support import fresh_caches, history_lake  # noqa: F401  (pytest fixtures)
from signin_support import two_runners  # noqa: F401  (pytest fixture)
