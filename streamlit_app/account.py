"""Who is signed in, and which athlete that is.

Sign-in is Streamlit's own OpenID Connect (`st.login`), on only when runlake's RUNLAKE_OIDC_*
settings are given (`runlake dashboard` writes Streamlit's `[auth]` secrets from them). The
identity is the ID token's (issuer, subject); `private/identity_links` maps it to one athlete
(pipeline/identities.py). Every private page asks `signed_in_athlete()` for the athlete whose
rows it may read: it comes from the session's identity only — never from the URL, a query
parameter or a widget.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from pipeline.athletes import Athlete
from streamlit_app import data, view

#: Shown on a private page to a visitor who is not signed in.
SIGN_IN_NEEDED = "Sign in to see this page."


def sign_in_enabled() -> bool:
    return view.read(data.settings).sign_in


def identity() -> tuple[str, str] | None:
    """(issuer, subject) of the signed-in person, or None (signed out, or sign-in off)."""
    if not sign_in_enabled() or not st.user.get("is_logged_in", False):
        return None
    issuer, subject = st.user.get("iss"), st.user.get("sub")
    if not issuer or not subject:
        return None
    return str(issuer), str(subject)


@st.cache_data(ttl=30, show_spinner=False, max_entries=1024)
def _athlete_id_of(issuer: str, subject: str) -> str | None:
    from pipeline.identities import athlete_for_identity

    found = athlete_for_identity(data.lake(), data.settings(), issuer, subject)
    return found.athlete_id if found is not None else None


def forget_identity_cache() -> None:
    """After onboarding or erasure: the next run looks the identity up again."""
    _athlete_id_of.clear()


def signed_in_athlete() -> Athlete | None:
    """The signed-in person's athlete (with its effective settings), or None: signed out, or
    signed in but not onboarded yet."""
    who = identity()
    if who is None:
        return None
    athlete_id = view.read(_athlete_id_of, *who)
    if athlete_id is None:
        return None
    from pipeline.athletes import resolve_athlete

    return view.read(resolve_athlete, data.lake(), data.settings(), athlete_id)


def require_athlete() -> Athlete:
    """The signed-in athlete, or the page stops with a sign-in prompt (or the onboarding link)."""
    if identity() is None:
        st.info(SIGN_IN_NEEDED, icon=":material/lock:")
        if sign_in_enabled():
            sign_in_button(key="sign_in_page")
        st.stop()
    athlete = signed_in_athlete()
    if athlete is None:
        st.info("Welcome! Choose a handle first.", icon=":material/waving_hand:")
        st.page_link("pages/welcome.py", label="Create your athlete")
        st.stop()
    return athlete


def sign_in_button(key: str = "sign_in") -> None:
    if st.button("Sign in", key=key, icon=":material/login:"):
        st.login()


def sign_out_button() -> None:
    if st.button("Sign out", key="sign_out", icon=":material/logout:"):
        forget_identity_cache()
        st.logout()


def default_timezone() -> str:
    """The browser's zone when Streamlit knows it, else the server's RUNLAKE_TIMEZONE."""
    zone = getattr(st.context, "timezone", None)
    return zone or data.settings().timezone


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
