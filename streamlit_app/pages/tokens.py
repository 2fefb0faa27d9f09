"""`/tokens`: the signed-in athlete's API tokens for the data API (docs/api.md, docs/tokens.md):
create one (shown once, never again), list them, revoke one. Only this athlete's tokens."""

import streamlit as st

from pipeline import tokens
from runlake.errors import RunlakeError
from streamlit_app import account, data, view

athlete = account.require_athlete()
st.title("API tokens")
st.caption("Tokens let an app, a watch face or a coach read your training from the runlake data API.")

SHOWN = "tokens_just_created"  # session state: the new token, shown on this run only

with st.form("new_token", clear_on_submit=True):
    name = st.text_input("Name", placeholder="coach", max_chars=64)
    private = st.checkbox("Include private data (read:private)", value=False,
                          help="Without it, the token reads only what your public pages show.")
    days = st.number_input("Expires in (days)", min_value=tokens.MIN_DAYS, max_value=tokens.MAX_DAYS, value=365, step=1)
    create = st.form_submit_button("Create")
if create:
    scopes = [tokens.READ_PRIVATE] if private else [tokens.READ_PUBLIC]
    try:
        token = tokens.create_token(view.read(data.lake), athlete.athlete_id, name=name.strip(), scopes=scopes,
                                    expires_in_days=int(days), now=account.now())
    except RunlakeError as exc:  # a bad or taken name: the user fixes it
        st.error(str(exc), icon=":material/error:")
    else:
        st.session_state[SHOWN] = (athlete.athlete_id, name.strip(), token)

just = st.session_state.pop(SHOWN, None)
if just is not None and just[0] == athlete.athlete_id:
    st.success(f"Token **{just[1]}** created. Copy it now: it is shown only once.", icon=":material/key:")
    st.code(just[2], language=None)

rows = view.read(tokens.list_tokens, data.lake(), athlete.athlete_id)
st.subheader("Your tokens")
if not rows:
    st.info("No tokens yet.")
    st.stop()
now = account.now()
st.dataframe(
    [{"name": t.name, "scopes": " ".join(sorted(t.scopes)), "created": t.created_at, "expires": t.expires_at,
      "state": t.state(now)} for t in rows],
    hide_index=True,
    column_config={"created": st.column_config.DatetimeColumn(format="D MMM YYYY"),
                   "expires": st.column_config.DatetimeColumn(format="D MMM YYYY")},
)
live = sorted({t.name for t in rows if t.state(now) == tokens.LIVE_STATE})
if live:
    with st.form("revoke_token"):
        chosen = st.selectbox("Token to revoke", live)
        revoke = st.form_submit_button("Revoke")
    if revoke:
        try:
            tokens.revoke_token(data.lake(), athlete.athlete_id, chosen, now=account.now())
        except RunlakeError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.rerun()
