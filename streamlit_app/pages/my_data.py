"""`/my-data`: the signed-in athlete's data rights — download everything as a zip (one Parquet
file per table, the raw files, manifest.json), or erase the account for good (typing the
handle to confirm), after which the session is signed out."""

import tempfile
from pathlib import Path

import streamlit as st

from pipeline.steps.athlete_data import AthleteBusyError, erase_athlete, export_athlete
from streamlit_app import account, data, private_data, view

athlete = account.require_athlete()
st.title("Your data")

st.subheader("Download")
st.write("Every row runlake holds about you — one Parquet file per table — with your original files and a "
         "manifest of row counts. Secrets (encrypted credentials, token hashes) are left out.")
EXPORT = "my_data_export"  # session state: (athlete_id, zip bytes) of the export just made
if st.button("Prepare download", icon=":material/folder_zip:"):
    with st.spinner("Collecting your data …"), tempfile.TemporaryDirectory(prefix="runlake-export-") as tmp:
        out = Path(tmp) / f"runlake-{athlete.handle}.zip"
        view.read(export_athlete, data.lake(), data.settings(), athlete.athlete_id, out)
        st.session_state[EXPORT] = (athlete.athlete_id, out.read_bytes())
prepared = st.session_state.get(EXPORT)
if prepared is not None and prepared[0] == athlete.athlete_id:
    st.download_button("Download the zip", prepared[1], file_name=f"runlake-{athlete.handle}.zip",
                       mime="application/zip", icon=":material/download:")

st.subheader("Erase your account")
st.write("Deletes your activities, files, settings, tokens and connections, and the lake's history of them. "
         "This cannot be undone.")
with st.form("erase"):
    typed = st.text_input("Type your handle to confirm")
    erase = st.form_submit_button("Erase my account", type="primary")
if erase:
    if typed.strip().lower() != athlete.handle:
        st.error("That is not your handle: nothing was erased.", icon=":material/error:")
        st.stop()
    with st.spinner("Erasing …"):
        try:
            erase_athlete(data.lake(), data.settings(), athlete.athlete_id, lease_wait_s=30)
        except AthleteBusyError:  # its other writer (an ingest, a sync) held on: nothing was erased yet
            st.warning("Your data is being updated right now (an ingest or a sync). Try again in a minute.")
            st.stop()
    private_data.forget_everyone()
    account.forget_identity_cache()
    st.session_state.pop(EXPORT, None)
    st.logout()
