"""Users and the audit log (admin only): who may sign in with which role and limits, and who did what, when."""

import polars as pl
import streamlit as st

from vsdash import ui
from vsdash.glossary import PAGE_TITLES


def limits(column: str, dtype: pl.DataType) -> pl.Expr:
    """A stored JSON list of limits as words: "all" when the user has none."""
    joined = pl.col(column).str.json_decode(pl.List(dtype)).cast(pl.List(pl.String)).list.join(", ")
    return pl.when(joined == "").then(pl.lit("all")).otherwise(joined).alias(column)


shell = ui.shell("users")
cfg, access = shell.cfg, shell.access
st.title("Users and audit log")
users_tab, audit_tab = st.tabs(["Users", "Audit log"])

with users_tab:
    users = access.users()
    st.caption(
        f"{users.height:,} user{'s' if users.height != 1 else ''} may sign in. Users are managed on the server: "
        "`python -m vsdash user add NAME --role ROLE [--email E] [--teams T,...] [--schools URN,...] "
        "[--localities L,...]`, `user list`, `user reset NAME`, `user remove NAME`."
    )
    shown = users.select(
        "name",
        pl.col("email").fill_null("—"),
        "role",
        *(limits(c, dtype) for c, dtype in (("teams", pl.String), ("schools", pl.Int64), ("localities", pl.String))),
        pl.when(pl.col("has_password")).then(pl.lit("password")).otherwise(pl.lit("single sign-on")).alias("sign_in"),
        "failed_sign_ins",
        # An empty cell would show Streamlit's faint "None" (under 4.5:1 contrast, and a word nobody should read).
        pl.col("locked_until").dt.strftime("%d/%m/%Y %H:%M").fill_null("not locked"),
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="users",
        column_config={
            "name": "Username",
            "email": "E-mail",
            "role": "Role",
            "teams": "Teams",
            "schools": "Schools (URN)",
            "localities": "Localities",
            "sign_in": "Signs in with",
            "failed_sign_ins": st.column_config.NumberColumn("Wrong passwords in a row"),
            "locked_until": "Locked until (UTC)",
        },
    )
    st.caption(
        "Each role's pages: "
        + "; ".join(
            f"**{role}**: {', '.join(PAGE_TITLES[p] for p in cfg.access.pages(role))}" for role in cfg.access.roles
        )
    )

with audit_tab:
    log = access.audit_log()
    left, middle, right = st.columns(3)
    event = left.selectbox(
        "Event", sorted(log["event"].unique().to_list()), index=None, placeholder="All", key="audit_event"
    )
    who = middle.selectbox(
        "User",
        sorted(log["user_name"].drop_nulls().unique().to_list()),
        index=None,
        placeholder="All",
        key="audit_user",
    )
    child = right.text_input("LA child ID", key="audit_child", placeholder="Any child")
    chosen = log.filter(
        pl.lit(True) if event is None else pl.col("event") == event,
        pl.lit(True) if who is None else pl.col("user_name") == who,
        pl.lit(True) if not child.strip() else pl.col("la_child_id") == child.strip(),
    ).select(
        "at",
        pl.col("user_name").fill_null("nobody signed in"),
        pl.col("role").fill_null("—"),
        "event",
        pl.col("la_child_id").fill_null(""),
        pl.col("detail").fill_null(""),
    )
    st.caption(f"{chosen.height:,} of {log.height:,} entries, newest first. Entries are only ever added.")
    st.dataframe(
        chosen,
        hide_index=True,
        key="audit_log",
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm:ss"),
            "user_name": "User",
            "role": "Role",
            "event": "Event",
            "la_child_id": "LA child ID",
            "detail": "Detail",
        },
    )
    ui.downloads(
        access,
        chosen,
        "audit_log",
        [f"{cfg.authority_name}: audit log"],
        key="dl_audit",
        selection=False,
        child_rows=True,
    )
