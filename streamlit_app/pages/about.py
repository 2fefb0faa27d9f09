"""About: what this dashboard shows and what it hides (docs/privacy.md has every rule)."""

import streamlit as st

st.title("About")
# No distance or radius here: publishing how much is hidden would tell where to look.
st.markdown(
    """
This is the public side of **runlake**, a runner's own training data platform: watch files and
Strava flow into a private Delta Lake; nightly builds compute training load, weekly reports and
best efforts; and an anonymized copy of them feeds this page.

**What you see**
- Weekly and daily volume, training load (Banister TRIMP) and the fitness/fatigue/form curves.
- Sessions by date with their distance, time, pace, grade-adjusted pace, heart rate and zones.
- Best efforts, personal bests and race predictions (Riegel, Daniels VDOT).
- Routes, simplified, with their start and finish hidden.

**What stays private**
- No time of day anywhere: sessions are shown by date only.
- The start and the end of every route, and of its pace and heart-rate charts, are cut off, and
  so is every part of a route inside the places the athlete keeps private.
  A run too short to be shown without giving those places away shows no route at all.
- Activities the athlete marks private (here or on Strava) do not appear, and are left out of
  every total, chart and record as well, so no number gives a hidden session away.
- Strava-only activities: Strava's API terms allow showing a user's Strava data only to that user.
- No names, descriptions, gear, devices, file names or ids from the private lake; public session
  ids are keyed hashes that cannot be traced back.

Totals on every page are sums of the public weekly summary.
"""
)
