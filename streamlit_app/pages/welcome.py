"""Onboarding: a first sign-in chooses a handle (and a time zone) and becomes a private athlete."""

import streamlit as st

from streamlit_app import account, data, view

st.title("Welcome to runlake")
who = account.identity()
if who is None:
    st.info(account.SIGN_IN_NEEDED, icon=":material/lock:")
    if account.sign_in_enabled():
        account.sign_in_button(key="sign_in_page")
    st.stop()
if account.signed_in_athlete() is not None:
    st.success("You are all set.", icon=":material/check:")
    st.page_link("pages/me.py", label="Go to your training")
    st.stop()

st.write(
    "Choose the handle your public pages will use (if you ever make them public: a new athlete is "
    "private). 2–32 characters: a–z, 0–9, '-' and '_'."
)
with st.form("onboarding"):
    handle = st.text_input("Handle", max_chars=32)
    zone = st.text_input("Time zone", value=account.default_timezone(), help="An IANA zone, e.g. Europe/Oslo.")
    created = st.form_submit_button("Create")
if created:
    from pipeline.identities import onboard
    from runlake.errors import RunlakeError

    try:
        onboard(view.read(data.lake), data.settings(), *who, handle=handle, timezone=zone.strip() or None, now=account.now())
    except RunlakeError as exc:  # a bad or taken handle, an unknown zone: the user fixes it
        st.error(str(exc), icon=":material/error:")
        st.stop()
    account.forget_identity_cache()
    st.switch_page("pages/me.py")
