"""The only module in vsdash that imports Streamlit: shared resources, the filter bar and common widgets."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.column_types import ColumnConfig
from streamlit.runtime.pages_manager import PagesManager

from vsdash import auth, charts, export, privacy, quality
from vsdash.access import DataAccess
from vsdash.auth import User
from vsdash.config import ROLES, Config, cached_config
from vsdash.filters import FilterError, Filters
from vsdash.glossary import SHORT_COLUMNS, column_label, counted, headed, terms
from vsdash.ingest import holds_only_sample, load_sample_if_empty
from vsdash.pack_files import PackError
from vsdash.store import ACTION_KINDS, Store
from vsdash.views import Card, Figures, FilterOptions


def end_legacy_page_mode() -> None:
    """Streamlit's one internal API vsdash uses, in one place (tests/test_pages.py fails if an upgrade changes it).

    With a pages/ folder beside app.py, Streamlit (1.67, runtime/pages_manager.py) starts each process in its
    legacy multipage mode: until some run calls st.navigation, a page's URL runs that file alone under a
    menu of file names. No public option ends it (client.showSidebarNavigation=false would hide app.py's own
    menu too); only a folder not named pages/ would. vsdash always navigates through app.py, so the legacy
    mode ends as soon as any page has imported this module; the one run that started in it (a page's URL
    opened first in a fresh process) is run again through app.py (`shell`).
    """
    PagesManager.uses_pages_directory = False


# Whether this process started in the legacy mode: its first page run may not have come through app.py.
_LEGACY_RUN_PENDING = [bool(PagesManager.uses_pages_directory)]
end_legacy_page_mode()
ROUTED = "routed_through_app"  # session state: app.py's navigation ran in this session

AREA_LABELS = {"all": "All schools", "in": "In-area schools", "out": "Out-of-area schools"}
EHCP_LABELS = {True: "With an EHCP", False: "Without an EHCP"}


@st.cache_resource(show_spinner=False, on_release=Store.dispose)
def _store(url: str) -> Store:
    """One engine per database URL, shared by every session (its connections closed if the cache is cleared)."""
    return Store(url)


@st.cache_resource(show_spinner="Loading the bundled sample authority (first start only)...")
def _bootstrap(url: str) -> int:
    """Load the bundled sample into an empty store once per process; returns the files loaded."""
    return len(load_sample_if_empty(_store(url), cached_config()))


@st.cache_resource(max_entries=2, show_spinner="Reading the latest data...")
def _figures(url: str, version: tuple, pseudonym_key: str | None = None) -> Figures:
    """Every mark and record, read once per data version and shared read-only by all sessions, with the
    per-window figures every filter change starts from (pseudonymised once, here, when the mode is on)."""
    frames = _store(url).frames(cached_config(), held=False)
    if pseudonym_key is not None:
        frames = privacy.pseudonymise(frames, _pseudonymiser(pseudonym_key))
    return Figures(frames, cached_config())


@st.cache_resource(max_entries=2, show_spinner=False)
def _quality(url: str, version: tuple, pseudonym_key: str | None = None) -> quality.DataQuality:
    """The same data version's data-quality figures, each worked out once and shared by all sessions (the
    Data quality page redraws them on every click; they change only with the version)."""
    return quality.DataQuality(lambda: _figures(url, version, pseudonym_key), _store(url), cached_config())


@st.cache_resource(show_spinner=False)
def _pseudonymiser(key: str) -> privacy.Pseudonymiser:
    """One pseudonymiser per key for the process: the one that made the figures' tokens knows what each stands
    for, so the door finds a real child without hashing the list again."""
    return privacy.Pseudonymiser(key)


def _pseudonym_key(cfg: Config) -> str | None:
    """The secrets.toml key when pseudonymised mode is on (the door refuses to open without one)."""
    if not cfg.access.pseudonymise or not st.secrets.load_if_toml_exists():
        return None
    return privacy.key_in(st.secrets)


# ---- who is looking -----------------------------------------------------------------------------------

SIGNED_IN = "vsdash_signed_in"  # session keys: the local user's name once their password was right,
LAST_SEEN = "vsdash_last_seen"  # when the session last did anything (idle expiry),
SSO_AUDITED = "vsdash_sso_audited"  # the single-sign-on e-mail whose sign-in is on the audit log,
PREVIEW_ROLE = "vsdash_preview"  # the role an admin is previewing the app as
NOTICE = "vsdash_sign_in_notice"  # why the sign-in page is showing (an expired session)
HOW_TO_ADD = "python -m vsdash user add NAME --role admin"


def single_sign_on() -> bool:
    """Whether `[auth]` in .streamlit/secrets.toml sets up single sign-on (Streamlit's st.login)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def _signed_in(store: Store) -> User | None:
    """The person this session belongs to, re-read from the store each run (a removed user is out at once)."""
    if single_sign_on() and st.user.is_logged_in:
        email = str(st.user.get("email") or "")
        user = auth.single_sign_on_user(store, email)
        if user is not None and st.session_state.get(SSO_AUDITED) != email:
            store.audit(auth.SIGNED_IN, user.name, user.role, detail="single sign-on")
            st.session_state[SSO_AUDITED] = email
        return user
    name = st.session_state.get(SIGNED_IN)
    account = store.account(name=name) if name else None
    return auth.user_of(account) if account else None


def _expired(cfg: Config) -> bool:
    """True, once, when a signed-in session has been idle too long: it is signed out and must sign in again."""
    now = datetime.now(UTC)
    last, st.session_state[LAST_SEEN] = st.session_state.get(LAST_SEEN), now
    signed_in = SIGNED_IN in st.session_state or (single_sign_on() and st.user.is_logged_in)
    if not signed_in or not auth.idle_expired(last, cfg, now):
        return False
    st.session_state.pop(SIGNED_IN, None)
    st.session_state[NOTICE] = (
        f"You were signed out after {cfg.access.idle_minutes} minutes without use. Sign in again."
    )
    return True


def visitor() -> User | None:
    """Who is looking: a signed-in user, the open sample's visitor, or None (the sign-in page must show)."""
    cfg = cached_config()
    _bootstrap(cfg.database_url)
    store = _store(cfg.database_url)
    if _expired(cfg) and single_sign_on() and st.user.is_logged_in:
        st.logout()
    user = _signed_in(store)
    if user is None:
        if single_sign_on() or store.has_users() or not holds_only_sample(store):
            return None
        user = auth.OPEN_SAMPLE_VISITOR
    preview = st.session_state.get(PREVIEW_ROLE)
    if user.role == "admin" and preview in ROLES and preview != "admin":
        return replace(user, role=preview, previewing=True)
    return user


def may_open(user: User, page: str) -> bool:
    """Whether the configuration lets this person's role open the page."""
    return page in cached_config().access.pages(user.role)


def access(user: User) -> DataAccess:
    """The viewer's door to the data."""
    cfg = cached_config()
    store = _store(cfg.database_url)
    # A new load or a confirmed / withdrawn UPN match changes the figures: either makes a new cache key.
    version = (store.data_version(), store.alias_state())
    key = _pseudonym_key(cfg)
    return DataAccess(
        store,
        cfg,
        user,
        figures_source=lambda: _figures(cfg.database_url, version, key),
        quality_source=lambda: _quality(cfg.database_url, version, key),
        memory=st.session_state,
        pseudonymiser=_pseudonymiser(key) if key else None,
    )


def sign_in_page() -> None:
    """Sign in with a username and password, or through the organisation's identity provider; or, when nobody
    can sign in yet, how to add the first user."""
    st.set_page_config(page_title="Sign in: vsdash", page_icon=":material/lock:", layout="centered")
    cfg = cached_config()
    store = _store(cfg.database_url)
    st.title("Sign in")
    st.caption(cfg.authority_name)
    if notice := st.session_state.pop(NOTICE, None):
        st.info(notice)
    sso = single_sign_on()
    if sso and st.user.is_logged_in:
        email = st.user.get("email") or "an account with no e-mail"
        st.warning(
            f"You are signed in as {email}, but vsdash has no user with that e-mail. "
            f"Ask an admin to add you: `python -m vsdash user add NAME --role ROLE --email {email}`."
        )
        st.button("Sign out", on_click=st.logout, key="sso_sign_out")
        return
    if not sso and not store.has_users():
        st.warning(
            "Nobody can sign in yet. This store holds data that is not the bundled sample, so no child is "
            f"shown until an admin adds a user on the server: `{HOW_TO_ADD}`."
        )
        return
    if sso:
        st.button("Sign in with your organisation's account", on_click=st.login, key="sso_sign_in", type="primary")
    if store.has_users():
        with st.form("sign_in"):
            name = st.text_input("Username", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            if st.form_submit_button("Sign in", type="primary"):
                try:
                    user = auth.sign_in(store, cfg, name, password)
                except auth.SignInRefused as exc:
                    st.error(str(exc))
                else:
                    st.session_state[SIGNED_IN] = user.name
                    st.rerun()


def not_for_this_role(title: str) -> None:
    """What a link to a page this role may not open shows instead."""
    st.set_page_config(page_title=f"{title}: vsdash", page_icon=":material/block:", layout="wide")
    st.title(title)
    st.error("Your role may not open this page. Choose a page on the left.")


def sign_out(user: User) -> None:
    """End the session's sign-in (and the identity provider's, for single sign-on)."""
    cfg = cached_config()
    _store(cfg.database_url).audit(auth.SIGNED_OUT, user.audit_name, user.role)
    for key in (SIGNED_IN, SSO_AUDITED, PREVIEW_ROLE):
        st.session_state.pop(key, None)
    if single_sign_on() and st.user.is_logged_in:
        st.logout()


def who_panel(user: User) -> None:
    """Who is signed in, the admin's preview of another role, and the way out; or the open sample's banner."""
    if user.open_sample:
        st.info(
            "Open demonstration: this is the bundled synthetic sample, so nobody has to sign in. Add a user "
            f"before loading real data (`{HOW_TO_ADD}`): from then on everyone signs in.",
            icon=":material/lock_open:",
        )
        return
    with st.sidebar:
        st.markdown(f"Signed in as **{user.name}** ({user.role})")
        if user.role == "admin" or user.previewing:
            st.selectbox(
                "Preview the app as",
                ROLES,
                key=PREVIEW_ROLE,
                help="See exactly what another role sees; choose admin to return.",
            )
        st.button("Sign out", key="sign_out", on_click=sign_out, args=(user,))


# ---- the filter bar ---------------------------------------------------------------------------------


def url_text(value: object) -> str:
    """A filter's value as the URL carries it: the code (CP, a URN, in, yes), never the label people read."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value.isoformat() if isinstance(value, date) else str(value)


def _from_url(key: str, options: list, label: str, notes: list[str]) -> None:
    """On a session's first run, a filter's value from the URL's code; a code the data has not is reported."""
    if key in st.session_state or key not in st.query_params:
        return
    wanted = st.query_params[key]
    by_code = {url_text(o): o for o in options}
    if wanted in by_code:
        st.session_state[key] = by_code[wanted]
    elif wanted.strip():
        shown = wanted if len(wanted) <= 40 and wanted.isprintable() else wanted[:40].encode("unicode_escape").decode()
        notes.append(f"Unknown {label} “{shown}” ignored.")


def _to_url(key: str, value: object, default: object = None) -> None:
    """Keep the filter in the URL as its code, and out of it when it has its default (the URL stays short)."""
    if value is None or value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = url_text(value)


def _choice(
    label: str,
    options: list,
    key: str,
    notes: list[str],
    labels: dict | None = None,
    help: str | None = None,
    placeholder: str = "All",
):
    """A selectbox that starts empty (no filter) and can be cleared again, kept in the URL under `key` as a code."""
    _from_url(key, options, label.lower(), notes)
    value = st.selectbox(
        label,
        options,
        index=None,
        placeholder=placeholder,
        key=key,
        help=help,
        format_func=lambda v: (labels or {}).get(v, str(v)),
    )
    _to_url(key, value)
    return value


def filter_bar(options: FilterOptions, cfg: Config) -> Filters:
    """The sidebar filters shared by every page; each is a URL parameter (a code) so a view can be shared.
    A value the URL gives that the data has not is said in the sidebar, not silently dropped."""
    latest = options.last_date or date.today()
    notes: list[str] = []
    first_run = "as_of" not in st.session_state
    asked = {k: st.query_params.get(k) for k in ("as_of", "start")}
    with st.sidebar:
        st.markdown("#### Filters")
        as_of = st.date_input(
            "As at",
            value=latest,
            key="as_of",
            bind="query-params",
            format="DD/MM/YYYY",
            min_value=options.first_date,
            max_value=latest,
            help="Figures count every session up to and including this date.",
        )
        start = st.date_input(
            "From (blank: start of the academic year)",
            value=None,
            key="start",
            bind="query-params",
            format="DD/MM/YYYY",
            min_value=options.first_date,
            max_value=latest,
        )
        if first_run:
            for key, label, value in (("as_of", "As-at date", as_of), ("start", "From date", start)):
                wanted = asked[key]
                if wanted and (value is None or wanted != value.isoformat()):
                    shown = wanted[:20] if wanted.isprintable() else "that value"
                    notes.append(f"{label} “{shown}” is not a date within the data loaded: ignored.")
        cohort = _choice(
            "Cohort",
            options.cohorts,
            "cohort",
            notes,
            {c: f"{c}: {label}" for c, label in cfg.cohorts.items()},
            help="Children in the cohort as at the as-at date.",
        )
        school = _choice(
            "School", list(options.schools), "school_urn", notes, {u: f"{n} ({u})" for u, n in options.schools.items()}
        )
        _from_url("area", list(AREA_LABELS), "area", notes)
        area = st.selectbox("In or out of area", list(AREA_LABELS), key="area", format_func=lambda a: AREA_LABELS[a])
        _to_url("area", area, default="all")
        school_la = _choice(
            "School's local authority", list(options.school_las), "school_la", notes, options.school_las
        )
        locality = _choice("Locality", options.localities, "locality", notes)
        # Narrowed by the locality chosen, so a projector's list holds only the teams that can match.
        team = _choice("Social-care team", options.teams_in(locality), "team", notes)
        worker = _choice("Social worker", options.social_workers_in(locality, team), "social_worker", notes)
        year = _choice("Year group", options.year_groups, "year_group", notes)
        ehcp = _choice("EHCP", [True, False], "ehcp", notes, EHCP_LABELS, placeholder="Any")
        chosen = {
            "as_of": as_of or latest,
            "cohort": cohort,
            "school_urn": school,
            "area": area,
            "school_la": school_la,
            "locality": locality,
            "team": team,
            "social_worker": worker,
            "year_group": year,
            "ehcp": ehcp,
        }
        try:
            filters = Filters(start=start, **chosen)
        except FilterError as exc:
            # The one rule between filters: a window cannot start after its as-at date.
            notes.append(f"{exc}: the window starts at the academic year's start instead. Choose an earlier From date.")
            filters = Filters(**chosen)
        for note in notes:
            st.warning(note, icon=":material/link_off:")
    return filters


@dataclass(frozen=True)
class Shell:
    """What every page starts from: configuration, the viewer's data access, the filters and their options."""

    cfg: Config
    access: DataAccess
    filters: Filters
    options: FilterOptions

    @property
    def described(self) -> str:
        """The selection as a sentence, for captions and exports."""
        return self.filters.describe(self.options.schools, self.cfg.cohorts)


# WCAG 2.2 AA 2.5.8 (target size, minimum): a pointer target is at least 24 by 24 CSS pixels. Streamlit's
# date field draws its day and month as 18 by 20 px pieces side by side; the field has room to grow them.
_CSS = """
<style>
[data-testid="stDateInputField"] [role="spinbutton"] {
  display: inline-flex; align-items: center; justify-content: center; min-width: 24px; min-height: 24px;
}
</style>
"""


def _styles() -> None:
    """The few style rules the theme cannot set, each for a WCAG 2.2 AA failure axe-core found
    (tests/test_accessibility.py); nothing here only for looks."""
    st.html(_CSS)


def shell(page: str) -> Shell:
    """The frame around every page: who is signed in, authority, data freshness and the filter bar.

    Each page calls this itself rather than relying on app.py: Streamlit runs a file in pages/ on its own
    when that folder exists and no st.navigation call has happened yet in the process (see
    `end_legacy_page_mode`), so the page itself refuses a visitor who has not signed in or whose role may
    not open it.
    """
    if _LEGACY_RUN_PENDING[0] and not st.session_state.get(ROUTED):
        # Opened by URL in a fresh process, Streamlit ran this page file alone under a menu of file names:
        # run it again through app.py's navigation, once.
        _LEGACY_RUN_PENDING[0] = False
        st.rerun()
    user = visitor()
    if user is None:
        sign_in_page()
        st.stop()
    st.set_page_config(page_title="vsdash", page_icon=":material/school:", layout="wide")
    _styles()
    if not may_open(user, page):
        st.error(f"The {user.role} role may not open this page. Choose a page on the left.")
        st.stop()
    cfg = cached_config()
    who_panel(user)
    data = access(user)
    if data.pseudonymised:
        st.sidebar.info(
            "Pseudonymised: initials and keyed codes stand in for every child's name, UPN and "
            "LA child ID, on every page and in every download.",
            icon=":material/masks:",
        )
    st.sidebar.markdown(f"### {cfg.authority_name}")
    freshness_panel(data)
    options = data.filter_options()
    return Shell(cfg, data, filter_bar(options, cfg), options)


# ---- common widgets --------------------------------------------------------------------------------


def freshness_panel(access: DataAccess) -> None:
    """'Data as at' and each feed's last load, always visible in the sidebar."""
    fresh = access.freshness()
    attendance = fresh.filter(pl.col("kind") == "attendance").row(0, named=True)
    with st.sidebar:
        if attendance["data_up_to"]:
            st.markdown(f"**Data as at {attendance['data_up_to']:%a %d/%m/%Y}**")
        else:
            st.markdown("**No attendance loaded yet**")
        lines = []
        for row in fresh.iter_rows(named=True):
            when = f"{row['last_loaded_at']:%d/%m/%Y %H:%M}" if row["last_loaded_at"] else "never"
            lines.append(
                f"- {row['kind']}: loaded {when}"
                + (f", up to {row['data_up_to']:%d/%m/%Y}" if row["data_up_to"] else "")
            )
        st.caption("Feeds\n" + "\n".join(lines))


def cards(items: list[Card], cfg: Config, last_month: date, last_year: date | None = None) -> None:
    """Headline cards: value, change since last month (green when it is good news), the same point last year,
    and each national figure beside the local figure for the same group."""
    words = terms(cfg)
    columns = [c for row in range(0, len(items), 4) for c in st.columns(4)]
    for column, card in zip(columns, items, strict=False):  # the grid may have more places than cards
        pill = card.pill()
        earlier = "no figures" if card.last_year is None else card.shown(card.last_year)
        lines = [f"Same point last year ({last_year:%d/%m/%Y}): {earlier}"] if last_year else []
        lines += [c.text() for c in card.comparisons]
        column.metric(
            card.label,
            card.shown(card.value),
            pill.text if pill else None,
            delta_color=pill.colour if pill else "normal",
            delta_arrow=pill.arrow if pill else "auto",
            delta_description=f"vs {last_month:%d/%m/%Y}" if pill else None,
            help=words.of(card.key).help + f" Change since the same date last month, {last_month:%d/%m/%Y}.",
        )
        if lines:
            column.caption("  \n".join(lines))


def _selection_parts() -> list[str]:
    """The filter bar's selection as this run drew it, in short words for a file name (none when it is refused)."""
    # The filter bar's widgets are keyed by the Filters fields.
    state = {f: st.session_state[f] for f in Filters.__dataclass_fields__ if f in st.session_state}
    if not state.get("as_of"):
        return []
    with contextlib.suppress(FilterError):  # a selection the filter bar refuses (and says so): the plain name
        return export.selection_parts(Filters(**{**state, "area": state.get("area") or "all"}))
    return []


def chart(fig: go.Figure, key: str, forum: bool = False) -> None:
    """Every chart of every page: its camera button always there, saving a PNG at twice the screen's size
    (sharp on a projector or a slide), the file named by the chart's title and the selection as downloads are;
    in forum mode drawn in the projector's larger text (`charts.for_forum`)."""
    title = fig.layout.title.text
    png = {"format": "png", "filename": export.file_name(title or key, _selection_parts(), ""), "scale": 2}
    # Only the camera in the bar: plotly's zoom and pan icons, always shown, sat over the chart's title.
    config = {
        "toImageButtonOptions": png,
        "displaylogo": False,
        "displayModeBar": True,
        "modeBarButtons": [["toImage"]],
    }
    st.plotly_chart(charts.for_forum(fig) if forum else fig, key=key, config=config, alt=title or None)


def side_by_side(count: int, forum: bool = False) -> list[DeltaGenerator]:
    """Places for charts shown side by side; in forum mode one under another, each the page's full width, as a
    projector needs."""
    return [st.container() for _ in range(count)] if forum else list(st.columns(count))


def downloads(
    access: DataAccess,
    frame: pl.DataFrame,
    name: str,
    about: list[str],
    key: str,
    selection: bool = True,
    child_rows: bool = False,
) -> None:
    """CSV and XLSX buttons for exactly the table shown, headed in people's words (`glossary.headed`), the files
    named by the filter bar's selection and as-at date (`selection=False` for a table the filters do not apply
    to); the XLSX has `about` above its table.
    Each file goes out through the door, which refuses named children to a role without them (`child_rows`)
    and puts the export on the audit log."""
    parts = _selection_parts() if selection else []
    # The files are built only when a button is clicked: writing a large XLSX on every rerun cost seconds.
    what = "; ".join(about)
    csv_name, xlsx_name = export.file_name(name, parts, ".csv"), export.file_name(name, parts, ".xlsx")
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "Download CSV",
        lambda: access.export(export.csv_bytes(headed(frame)), csv_name, what, child_rows),
        csv_name,
        "text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
    right.download_button(
        "Download XLSX",
        lambda: access.export(export.xlsx_bytes(headed(frame), about, sheet=name), xlsx_name, what, child_rows),
        xlsx_name,
        export.XLSX_TYPE,
        key=f"{key}_xlsx",
        on_click="ignore",
    )


def action_form(access: DataAccess, children: dict[str, str], key: str) -> None:
    """Record what was done for a child, in the signed-in user's name. With several children the officer
    chooses one (never a default that could be the wrong child); what was typed stays after a mistake."""
    if access.pseudonymised:
        st.caption("Actions are not recorded in pseudonymised mode.")
        return
    round_ = st.session_state.get(f"{key}_round", 0)  # a new round empties the form once an action is saved
    with st.form(f"{key}_{round_}"):
        child_id: str | None = next(iter(children)) if len(children) == 1 else None
        if child_id is not None:
            st.markdown(f"For **{children[child_id]}** ({child_id})")
        else:
            child_id = st.selectbox(
                "Child",
                list(children),
                index=None,
                placeholder="Choose the child",
                format_func=lambda i: f"{children[i]} ({i})",
            )
        kind = st.selectbox("Action", ACTION_KINDS)
        note = st.text_area("Note", placeholder="What was agreed, who to call next")
        follow_up = st.date_input(
            "Follow up on", value=None, format="DD/MM/YYYY", help="The list shows the follow-up as due from this date."
        )
        st.caption(f"Recorded as {access.user.name}.")
        if st.form_submit_button("Save action"):
            if child_id is None:
                st.error("Choose the child this action is for; nothing was saved.")
                return
            access.record_action(child_id, kind, note, follow_up)
            st.session_state[f"{key}_round"] = round_ + 1
            st.session_state[f"{key}_saved"] = f"Saved: {kind} for {children[child_id]}."
            st.rerun()
    if saved := st.session_state.pop(f"{key}_saved", None):
        st.success(saved)


def follow_up_form(access: DataAccess, due: pl.DataFrame, key: str) -> None:
    """Mark the follow-ups the officer has done (rows of the triage list with `action_id`), in their name."""
    if saved := st.session_state.pop(f"{key}_saved", None):
        st.success(saved)
    if access.pseudonymised or due.is_empty():
        return
    st.subheader("Mark follow-ups done")
    labels = {
        r["action_id"]: f"{r['child']}: {r['last_action_text']}, follow up {r['follow_up_text']}"
        for r in due.iter_rows(named=True)
    }
    with st.form(key):
        done = st.multiselect(
            "Follow-ups done", list(labels), format_func=lambda i: labels[i], placeholder="Choose follow-ups"
        )
        st.caption(f"Marked as done by {access.user.name}.")
        if st.form_submit_button("Mark done"):
            if not done:
                st.error("Choose the follow-ups that are done; nothing was changed.")
                return
            for action_id in done:
                access.mark_follow_up_done(action_id)
            st.session_state[f"{key}_saved"] = f"Marked done: {counted(len(done), 'follow-up')}."
            st.rerun()


def children_table(
    access: DataAccess,
    rows: pl.DataFrame,
    shown: tuple[str, ...],
    key: str,
    name: str,
    about: list[str],
    empty: str,
    **overrides: ColumnConfig | str | None,
) -> None:
    """A list of named children (the columns `shown`, people's headers) with its CSV and XLSX, or a sentence
    saying nobody is on it."""
    if rows.is_empty():
        st.info(empty)
        return
    st.dataframe(rows, hide_index=True, key=key, column_order=shown, column_config=table_columns(rows, **overrides))
    downloads(access, rows, name, about, key=f"dl_{key}", child_rows=True)


def table_columns(frame: pl.DataFrame, **overrides: ColumnConfig | str | None) -> dict[str, ColumnConfig | str | None]:
    """Column settings for any table: people's headers (`glossary.COLUMNS`), dates as DD/MM/YYYY, times as
    DD/MM/YYYY HH:mm, yes/no as ticks; `overrides` for a column that needs more (a help text, a bar)."""
    settings: dict[str, ColumnConfig | str | None] = {}
    for column, dtype in frame.schema.items():
        label = column_label(column)
        if dtype == pl.Date:
            settings[column] = st.column_config.DateColumn(label, format="DD/MM/YYYY")
        elif isinstance(dtype, pl.Datetime):
            settings[column] = st.column_config.DatetimeColumn(label, format="DD/MM/YYYY HH:mm")
        elif dtype == pl.Boolean:
            settings[column] = st.column_config.CheckboxColumn(label)
        else:
            settings[column] = label
    return settings | overrides


def pct_column(label: str, help: str | None = None, width: int | None = None) -> ColumnConfig:
    """A percentage as a bar with its value."""
    return st.column_config.ProgressColumn(label, min_value=0, max_value=100, format="%.1f%%", help=help, width=width)


def forum_switch(access: DataAccess, key: str) -> bool:
    """The "Forum mode" switch: fixed on for the forum role; anyone else may turn it on to see (and export)
    exactly what a forum sees. The door applies it; this only asks."""
    if access.role == "forum":
        st.caption(
            f"Forum mode: counts from 1 to {access.cfg.forum.threshold - 1} and the figures that would give them "
            "away are shown as c; no child is named."
        )
        return True
    return st.toggle(
        "Forum mode",
        key=key,
        help=f"Show what a headteachers' forum may see: counts from 1 to {access.cfg.forum.threshold - 1} and the "
        "figures that would give them away as c (the DfE's symbol), z where a rate has nothing to divide by.",
    )


def optional(value: str | None, everything: str) -> str | None:
    """A select box's choice as a filter value: None for the "All" entry."""
    return None if value == everything else value


def figure_columns(frame: pl.DataFrame, forum: bool) -> dict[str, ColumnConfig | str | None]:
    """Column settings for a table of figures: rates and differences to one decimal; in forum mode the
    figures are text (c, z, x) and shown as they are."""
    if forum:
        return table_columns(frame)
    decimals = {
        c: st.column_config.NumberColumn(column_label(c), format="%.1f")
        for c, dtype in frame.schema.items()
        if dtype.is_float()
    }
    return table_columns(frame, **decimals)


def compact_figure_columns(frame: pl.DataFrame, forum: bool) -> dict[str, ColumnConfig | str | None]:
    """`figure_columns` with short headers (`glossary.SHORT_COLUMNS`, the full one as each column's help), so a
    table of figures fits a 1440 px screen whole instead of hiding its last columns behind a sideways scroll."""
    settings = figure_columns(frame, forum)
    for column in set(frame.columns) & set(SHORT_COLUMNS):
        changes = {"label": SHORT_COLUMNS[column], "help": column_label(column)}
        setting = settings[column]
        base = setting if isinstance(setting, dict) else st.column_config.Column(setting)
        settings[column] = ColumnConfig(**{**base, **changes})  # type: ignore[typeddict-item]
    return settings


def every_row(frame: pl.DataFrame) -> int:
    """A table's height in pixels with every row shown: nothing hides below a scroll on a projector."""
    return 36 * (frame.height + 1) + 3


def text_when_forum(
    settings: dict[str, ColumnConfig | str | None], forum: bool
) -> dict[str, ColumnConfig | str | None]:
    """A table's column settings for forum mode, whose figures are text (c, z, x): number and bar columns
    become text columns with the same header and help; unchanged otherwise."""
    if not forum:
        return settings

    def as_text(setting: ColumnConfig | str | None) -> ColumnConfig | str | None:
        kind = dict(setting.get("type_config") or {}).get("type") if isinstance(setting, dict) else None
        if kind in ("number", "progress"):
            assert isinstance(setting, dict)
            return st.column_config.TextColumn(setting.get("label"), help=setting.get("help"))
        return setting

    return {column: as_text(setting) for column, setting in settings.items()}


PACK_FORMATS = {".pdf": "PDF (to print or send)", ".html": "HTML (opens offline)", ".xlsx": "XLSX (every table)"}
PACK_TYPES = {".pdf": "application/pdf", ".html": "text/html", ".xlsx": export.XLSX_TYPE}


def meeting_pack(access: DataAccess, filters: Filters, forum: bool) -> None:
    """The Overview's button for the monthly pack: made on request (Chromium draws it in a few seconds), then
    offered for download; the door makes a forum pack for the forum role whatever is asked."""
    with st.expander("Meeting pack: these figures as pages for the meeting"):
        cohort = [filters.cohort] if filters.cohort else []
        st.caption(
            f"Every child{' in the cohort chosen' if cohort else ''} as at {filters.as_of:%d/%m/%Y}, from the start "
            "of the academic year; the other filters do not apply. "
            + ("A forum pack: small numbers withheld as on this page." if access.forum_mode(forum) else "")
        )
        chosen = st.radio(
            "Format", list(PACK_FORMATS), format_func=PACK_FORMATS.get, horizontal=True, key="pack_format"
        )
        if st.button("Make the meeting pack", key="pack_make"):
            try:
                with st.spinner("Drawing the pack..."):
                    st.session_state["pack_file"] = access.meeting_pack_file(chosen, filters.as_of, cohort, forum)
            except PackError as error:
                st.error(str(error))
        made = st.session_state.get("pack_file")
        if made and made[0].endswith(chosen):
            st.download_button(
                f"Download {made[0]}", made[1], made[0], PACK_TYPES[chosen], key="pack_download", on_click="ignore"
            )
