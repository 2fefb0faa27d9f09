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
- Routes, simplified, with their start and finish hidden — only of runs that neither start, end
  nor pass where the athlete lives or stays.

**What stays private**
- No time of day anywhere: sessions are shown by date only.
- Where the athlete lives, sleeps or often starts from: such places are found from the runs
  themselves (and the athlete can add more). A run that starts, ends or passes near one shows no
  route at all — not even a cut-off one, because where cut-off routes begin gives the place away.
  The athlete may choose to show such runs as a shape without position or direction.
- The start and the end of every other route, and of every pace and heart-rate chart, are cut
  off by a distance that differs from run to run and is not published. A run too short to be
  shown that way shows no route at all.
- Activities appear from the day after they were run.
- Activities the athlete marks private (here or on Strava) do not appear, and are left out of
  every total, chart and record as well, so no number gives a hidden session away.
- Strava-only activities: Strava's API terms allow showing a user's Strava data only to that user.
- No names, descriptions, gear, devices, file names or ids from the private lake; public session
  ids are keyed hashes that cannot be traced back.

Totals on every page are sums of the public weekly summary.
"""
)
