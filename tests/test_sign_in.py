"""Who sees what, page by page (AppTest, the signed-in user set at the boundary): open only for the bundled
sample, the sign-in form, single sign-on by e-mail, each role's pages, officers' own children, idle expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from test_pages import app, as_user, db_url  # noqa: F401  (db_url is the fixture: a private copy of the sample)

from vsdash import auth, ui
from vsdash.child_search import FOUND
from vsdash.config import PROJECT_ROOT, load_config
from vsdash.ingest import SAMPLE_DATA, ingest_file
from vsdash.store import Store

PASSWORD = "a long enough password"
SSO = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "vsdash",
        "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration",
    }
}


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def real_data(store, tmp_path):
    """The sample with one more file that is not the bundled sample's: no longer safe to show openly."""
    resent = tmp_path / "children_resent.csv"
    resent.write_text((SAMPLE_DATA / "children.csv").read_text() + "\n")
    assert ingest_file(store, resent, load_config()).status == "loaded"
    return store


def shown_text(at: AppTest) -> str:
    """Every word the run put on screen: texts, metrics, tables and the options of every chooser."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "code",
        "text",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [e.value.to_csv() for e in at.dataframe]
    for kind in ("selectbox", "multiselect"):
        parts += [" ".join(map(str, e.options)) for e in getattr(at, kind)]
    return "\n".join(parts)


def names_and_upns(store: Store) -> list[str]:
    children = store.children_frame()
    return [*children["last_name"].drop_nulls().unique(), *children["upn"].drop_nulls().unique()]


def reaches(at: AppTest, page: str) -> bool:
    """Whether the navigation offers the page (st.navigation lists only a role's own pages). Ask right after
    an AppTest's first run: later runs start on the page file itself (Streamlit's legacy pages/ mode, see
    `ui.end_legacy_page_mode`), where the page's own check refuses a role instead."""
    try:
        at.switch_page(page)
    except ValueError as exc:
        assert "Could not find a navigation page" in str(exc)
        return False
    return True


def test_the_bundled_sample_with_no_users_is_open_and_says_so(db_url):
    at = app().run()
    assert not at.exception, at.exception
    assert at.info[0].value.startswith("Open demonstration: this is the bundled synthetic sample")
    assert [t.value for t in at.title] == ["Overview"]
    assert reaches(at, "pages/upload.py")


def test_other_data_with_no_sign_in_shows_no_child_on_any_page_or_url(real_data):
    child = real_data.children_frame().filter(pl.col("upn").is_not_null()).row(0, named=True)
    for page in ("overview", "triage", "child", "data", "users"):
        at = app()
        at.query_params["child"] = child["la_child_id"]
        at.run()
        assert not at.exception, at.exception
        assert [t.value for t in at.title] == ["Sign in"]
        assert "Nobody can sign in yet" in at.warning[0].value and "python -m vsdash user add" in at.warning[0].value
        assert not at.text_input  # no form: there is nobody to sign in as
        text = shown_text(at)
        assert not [w for w in names_and_upns(real_data) if w in text], page
        assert not reaches(at, f"pages/{page}.py")
    # A page file run on its own (Streamlit's legacy route to it) refuses too.
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "child.py"), default_timeout=90)
    at.query_params["child"] = child["la_child_id"]
    at.run()
    assert not at.exception, at.exception
    assert child["last_name"] not in shown_text(at) and [t.value for t in at.title] == ["Sign in"]


def test_a_local_user_signs_in_with_username_and_password(store):
    store.add_user("pat", "officer", password_hash=auth.hash_password(PASSWORD))
    at = app().run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    at.text_input[0].input("pat")
    at.text_input[1].input("not the password")
    at.button[0].click().run()
    assert at.error[0].value == auth.WRONG and [t.value for t in at.title] == ["Sign in"]
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Overview"]
    assert any("Signed in as **pat** (officer)" in m.value for m in at.sidebar.markdown)
    assert store.audit_frame()["event"].to_list() == ["signed in", "sign-in failed"]
    at.button(key="sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert store.audit_frame()["event"][0] == "signed out"


@pytest.mark.parametrize(
    ("role", "reachable", "unreachable"),
    [
        (
            "forum",
            ["pages/about.py"],
            [
                "pages/triage.py",
                "pages/child.py",
                "pages/suspensions.py",
                "pages/data.py",
                "pages/upload.py",
                "pages/users.py",
            ],
        ),
        (
            "manager",
            ["pages/triage.py", "pages/child.py", "pages/suspensions.py"],
            ["pages/data.py", "pages/upload.py", "pages/users.py"],
        ),
        (
            "officer",
            ["pages/triage.py", "pages/child.py", "pages/suspensions.py"],
            ["pages/data.py", "pages/upload.py", "pages/users.py"],
        ),
        ("admin", ["pages/triage.py", "pages/data.py", "pages/upload.py", "pages/users.py"], []),
    ],
)
def test_each_role_is_offered_only_its_own_pages(store, role, reachable, unreachable):
    at = as_user(app(), store, "someone", role).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Overview"]
    for page in unreachable:
        assert not reaches(at, page), page
    for page in reachable:
        assert reaches(at, page), page
    for page in reachable:  # and each opens for the role
        opened = app()
        opened.session_state[ui.SIGNED_IN] = "someone"
        opened.run().switch_page(page).run()
        assert not opened.exception, (page, opened.exception)
        assert not [e.value for e in opened.error if "may not" in e.value], page
    for page in unreachable:  # while the page file run on its own refuses the role
        alone = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=90)
        alone.session_state[ui.SIGNED_IN] = "someone"
        alone.run()
        assert f"{role} role may not open this page" in alone.error[0].value, page


def test_a_forum_user_cannot_reach_a_child_by_editing_the_url(store):
    child = store.children_frame().filter(pl.col("upn").is_not_null()).row(0, named=True)
    store.add_user("fay", "forum")
    for path in ("child.py", "triage.py"):
        at = AppTest.from_file(str(PROJECT_ROOT / "pages" / path), default_timeout=90)
        at.session_state[ui.SIGNED_IN] = "fay"
        at.query_params["child"] = child["la_child_id"]
        at.run()
        assert not at.exception, at.exception
        assert "forum role may not open this page" in at.error[0].value
        assert not [w for w in names_and_upns(store) if w in shown_text(at)]
    assert store.audit_frame(event=auth.CHILD_OPENED).is_empty()


def test_an_officer_limited_to_a_team_sees_only_that_team(store):
    team = "North Children in Care"
    at = as_user(app(), store, "olly", "officer", teams=[team]).run()
    at.switch_page("pages/triage.py").run()
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["team"]) == {team}
    others = store.children_frame().join(
        store.frames(load_config()).children.select("la_child_id"), on="la_child_id"
    )  # every listed child
    at.switch_page("pages/child.py").run()
    at.text_input(key="child_search").set_value("s").run()  # a start hundreds of the sample's children share
    assert not at.exception, at.exception
    offered = {b.key.removeprefix(FOUND) for b in at.button if b.key and b.key.startswith(FOUND)}
    theirs = set(store.frames(load_config()).children.filter(pl.col("team") == team)["la_child_id"])
    assert offered and offered <= theirs and len(theirs) < others.height


def test_single_sign_on_maps_the_e_mail_to_a_user(store):
    store.add_user("sam", "manager", email="sam@council.example")
    at = app()
    at.secrets = SSO
    at.user = {"is_logged_in": True, "email": "Sam@Council.example", "name": "Sam"}
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Overview"]
    assert any("Signed in as **sam** (manager)" in m.value for m in at.sidebar.markdown)
    at.run()
    assert store.audit_frame(event=auth.SIGNED_IN)["detail"].to_list() == ["single sign-on"]  # once a session


def test_single_sign_on_with_no_vsdash_user_shows_nothing_but_how_to_be_added(store):
    at = app()
    at.secrets = SSO
    at.user = {"is_logged_in": True, "email": "stranger@council.example"}
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert "no user with that e-mail" in at.warning[0].value
    assert not [w for w in names_and_upns(store) if w in shown_text(at)]


def test_single_sign_on_not_yet_signed_in_offers_the_button(store):
    at = app()
    at.secrets = SSO
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    assert at.button(key="sso_sign_in").label == "Sign in with your organisation's account"


def test_an_idle_session_must_sign_in_again(store):
    at = as_user(app(), store, "pat", "officer")
    at.session_state[ui.LAST_SEEN] = datetime.now(UTC) - timedelta(minutes=load_config().access.idle_minutes + 1)
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert "signed out after" in at.info[0].value


def test_an_admin_previews_the_app_as_the_forum(store):
    at = as_user(app(), store, "ann", "admin").run()
    at.selectbox(key=ui.PREVIEW_ROLE).set_value("forum").run()
    assert not at.exception, at.exception
    assert any("Signed in as **ann** (forum)" in m.value for m in at.sidebar.markdown)
    assert at.selectbox(key=ui.PREVIEW_ROLE).value == "forum"  # the way back stays on screen
    fresh = app()  # a new run's navigation: the forum's
    fresh.session_state[ui.SIGNED_IN] = "ann"
    fresh.session_state[ui.PREVIEW_ROLE] = "forum"
    fresh.run()
    assert not reaches(fresh, "pages/triage.py") and reaches(fresh, "pages/about.py")
    store.add_user("oli", "officer")
    officer = app()
    officer.session_state[ui.SIGNED_IN] = "oli"
    officer.session_state[ui.PREVIEW_ROLE] = "admin"  # only an admin may preview
    officer.run()
    assert not reaches(officer, "pages/upload.py")


def test_pseudonymised_mode_shows_no_name_or_upn_on_any_page(db_url, store, tmp_path, monkeypatch):
    import yaml

    from vsdash import config as config_mod

    raw = yaml.safe_load((PROJECT_ROOT / "config" / "vsdash.yaml").read_text())
    raw["access"]["pseudonymise"] = True
    path = tmp_path / "vsdash.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("VSDASH_CONFIG", str(path))
    config_mod.cached_config.cache_clear()
    at = app()
    at.secrets = {"vsdash": {"pseudonym_key": "a random secret of enough length"}}
    at.run()
    assert not at.exception, at.exception
    assert any("Pseudonymised" in i.value for i in at.sidebar.info)
    identities = names_and_upns(store) + store.children_frame()["la_child_id"].to_list()
    for page in ("pages/triage.py", "pages/child.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        text = shown_text(at)
        assert not [w for w in identities if f" {w} " in f" {text} " or f"({w}" in text], page
    at.text_input(key="child_search").set_value("a").run()  # an initial: children are found by their pseudonyms
    offered = [b.label for b in at.button if b.key and b.key.startswith(FOUND)]
    assert offered and all("(LA child ID PC-" in o for o in offered)
    text = " ".join(offered)
    assert not [w for w in identities if f" {w} " in f" {text} " or f"({w}" in text]
    config_mod.cached_config.cache_clear()
