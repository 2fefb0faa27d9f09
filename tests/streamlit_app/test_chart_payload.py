"""What a public page sends to the browser: each chart embeds only the columns it draws, one row
per day, week or sample slice (the payload is what every visitor downloads)."""

from __future__ import annotations

import json
import re

import pyarrow as pa
from apptest_support import assert_clean, charts_of, open_page


def _columns(at_chart) -> set[str]:
    names = set()
    for named in at_chart.proto.datasets:
        names |= set(pa.ipc.open_stream(named.data.data).read_all().column_names)
    return names


def _fields(spec: dict) -> set[str]:
    """Every field name an encoding, fold, order or detail of the spec refers to, and every
    `datum.NAME` of its expressions."""
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("field"), str):
                found.add(node["field"])
            for value in node.get("fold", []) if isinstance(node.get("fold"), list) else []:
                found.add(value)
            for value in node.values():
                walk(value)
        elif isinstance(node, str):
            found.update(re.findall(r"datum\.(\w+)", node))
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


def _chart_elements(at):
    return at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")


def test_every_public_chart_embeds_only_the_columns_it_draws(history_lake, monkeypatch):
    checked = 0
    for page in ("pages/overview.py", "pages/training_log.py", "pages/sessions.py", "pages/records.py"):
        at = open_page(page, history_lake, monkeypatch)
        assert_clean(at, page)
        for element in _chart_elements(at):
            spec = json.loads(element.proto.spec)
            columns = _columns(element)
            assert columns, f"{page}: a chart without an Arrow dataset"
            assert columns <= _fields(spec), f"{page}: columns sent but not drawn: {columns - _fields(spec)}"
            checked += 1
    assert checked >= 7


def test_the_fitness_chart_sends_one_row_per_day(history_lake, monkeypatch):
    at = open_page("pages/overview.py", history_lake, monkeypatch)
    fitness = [c for c in charts_of(at) if "Fatigue" in json.dumps(c)]
    assert len(fitness) == 1
    assert 300 <= fitness[0]["_rows"] <= 366 + 1  # a year of days (+ the zero rule's one row), not three rows a day
