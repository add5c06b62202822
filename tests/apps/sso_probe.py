"""A tiny app for the sign-in tests: a Sign in button calling st.login(), then who is signed in and Sign out."""

import streamlit as st

st.title("SSO probe")
if st.user.is_logged_in:
    st.text(f"Signed in as {st.user.email}")
    st.text(f"Name: {st.user.name}")
    if st.button("Sign out"):
        st.logout()
else:
    st.text("Not signed in")
    if st.button("Sign in"):
        st.login()
