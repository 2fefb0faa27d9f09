"""`/strava`: connect the signed-in athlete's own Strava account (OAuth authorization code, the
approval coming back to this page), see the sync status, sync now. A new connection starts the
backfill of the athlete's history. Strava data stays private unless the athlete publishes the
`strava` source (docs/strava.md: Strava's terms allow showing it only to its owner)."""

import streamlit as st

from pipeline.strava_connect import complete_connection, connect_url, is_connected, strava_configured, sync_status
from runlake.errors import RunlakeError
from runlake.web_auth import cookie_secret
from streamlit_app import account, data, strava_jobs, view

JOB_KEY = "strava_job"
PHASES = {"starting": "Starting …", "listing": "Listing your Strava activities", "fetching": "Fetching activities",
          "building marts": "Updating your training figures", "queued": "Queued"}

athlete = account.require_athlete()
st.title("Strava")
if not strava_configured(athlete.settings):
    st.info("Strava is not set up on this server.", icon=":material/link_off:")
    st.stop()
lake = view.read(data.lake)
key = view.read(cookie_secret, data.settings())


def start_sync() -> None:
    deployment = data.settings().web_deployment if view.read(strava_jobs.prefect_api_url) else None
    st.session_state[JOB_KEY] = strava_jobs.StravaSyncJob(lake, athlete, deployment=deployment).start()


params = st.query_params
if "code" in params or "error" in params:  # back from Strava's approval page
    code, state = params.get("code", ""), params.get("state", "")
    st.query_params.clear()
    if "error" in params:
        st.warning("Strava access was not granted: nothing changed.", icon=":material/block:")
    else:
        try:
            complete_connection(lake, athlete.settings, code=code, state=state, key=key, now=account.now())
        except RunlakeError as exc:  # a stale or foreign approval, a used code: one line
            st.error(str(exc), icon=":material/error:")
        else:
            st.success("Strava is connected. Fetching your history …", icon=":material/check:")
            start_sync()

job = st.session_state.get(JOB_KEY)
if job is not None and job.athlete_id != athlete.athlete_id:
    job = None  # another athlete's, from before a sign-out in this browser: never shown
running = job is not None and not job.state().finished

if view.read(is_connected, lake, athlete.athlete_id):
    status = view.read(sync_status, lake, athlete.athlete_id)
    if status is None:
        st.write("Connected. No sync has run yet.")
    else:
        st.write(f"Connected · {status['activities']:,} activities from Strava · last sync "
                 f"{status['last_run_at']:%d %b %Y %H:%M} UTC: {status['last_outcome']}")
    if st.button("Sync now", icon=":material/sync:", disabled=running):
        start_sync()
        st.rerun()
else:
    st.write("Connect your Strava account to bring in your activities (read access, private ones included).")
    st.link_button("Connect Strava", view.read(lambda: connect_url(athlete.settings, key=key, now=account.now())),
                   icon=":material/link:", type="primary")

if running:
    view.job_progress(job, PHASES)
elif job is not None:
    state = job.state()
    if state.error:
        st.error(state.error, icon=":material/error:")
    else:
        st.success(f"Done in {state.seconds:,.0f} s: {state.results}", icon=":material/check:")
        st.page_link("pages/me.py", label="See your training", icon=":material/person:")
