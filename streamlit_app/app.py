"""The runlake web app: `runlake dashboard` serves it (streamlit run, headless).

Routes with `st.navigation` to one file per page in `pages/`. The public pages read the
anonymized `<lake>/public/*` tables through `data.py` and nothing else. With sign-in configured
(RUNLAKE_OIDC_*, docs/product.md) a **Sign in** button appears, and the signed-in runner's own
pages (`/me`, …) read that athlete's private rows through `private_data.py` (account.py says
which athlete); without it the app is the public dashboard alone.
"""

from __future__ import annotations

import streamlit as st

from streamlit_app import account, data, view

st.set_page_config(page_title="runlake · training", page_icon=":material/directions_run:", layout="centered")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", default=True),
    st.Page("pages/training_log.py", title="Training log", icon=":material/calendar_month:"),
    st.Page("pages/sessions.py", title="Sessions", icon=":material/directions_run:"),
    st.Page("pages/records.py", title="Records", icon=":material/trophy:"),
    st.Page("pages/about.py", title="About", icon=":material/info:"),
]

#: The signed-in runner's pages (URL paths fixed: /me, /upload, /strava, /settings, /tokens, /my-data, /welcome);
#: each checks the sign-in itself and reads the session's own athlete only.
PRIVATE_PAGES = [
    st.Page("pages/me.py", title="Your training", icon=":material/person:", url_path="me"),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload_file:", url_path="upload"),
    st.Page("pages/strava.py", title="Strava", icon=":material/sync:", url_path="strava"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
    st.Page("pages/tokens.py", title="API tokens", icon=":material/key:", url_path="tokens"),
    st.Page("pages/my_data.py", title="Your data", icon=":material/folder_zip:", url_path="my-data"),
    st.Page("pages/welcome.py", title="Welcome", icon=":material/waving_hand:", url_path="welcome"),
]

signing_in = account.sign_in_enabled()
page = st.navigation({"Public": PAGES, "You": PRIVATE_PAGES} if signing_in else PAGES)
with st.sidebar:
    if signing_in:
        if account.identity() is None:
            account.sign_in_button()
        else:
            account.sign_out_button()
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
