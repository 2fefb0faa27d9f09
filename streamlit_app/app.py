"""The public runlake dashboard: `runlake dashboard` serves it (streamlit run, headless).

Routes with `st.navigation` to one file per page in `pages/`; every page reads the anonymized
`<lake>/public/*` tables through `data.py` and nothing else.
"""

from __future__ import annotations

import streamlit as st

from streamlit_app import data, view

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
    shown = view.read(data.public_athletes)
    if len(shown) > 1:  # a picker, kept in the URL (?athlete=HANDLE) so a page can be linked
        current = data.athlete()
        chosen = st.selectbox("Athlete", shown, index=shown.index(current))
        if chosen != current:
            st.query_params["athlete"] = chosen
    st.segmented_control("Units", ["km", "mi"], default="km", key="units", required=True)
    st.caption("Public, anonymized training data. See About for what is hidden.")

view.read(data.lake)  # misconfigured or unreachable: a plain message here, the details in the server log
page.run()
