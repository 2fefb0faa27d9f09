"""`/settings`: the signed-in athlete's own settings — profile (time zone, public on/off),
physiology from a date on, privacy zones (with a preview of what they hide), trim, routes at
protected places, and the sources that may be published. Written through the same functions as
`runlake athlete set` (pipeline/athletes.py, pipeline/physiology.py)."""

import streamlit as st

from marts.profile import ProfileError
from pipeline.athletes import update_athlete
from pipeline.physiology import parse_pace, record_physiology, resolved_profile
from runlake.errors import RunlakeError
from runlake.privacy_zones import parse_privacy_zones
from streamlit_app import account, charts, data, private_data, view

athlete = account.require_athlete()
settings = athlete.settings
st.title("Settings")
st.caption(f"**{athlete.handle}** · changes apply to your marts and public pages at the next build.")

SOURCES = ["fit", "gpx", "tcx", "strava"]  # gpx, tcx: the files of an export archive (docs/import.md)


def _pace_text(s_per_km: float) -> str:
    return f"{int(s_per_km // 60)}:{s_per_km % 60:04.1f}".rstrip("0").rstrip(".")


with st.form("profile"):
    st.subheader("Profile")
    display_name = st.text_input("Display name", value=athlete.display_name or "")
    zone = st.text_input("Time zone", value=settings.timezone, help="IANA zone, e.g. Europe/Oslo.")
    public = st.toggle("Public pages", value=athlete.public,
                       help="Publish an anonymized public layer of your training (docs/privacy.md).")
    sources = st.multiselect("Sources that may be published", SOURCES,
                             default=[s for s in SOURCES if s in settings.public_source_set],
                             help="Strava's terms allow showing Strava data only to you: off by default.")
    st.subheader("Privacy")
    zones = st.text_area("Privacy zones", value=settings.privacy_zones, placeholder="59.9139,10.7522,600; …",
                         help="'lat,lon,radius_m' separated by ';'. Places where your runs often start or end are "
                              "protected without this.")
    trim = st.number_input("Trim of route ends (m)", min_value=0.0, max_value=5000.0, value=float(settings.privacy_trim_m), step=50.0)
    place_routes = st.radio("Runs that start or end at a protected place", ["none", "shape"],
                            index=["none", "shape"].index(settings.privacy_place_routes), horizontal=True,
                            format_func={"none": "not on the map", "shape": "as a shape without position"}.get)
    saved_profile = st.form_submit_button("Save")
if saved_profile:
    try:
        athlete = update_athlete(
            data.lake(), data.settings(), athlete, display_name=display_name.strip() or None, timezone=zone.strip(),
            public=public, public_sources=",".join(sources), privacy_zones=zones.strip(),
            privacy_trim_m=float(trim), privacy_place_routes=place_routes,
        )
    except RunlakeError as exc:  # an unknown zone, a malformed privacy zone: one line, nothing written
        st.error(str(exc), icon=":material/error:")
    else:
        st.success("Saved.", icon=":material/check:")

st.subheader("What your privacy zones hide")
try:
    shown_zones = parse_privacy_zones(athlete.settings.privacy_zones)
except ValueError as exc:
    st.warning(str(exc))
    shown_zones = ()
ends = view.read(private_data.recent_endpoints, athlete.athlete_id)
if ends.is_empty():
    st.info("No routes yet: the preview shows the starts and ends of your recent runs.")
else:
    view.chart(charts.privacy_zone_preview(ends, shown_zones))
    st.caption("Your recent starts and ends (only you see this). Grey points are inside a zone: hidden.")

st.subheader("Physiology")
current = view.read(resolved_profile, data.lake(), athlete.settings).row(-1, named=True)
with st.form("physiology"):
    since = st.date_input("From", value=athlete.settings.local_today(), help="The first day these values hold.")
    hr_rest = st.number_input("Resting HR (bpm)", 20, 120, int(current["hr_rest_bpm"]))
    hr_max = st.number_input("Maximum HR (bpm)", 100, 250, int(current["hr_max_bpm"]))
    pace = st.text_input("Threshold pace (min:s per km)", value=_pace_text(current["threshold_pace_s_per_km"]))
    sex = st.radio("Sex (TRIMP weighting)", ["m", "f"], index=["m", "f"].index(current["sex"]), horizontal=True)
    saved_physiology = st.form_submit_button("Save physiology")
if saved_physiology:
    try:
        record_physiology(data.lake(), athlete.settings, since, {
            "hr_rest_bpm": int(hr_rest), "hr_max_bpm": int(hr_max), "threshold_pace_s_per_km": parse_pace(pace), "sex": sex,
        }, now=account.now())
    except (ProfileError, RunlakeError) as exc:
        st.error(str(exc), icon=":material/error:")
    else:
        st.success(f"Saved: from {since:%d %b %Y}.", icon=":material/check:")
