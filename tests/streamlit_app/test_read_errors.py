"""AppTest: a failed read shows visitors one plain message (no path, no error text, no traceback)
and is logged on the server with its context."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import open_page
from streamlit_app import data, view

FAKE_PATH = "/srv/runlake-private/lake/public/weekly_summary_public/_delta_log/00000000000000000007.json"
FAKE_SECRET = "AKIAFAKE-s3cr3t-9f8e7d"
MESSAGE = f"corrupt checkpoint at {FAKE_PATH} (aws_secret_access_key={FAKE_SECRET})"

#: (page, the loader that breaks): every loader each page calls, and app.py's lake check (AppTest
#: runs app.py itself only for the default page; after switch_page it runs the page file alone).
#: The About page reads nothing.
BROKEN_READS = [
    ("pages/overview.py", "weekly"),
    ("pages/overview.py", "daily"),
    ("pages/overview.py", "today"),
    ("pages/training_log.py", "daily"),
    ("pages/sessions.py", "activities"),
    ("pages/sessions.py", "samples"),
    ("pages/sessions.py", "route"),
    ("pages/records.py", "personal_bests"),
    ("pages/records.py", "best_efforts"),
    ("pages/records.py", "race_predictions"),
    ("pages/overview.py", "lake"),
]


def everything_shown(at: AppTest) -> str:
    """The text of every element on the page and in the sidebar, as its protobuf prints it."""
    texts, nodes = [], [at._tree]
    while nodes:
        node = nodes.pop()
        if getattr(node, "proto", None) is not None:
            texts.append(str(node.proto))
        nodes.extend(getattr(node, "children", {}).values())
    return "\n".join(texts)


@pytest.mark.parametrize(("page", "loader"), BROKEN_READS)
def test_a_failed_read_shows_a_plain_message_and_is_logged(page, loader, history_lake, monkeypatch, caplog):
    def broken(*args):
        raise OSError(MESSAGE)

    broken.__name__ = loader
    monkeypatch.setattr(data, loader, broken)
    with caplog.at_level(logging.ERROR, logger="runlake.dashboard"):
        at = open_page(page, history_lake, monkeypatch)
    assert [e.value for e in at.error] == [view.READ_FAILED], page
    assert not at.exception
    shown = everything_shown(at)
    assert view.READ_FAILED in shown
    for leak in (FAKE_PATH, "/srv/runlake-private", FAKE_SECRET, "corrupt checkpoint", "Traceback", "OSError"):
        assert leak not in shown, f"{page}: {leak!r} shown to visitors"
    logged = [r for r in caplog.records if r.name == "runlake.dashboard"]
    assert logged, "the failure must be logged server side"
    assert logged[-1].getMessage().startswith("dashboard read failed: ")  # names the loader (has_data wraps weekly)
    assert logged[-1].exc_info and MESSAGE in str(logged[-1].exc_info[1])
