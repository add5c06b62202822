"""WCAG 2.2 AA on every page, as the Public Sector Bodies Accessibility Regulations 2018 require of a council's
service: axe-core (the npm package `.ci/run` installs) run in Debian's Chromium over the app on the bundled
sample, signed in as an admin. Any violation fails, except the few inside Streamlit's own components that the
app cannot change, listed once in KNOWN with the reason (README: Accessibility lists the same)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass

import polars as pl
import pytest
from test_browser import SHOTS, browser, find_child, need_chromium, running_app  # noqa: F401  (browser: fixture)

from vsdash import auth
from vsdash.config import PROJECT_ROOT
from vsdash.store import Store

AXE = PROJECT_ROOT / ".ci" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "a long enough password"
DRAWN = "[data-testid='stApp'][data-test-script-state='notRunning']"


@dataclass(frozen=True)
class Known:
    """A failure inside a Streamlit component: axe's rule id, a CSS selector the failing element matches, and why
    the app cannot fix it."""

    rule: str
    selector: str
    reason: str


KNOWN = [
    Known(
        "label-content-name-mismatch",
        "[role='application'][aria-label^='Choose date'] header button[aria-haspopup='listbox']",
        "The date input's calendar (Streamlit 1.67, built on react-aria) names its month and year pickers "
        "'month' and 'year' while they show 'February' and '2026' (WCAG 2.5.3 Label in Name). The names are "
        "set in Streamlit's JavaScript; no option or style changes them.",
    ),
]

# Runs axe-core on the whole document and marks each failing element that matches a KNOWN entry.
RUN_AXE = """
async ([tags, known]) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.flatMap(v => v.nodes.map(n => {
    const el = n.target.length === 1 ? document.querySelector(n.target[0]) : null;
    const match = known.find(k => k.rule === v.id && el !== null && el.matches(k.selector));
    return {rule: v.id, impact: v.impact, target: n.target.join(' '), html: n.html.slice(0, 300),
            why: n.failureSummary, known: match ? match.selector : null};
  }));
}
"""


def need_axe() -> None:
    """Skip without the axe-core npm package, except in CI, where `.ci/run` installs it."""
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must install axe-core with npm (.ci/run) so that {AXE} exists")
        pytest.skip(f"no {AXE.relative_to(PROJECT_ROOT)}: npm install --prefix .ci axe-core (see .ci/run)")


def slug(view: str) -> str:
    """A view's name as a screenshot's file name."""
    return "".join(c if c.isalnum() else "_" for c in view.lower()).strip("_")


def drawn(page) -> None:
    """Wait until the script has finished and no placeholder is left, as a reader would before reading."""
    page.wait_for_timeout(300)  # a click's rerun may not have started yet
    page.wait_for_selector(DRAWN, timeout=120_000)
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=60_000)
    page.wait_for_timeout(500)  # Streamlit fades new elements in; contrast is measured once they are opaque


def nav(name: str, heading: str) -> Callable:
    """Open a page from the sidebar's navigation: within the signed-in session, as a user does."""

    def go(page, _child: dict) -> None:
        page.locator("[data-testid='stSidebarNav'] a", has_text=name).click()
        page.wait_for_selector(f"h1:has-text('{heading}')", timeout=60_000)

    return go


def tab(name: str) -> Callable:
    """Show another tab of the page already open (a hidden tab's content is not in the page axe reads)."""

    def go(page, _child: dict) -> None:
        page.get_by_role("tab", name=name).click()

    return go


def sign_in(page, _child: dict) -> None:
    """Sign in as the admin on the sign-in page the audit has just read."""
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("h1:has-text('Overview')", timeout=60_000)


def open_calendar(page, _child: dict) -> None:
    """The filter bar's As at calendar, open (every page has it)."""
    page.locator("[data-testid='stDateInputField'] button").first.click()
    page.wait_for_selector("[role='application'][aria-label^='Choose date']", timeout=30_000)


def close_calendar_for_triage(page, child: dict) -> None:
    """Close the calendar as a keyboard user does, then open the Triage page."""
    page.keyboard.press("Escape")
    page.wait_for_selector("[role='application'][aria-label^='Choose date']", state="detached", timeout=30_000)
    nav("Triage", "Triage")(page, child)


def open_child(page, child: dict) -> None:
    """The Child page with one child open, found by LA child ID."""
    nav("Child", "Child")(page, child)
    find_child(page, child["la_child_id"], child)


# Each view: its name, then the step that gets there from the view before (one tab, one session, in order).
VIEWS: list[tuple[str, Callable]] = [
    ("Sign in", lambda page, _child: page.wait_for_selector("h1:has-text('Sign in')", timeout=60_000)),
    ("Overview", sign_in),
    ("Overview, As at calendar open", open_calendar),
    ("Triage", close_calendar_for_triage),
    ("Child, a child open", open_child),
    ("Suspensions and exclusions", nav("Suspensions and exclusions", "Suspensions and exclusions")),
    ("Schools", nav("Schools", "Schools")),
    ("Map", nav("Map", "Map")),
    ("Out of area", nav("Out of area", "Out of area")),
    ("About these figures", nav("About these figures", "About these figures")),
    ("Data quality: Schools sending", nav("Data quality", "Data quality")),
    ("Data quality: Matching and exceptions", tab("Matching and exceptions")),
    ("Data quality: Loads and rejected rows", tab("Loads and rejected rows")),
    ("Upload feeds", nav("Upload feeds", "Upload feeds")),
    ("Users", nav("Users and audit log", "Users and audit log")),
    ("Audit log", tab("Audit log")),
]


@pytest.fixture(scope="module")
def audits(sample_db, tmp_path_factory, browser) -> dict[str, list[dict]]:
    """Every view's axe-core violations, read in one pass: one app, one browser tab, signed in as an admin."""
    need_chromium()
    need_axe()
    folder = tmp_path_factory.mktemp("accessibility")
    shutil.copy(sample_db, folder / "vsdash.db")
    url = f"sqlite:///{folder / 'vsdash.db'}"
    store = Store(url)
    store.add_user("ada", "admin", password_hash=auth.hash_password(PASSWORD))
    child = store.children_frame().filter(pl.col("upn").is_not_null()).sort("la_child_id").row(0, named=True)
    store.dispose()
    found: dict[str, list[dict]] = {}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_app(url) as address:
        # The brief's width; tall enough that a page's content is on screen, where axe can measure its contrast.
        page = browser.new_page(viewport={"width": 1440, "height": 2400})
        page.goto(address, timeout=60_000)
        for name, step in VIEWS:
            step(page, child)
            drawn(page)
            page.add_script_tag(path=str(AXE))  # a view reached by a click is the same document: it is kept
            found[name] = page.evaluate(RUN_AXE, [TAGS, [asdict(k) for k in KNOWN]])
            page.screenshot(path=str(SHOTS / f"accessibility_{slug(name)}.png"))
        page.close()
    return found


@pytest.mark.browser
@pytest.mark.parametrize("view", [name for name, _ in VIEWS])
def test_no_violation_the_app_can_fix(audits, view):
    unknown = [v for v in audits[view] if not v["known"]]
    assert not unknown, "\n\n".join(
        f"{v['rule']} ({v['impact']}) at {v['target']}\n{v['html']}\n{v['why']}" for v in unknown
    )


@pytest.mark.browser
def test_every_known_streamlit_failure_is_still_there(audits):
    """An entry Streamlit has fixed must leave KNOWN and the README, so the list stays the truth."""
    seen = {v["known"] for views in audits.values() for v in views}
    assert [k.selector for k in KNOWN if k.selector not in seen] == []


def test_the_readme_lists_the_same_known_failures():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Accessibility", 1)[-1].split("\n## ", 1)[0]
    assert "## Accessibility" in readme and all(k.rule in section for k in KNOWN)
