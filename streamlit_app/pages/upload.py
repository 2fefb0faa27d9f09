"""`/upload`: the signed-in athlete's activity files into its own inbox, lake rows and marts
(docs/product.md, "Uploading files"): what `runlake import` takes — `.fit`, `.gpx`, `.tcx`
(optionally `.gz`), `.zip` archives of them, a Strava bulk export or a Garmin Connect export.

The athlete is the session's (`account.require_athlete`), never the URL's. The files are checked
first (`pipeline.uploads.unpack`: limits, zip bombs, path tricks, content that is no activity
file — refused with a message); the heavy work then runs off the page (`upload_jobs`: a flow run with a Prefect API,
a thread of this session otherwise) while the page shows its progress, then per-file results.
"""

import polars as pl
import streamlit as st

from pipeline.uploads import MB, UploadLimits, UploadRefused, unpack
from streamlit_app import account, data, upload_jobs, view

JOB_KEY = "upload_job"
ROUND_KEY = "upload_round"  # a new key empties the uploader (and frees its bytes) once a job starts
PHASES = {
    "starting": "Starting …", "staging": "Saving your files", "waiting": "Waiting for another ingest of your data to finish",
    "ingesting": "Ingesting", "building marts": "Updating your training figures", "queued": "Queued",
}
RESULT_SCHEMA = {"file": pl.String, "result": pl.String, "detail": pl.String}

athlete = account.require_athlete()
st.title("Upload FIT files")  # the title and the uploader's label are the product's interface (issue 15)
limits = UploadLimits.from_settings(view.read(data.settings))
st.caption(
    f"`.fit`, `.gpx` or `.tcx` files (also `.gz`), `.zip` archives of them (folders inside are fine), or the whole "
    f"export zip of Strava (names, gear and Strava ids come from its activities.csv) or Garmin Connect: up to "
    f"{limits.max_files:,} files and {limits.max_bytes / MB:,.0f} MB at once. They become your own data only."
)
ACCEPTED_TYPES = ["fit", "gpx", "tcx", "gz", "zip", "csv"]


def start_job(files) -> None:
    """Check the uploaded files and start the job (or say why not)."""
    try:
        with st.spinner("Checking your files …"):
            unpacked = unpack([(f.name, f.getvalue()) for f in files], limits)
    except UploadRefused as exc:  # a limit: the message is written for the visitor
        st.error(str(exc), icon=":material/block:")
        return
    if not unpacked.files:
        st.warning("No activity file to ingest in this upload.", icon=":material/warning:")
        results_table([(r.name, "refused", r.reason) for r in unpacked.refused])
        return
    deployment = view.read(data.settings).web_deployment if view.read(upload_jobs.prefect_api_url) else None
    job = upload_jobs.UploadJob(view.read(data.lake), athlete, unpacked=unpacked, deployment=deployment).start()
    st.session_state[JOB_KEY] = job
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
    st.rerun()


def results_table(rows) -> None:
    st.dataframe(pl.DataFrame(list(rows), schema=RESULT_SCHEMA, orient="row"), hide_index=True, width="stretch")


def show_end(job: upload_jobs.UploadJob) -> None:
    state = job.state()  # the private pages read the new rows by themselves (keyed by table version)
    if state.error:
        st.error(state.error, icon=":material/error:")
        return
    counts = {}
    for r in state.results:
        counts[r.result] = counts.get(r.result, 0) + 1
    st.success(
        f"Done in {state.seconds:,.0f} s: " + ", ".join(f"{n:,} {result}" for result, n in counts.items()),
        icon=":material/check:",
    )
    results_table((r.file, r.result, r.detail) for r in state.results)
    st.page_link("pages/me.py", label="See your training", icon=":material/person:")


job = st.session_state.get(JOB_KEY)
if job is not None and job.athlete_id != athlete.athlete_id:
    job = None  # another athlete's, from before a sign-out in this browser: never shown
running = job is not None and not job.state().finished

uploaded = st.file_uploader(
    "FIT files", type=ACCEPTED_TYPES, accept_multiple_files=True, disabled=running,
    max_upload_size=view.read(data.settings).upload_max_mb,  # the browser refuses a larger file at once
    key=f"upload_files_{st.session_state.get(ROUND_KEY, 0)}",
)
if st.button("Ingest", type="primary", icon=":material/upload:", disabled=running or not uploaded):
    start_job(uploaded)
if running:
    view.job_progress(job, PHASES)
elif job is not None:
    show_end(job)
