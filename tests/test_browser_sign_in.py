"""Signing in through the real app in a real browser (Debian's Chromium): a local user with a password, each
seeing what their role allows and nothing else."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from test_browser import SHOTS, browser, find_child, need_chromium, open_page, running_app  # noqa: F401  (browser: fixture)

from vsdash import auth
from vsdash.config import load_config
from vsdash.ingest import SAMPLE_DATA, ingest_file
from vsdash.store import Store

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"


def not_only_the_sample(sample_db: str, folder) -> tuple[str, Store]:
    """A copy of the sample store with one more file loaded: no longer safe to show openly."""
    shutil.copy(sample_db, folder / "vsdash.db")
    url = f"sqlite:///{folder / 'vsdash.db'}"
    store = Store(url)
    resent = folder / "children_resent.csv"
    resent.write_text((SAMPLE_DATA / "children.csv").read_text() + "\n")
    assert ingest_file(store, resent, load_config()).status == "loaded"
    return url, store


@pytest.fixture(scope="module")
def signed_app(sample_db, tmp_path_factory):
    """The app over data that is not only the bundled sample, with an officer and a forum user."""
    need_chromium()
    url, store = not_only_the_sample(sample_db, tmp_path_factory.mktemp("browser_sign_in"))
    for name, role in (("pat", "officer"), ("fay", "forum")):
        store.add_user(name, role, password_hash=auth.hash_password(PASSWORD))
    child = store.children_frame().filter(pl.col("upn").is_not_null()).sort("la_child_id").row(0, named=True)
    with running_app(url) as address:
        yield address, store, child
    store.dispose()


def sign_in(browser, address: str, name: str, password: str = PASSWORD, shot: str | None = None):
    """Open the app, fill in the sign-in form and press Sign in."""
    page = open_page(browser, address)
    page.wait_for_selector("h1:has-text('Sign in')", timeout=60_000)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / shot), full_page=True)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_timeout(500)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    return page


def nav_links(page) -> list[str]:
    """The page names the sidebar's navigation offers (the icon's ligature name is the link's first line)."""
    return [t.strip().splitlines()[-1] for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]


def test_an_officer_signs_in_and_sees_the_officers_pages(signed_app, browser):
    address, store, child = signed_app
    page = sign_in(browser, address, "pat", shot="sign_in.png")
    page.wait_for_selector("h1:has-text('Overview')", timeout=60_000)
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    assert nav_links(page) == [
        "Overview",
        "Triage",
        "Child",
        "Suspensions and exclusions",
        "Schools",
        "Map",
        "Out of area",
        "About these figures",
    ]
    # Within the signed-in session (a new tab or a reload signs in again): the Child page, then find the child.
    page.locator("[data-testid='stSidebarNav'] a", has_text="Child").click()
    find_child(page, child["la_child_id"], child)
    assert store.audit_frame(event=auth.CHILD_OPENED, la_child_id=child["la_child_id"])["user_name"].to_list() == [
        "pat"
    ]
    page.close()


def test_a_wrong_password_is_refused_in_one_line(signed_app, browser):
    address, _store, _child = signed_app
    page = sign_in(browser, address, "pat", "not the password")
    page.wait_for_selector(f"text={auth.WRONG}", timeout=30_000)
    assert page.locator("h1:has-text('Sign in')").count() == 1
    page.close()


def test_a_forum_user_sees_aggregates_and_no_child(signed_app, browser):
    address, store, _child = signed_app
    page = sign_in(browser, address, "fay")
    page.wait_for_selector("h1:has-text('Overview')", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=60_000)
    assert nav_links(page) == ["Overview", "Schools", "Map", "Out of area", "About these figures"]
    body = page.locator("body").inner_text()
    upns = store.children_frame()["upn"].drop_nulls().to_list()
    assert not [u for u in upns if u in body]
    page.close()


def test_nobody_signed_in_sees_no_child_by_url(signed_app, browser):
    address, _store, child = signed_app
    page = open_page(browser, f"{address}/child?child={child['la_child_id']}")
    page.wait_for_selector("h1:has-text('Sign in')", timeout=60_000)
    body = page.locator("body").inner_text()
    assert child["last_name"] not in body and child["upn"] not in body
    page.close()


# ---- single sign-on through a real OpenID Connect provider on localhost ----------------------------------------


@pytest.fixture(scope="module")
def sso_app(sample_db, tmp_path_factory):
    """The app with `[auth]` pointing at a live provider (tests/oidc_provider.py), over data that is not only
    the sample; the manager Sam is a vsdash user by e-mail, the stranger is known only to the provider."""
    from oidc_provider import OidcProvider, redirect_uri_for, streamlit_secrets_args, write_secrets
    from test_browser import free_port

    need_chromium()
    folder = tmp_path_factory.mktemp("browser_sso")
    url, store = not_only_the_sample(sample_db, folder)
    store.add_user("sam", "manager", email="sam@council.example")
    port = free_port()
    users = [("sam@council.example", "Sam Manager"), ("stranger@council.example", "A Stranger")]
    with OidcProvider(users=users, redirect_uri=redirect_uri_for(port)) as idp:
        secrets_file = write_secrets(folder / "secrets", idp, port, "a" * 64)
        with running_app(url, port=port, args=tuple(streamlit_secrets_args(secrets_file))) as address:
            yield address, idp, store
    store.dispose()


def sign_in_at_provider(browser, address: str, idp, email: str):
    """Open the app, press its single sign-on button, choose `email` at the provider and come back."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(address, timeout=60_000)
    page.wait_for_selector("h1:has-text('Sign in')", timeout=60_000)
    page.get_by_role("button", name="Sign in with your organisation's account").click()
    page.wait_for_url(f"{idp.issuer}/authorize?**", timeout=30_000)
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{address}/**", timeout=30_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    return context, page


def test_single_sign_on_signs_in_a_known_e_mail_with_its_role(sso_app, browser):
    address, idp, store = sso_app
    context, page = sign_in_at_provider(browser, address, idp, "sam@council.example")
    page.wait_for_selector("h1:has-text('Overview')", timeout=60_000)
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    assert "sam" in page.locator("[data-testid='stSidebar']").inner_text()
    assert nav_links(page) == [
        "Overview",
        "Triage",
        "Child",
        "Suspensions and exclusions",
        "Schools",
        "Map",
        "Out of area",
        "About these figures",
    ]
    other = context.new_page()  # a new tab stays signed in: the identity cookie
    other.goto(address, timeout=60_000)
    other.wait_for_selector("h1:has-text('Overview')", timeout=60_000)
    assert store.audit_frame(event=auth.SIGNED_IN)["user_name"].to_list()[:2] == ["sam", "sam"]
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{address}/**", timeout=30_000)
    page.wait_for_selector("h1:has-text('Sign in')", timeout=60_000)
    context.close()


def test_single_sign_on_of_an_unknown_e_mail_shows_no_child(sso_app, browser):
    address, idp, store = sso_app
    context, page = sign_in_at_provider(browser, address, idp, "stranger@council.example")
    page.wait_for_selector("text=no user with that e-mail", timeout=60_000)
    body = page.locator("body").inner_text()
    assert not [u for u in store.children_frame()["upn"].drop_nulls().to_list() if u in body]
    assert page.locator("h1:has-text('Overview')").count() == 0
    context.close()


def test_a_page_s_link_opened_first_in_a_fresh_process_signs_in_then_opens_that_page(sample_db, tmp_path, browser):
    # Streamlit starts a process with a pages/ folder in its legacy mode, where a page's URL ran that file alone
    # under a menu of file names; signed out, a link led to "Page not found". Now the link leads to the sign-in
    # form, and then to the page it pointed at, with its query.
    url, store = not_only_the_sample(sample_db, tmp_path)
    store.add_user("ada", "admin", password_hash=auth.hash_password(PASSWORD))
    store.add_user("pat", "officer", password_hash=auth.hash_password(PASSWORD))
    with running_app(url) as address:
        page = open_page(browser, f"{address}/data?cohort=CLA")
        page.wait_for_selector("h1:has-text('Sign in')", timeout=60_000)
        assert page.get_by_text("Page not found").count() == 0
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("h1:has-text('Data quality')", timeout=60_000)
        assert page.get_by_text("Page not found").count() == 0
        assert "/data" in page.url and "cohort=CLA" in page.url
        assert "Data quality" in nav_links(page) and "data" not in nav_links(page)
        page.close()
        # An officer's link to a page the role may not open says so, rather than "Page not found".
        officer = open_page(browser, f"{address}/upload")
        officer.get_by_label("Username").fill("pat")
        officer.get_by_label("Password", exact=True).fill(PASSWORD)
        officer.get_by_role("button", name="Sign in").click()
        officer.wait_for_selector("text=Your role may not open this page", timeout=60_000)
        assert officer.get_by_text("Page not found").count() == 0
        assert nav_links(officer) == [
            "Overview",
            "Triage",
            "Child",
            "Suspensions and exclusions",
            "Schools",
            "Map",
            "Out of area",
            "About these figures",
        ]
        officer.close()
    store.dispose()


def test_a_page_s_link_opened_first_in_a_fresh_open_sample_process_shows_that_page(sample_db, tmp_path, browser):
    # The open sample (no user): the first request of a fresh process is a page's own address.
    shutil.copy(sample_db, tmp_path / "vsdash.db")
    with running_app(f"sqlite:///{tmp_path / 'vsdash.db'}") as address:
        page = open_page(browser, f"{address}/triage")
        page.wait_for_selector("h1:has-text('Triage')", timeout=60_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        assert page.get_by_text("Page not found").count() == 0
        assert nav_links(page)[:2] == ["Overview", "Triage"] and "triage" not in nav_links(page)
        page.close()
