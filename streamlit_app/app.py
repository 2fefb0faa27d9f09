"""The public runlake dashboard: `runlake dashboard` serves it (streamlit run, headless).

Routes with `st.navigation` to one file per page in `pages/`; every page reads the anonymized
`<lake>/public/*` tables through `data.py` and nothing else.
"""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from runlake.errors import RunlakeError
from lake.storage import LakeConfigError
from streamlit_app import data

st.set_page_config(page_title="runlake · training", page_icon=":material/directions_run:", layout="centered")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", default=True),
    st.Page("pages/training_log.py", title="Training log", icon=":material/calendar_month:"),
    st.Page("pages/sessions.py", title="Sessions", icon=":material/directions_run:"),
    st.Page("pages/records.py", title="Records", icon=":material/trophy:"),
    st.Page("pages/about.py", title="About", icon=":material/info:"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.segmented_control("Units", ["km", "mi"], default="km", key="units", required=True)
    st.caption("Public, anonymized training data. See About for what is hidden.")

try:
    data.lake()
except (LakeConfigError, RunlakeError, ValidationError) as exc:  # misconfigured: say so, calmly
    st.warning(f"The lake is not reachable: {exc}")
    st.stop()
page.run()
