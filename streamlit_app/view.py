"""What every page shares: guarded reads, the chosen units and the empty state."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import polars as pl
import streamlit as st

from streamlit_app import data
from streamlit_app.units import Units, units_named

T = TypeVar("T")
log = logging.getLogger("runlake.dashboard")

#: What a visitor sees when a read fails: no path, no exception text, no traceback.
READ_FAILED = "The training data cannot be shown right now. Please try again later."


def read(loader: Callable[..., T], *args: Any) -> T:
    """`loader(*args)` from data.py; when it fails, the plain message for the visitor and the end of
    the page. The error itself (a corrupt or missing table, an S3 error, a bad setting) is logged
    here, server side, with its traceback and the loader that failed.
    """
    try:
        return loader(*args)
    except Exception:
        name = getattr(loader, "__name__", repr(loader))
        log.exception("dashboard read failed: %s(%s)", name, ", ".join(map(repr, args)))
    st.error(READ_FAILED, icon=":material/cloud_off:")
    st.stop()


def units() -> Units:
    return units_named(st.session_state.get("units"))


def stop_when_empty() -> None:
    """Show the empty state (st.info, never an error) and stop the page when there is no data."""
    if not read(data.has_data):
        st.info(data.NO_DATA, icon="🏁")
        st.stop()


def chart(chart_obj) -> None:
    st.altair_chart(chart_obj, width="stretch")


#: Characters Markdown would interpret in a value: emphasis, links, HTML, tables, math ($) and
#: the `:name:` of an emoji (a time such as 1:02:05 made the browser load the emoji renderer).
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>|~$#:]")


def escape_markdown(text: str) -> str:
    """`text` shown as is by st.markdown or st.caption (see _MARKDOWN_SPECIAL)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.date):
        return f"{value:%a} {value.day} {value:%b %Y}"
    return escape_markdown(str(value)).replace("\n", " ")


def markdown_table(frame: pl.DataFrame) -> str:
    """`frame` as a Markdown table (numbers right-aligned, dates as 'Tue 25 Nov 2025', empty cells
    as '–'), for `st.markdown`. The public pages show their tables this way: the browser draws
    them with the Markdown renderer every page has already loaded, while st.dataframe and
    st.table first load Streamlit's data grid and Arrow formatting chunks (~1.3 MB of JavaScript
    for a new visitor), which delayed the page's first chart."""
    align = ["---:" if dtype.is_numeric() else ":---" for dtype in frame.dtypes]
    lines = ["| " + " | ".join(_cell(c) for c in frame.columns) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def metric_row():
    """A row of metrics that wraps on a phone (two or three a line) instead of stacking one per
    line as `st.columns` does below 640 px."""
    return st.container(horizontal=True, wrap=True, gap="medium")





@st.fragment(run_every=1.0)
def job_progress(job, phases: dict[str, str]) -> None:
    """A running `streamlit_app.jobs.BackgroundJob`'s progress, redrawn every second; the whole
    page reruns once it has finished (to show its end)."""
    state = job.state()
    if state.finished:
        st.rerun()
    text = phases.get(state.phase, state.phase.capitalize())
    if state.total:
        text += f" · {state.done:,} of {state.total:,}"
    st.progress(min(state.done / state.total, 1.0) if state.total else 0.0, text=text)
    if state.link:
        st.markdown(f"Running as a flow run: [follow it in Prefect]({state.link})")
