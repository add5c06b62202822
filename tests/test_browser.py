"""The running app in a real headless browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest

from vsdash.config import PROJECT_ROOT
from vsdash.ingest import SAMPLE_DATA

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
PAGES = [
    ("", "Overview"),
    ("triage", "Triage"),
    ("child", "Child"),
    ("suspensions", "Suspensions and exclusions"),
    ("schools", "Schools"),
    ("map", "Map"),
    ("out-of-area", "Out of area"),
    ("about", "About these figures"),
    ("data", "Data quality"),
    ("upload", "Upload feeds"),
    ("users", "Users and audit log"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_chromium() -> None:
    """Skip without Debian's chromium, except in CI, where it must be there."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must install Debian's chromium (apt-get install chromium)")
        pytest.skip("no /usr/bin/chromium: apt-get install chromium")


@contextmanager
def running_app(
    db_url: str | None = None, port: int | None = None, args: tuple[str, ...] = (), script: str = "app.py"
) -> Iterator[str]:
    """`streamlit run` of `script` (the app by default) on a free port, over the store at `db_url` when one is
    given; yields its address and stops it after. A server that exits or stays silent for 60 s fails the test."""
    port = port or free_port()
    env = {**os.environ, **({"VSDASH_DATABASE_URL": db_url} if db_url else {})}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            *args,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                pytest.fail(f"{script} did not answer its health check:\n" + server.stdout.read().decode()[-3000:])
            time.sleep(0.3)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app on the bundled sample with its own store (open: nobody signs in), stopped after the module."""
    need_chromium()
    with running_app(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'vsdash.db'}") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def open_page(browser, url: str):
    """A new tab at `url`, once the script has finished (never wait for network idle: the websocket never idles)."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url, timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    return page


FINDER = "Find a child by name, LA child ID or UPN"


def find_child(page, words: str, child: dict) -> None:
    """Find a child on the Child page as a person does: type in the search box, and once the short list shows
    (the box sends what was typed when the typing pauses) choose them; returns when their page is drawn."""
    page.get_by_role("searchbox", name=FINDER).fill(words)
    page.get_by_role("button", name=f"(LA child ID {child['la_child_id']},").click(timeout=60_000)
    page.wait_for_selector(f"h2:has-text('{child['last_name']}')", timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)


@pytest.fixture(scope="module")
def opened(app_url, browser):
    """A user opens the dashboard's address first (this also ends Streamlit's start-up legacy page mode)."""
    page = open_page(browser, app_url)
    page.wait_for_selector("h1:has-text('Overview')", timeout=60_000)
    page.close()
    return app_url


@pytest.mark.parametrize("path, title", PAGES)
def test_page_renders_without_an_exception(opened, browser, path, title):
    app_url = opened
    page = open_page(browser, f"{app_url}/{path}")
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
    # The first run may still be drawing: wait until no placeholder is left, as a user would before reading.
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=60_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"), full_page=True)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']"
    ).first.inner_text()
    page.close()


def test_triage_row_opens_the_child_page(app_url, browser):
    """The officer's path: open the list, pick the first child, land on their page with the calendar."""
    page = open_page(browser, f"{app_url}/triage")
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 52)  # the selection box of the first row
    page.wait_for_url("**/child**", timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    page.wait_for_selector("text=Every session", timeout=60_000)
    assert "child=" in page.url
    page.screenshot(path=str(SHOTS / "child_from_triage.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_a_child_is_found_by_name_and_chosen_from_the_short_list(opened, browser):
    """The social worker's path: the Child page, a surname and the start of a forename, the child chosen."""
    children = pl.read_csv(SAMPLE_DATA / "children.csv", infer_schema_length=0).rename(
        {"LA Child ID": "la_child_id", "First Name": "first_name", "Last Name": "last_name"}
    )
    child = children.filter(pl.col("UPN").is_not_null()).sort("la_child_id").row(0, named=True)
    page = open_page(browser, f"{opened}/child")
    page.wait_for_selector("text=Choose a child above", timeout=60_000)
    find_child(page, f"{child['last_name']} {child['first_name'][:2]}", child)
    assert f"child={child['la_child_id']}" in page.url
    page.screenshot(path=str(SHOTS / "child_found.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_data_quality_tabs_render(app_url, browser):
    """Each tab of the data-quality page, screenshotted: the silent school, the exceptions, the rejected rows."""
    page = open_page(browser, f"{app_url}/data")
    page.wait_for_selector("text=135060", timeout=60_000)
    for n, tab in enumerate(["Schools sending", "Matching and exceptions", "Loads and rejected rows"]):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / f"data_tab{n}.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_upload_shows_a_preview_before_loading(app_url, browser, tmp_path):
    """The admin's path: choose a file, see what it would load and reject; nothing loads until confirmed."""
    feed = tmp_path / "attendance_preview.csv"
    feed.write_text("UPN,URN,Date,AM,PM\nB801200005001,135060,2026-02-16,/,\\\nX123,135060,2026-02-16,/,/\n")
    page = open_page(browser, f"{app_url}/upload")
    page.locator("input[type='file']").set_input_files(str(feed))
    page.wait_for_selector("text=Rows to load", timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "upload_preview.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_role("button", name="Confirm and load 1 file").count() == 1
    page.close()


def test_schools_page_in_forum_mode(opened, browser):
    """The Schools page with Forum mode on, screenshotted at 1440 px: every small count shown as c."""
    page = open_page(browser, f"{opened}/schools")
    page.wait_for_selector("h1:has-text('Schools')", timeout=30_000)
    page.get_by_text("Forum mode").click()
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    page.wait_for_selector("text=c: withheld", timeout=60_000)
    page.screenshot(path=str(SHOTS / "schools_forum.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


@pytest.mark.parametrize("path, title", [("", "Overview"), ("out-of-area", "Out of area")])
def test_forum_mode_fits_a_1440_px_screen(opened, browser, path, title):
    """Overview and Out of area with Forum mode on at 1440 px: charts one per row, each inside the page's width,
    and every table inside it too (a wide one scrolls within its own frame); screenshotted."""
    page = open_page(browser, f"{opened}/{path}")
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
    page.get_by_text("Forum mode").click()
    page.wait_for_selector("text=c: withheld", timeout=60_000)
    page.wait_for_timeout(300)  # the rerun's last elements may still be on their way
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=60_000)
    # Every chart drawn and laid out (a chart still being drawn has no box yet).
    page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')].every(c => c.offsetWidth > 0)",
        timeout=60_000,
    )
    page.screenshot(path=str(SHOTS / f"{path or 'overview'}_forum.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    main = page.locator("[data-testid='stMainBlockContainer'] [data-testid='stVerticalBlock']").first.bounding_box()
    right = main["x"] + main["width"] + 1
    charts = [c.bounding_box() for c in page.locator("[data-testid='stPlotlyChart']").all()]
    assert len(charts) >= 2
    for box in charts:
        assert box["x"] >= main["x"] - 1 and box["x"] + box["width"] <= right
        assert box["width"] >= main["width"] - 2, "one chart per row, the page's full width"
    tables = [t.bounding_box() for t in page.locator("[data-testid='stDataFrame']").all()]
    assert all(box["x"] + box["width"] <= right for box in tables if box)  # None: inside a closed expander
    page.close()
