"""The Map page: AppTest in normal and forum mode, and headless Chromium with the network cut off finding the
deck.gl layers drawn (no base map tiles are needed)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.test_browser import SHOTS, open_page, running_app
from tests.test_browser import browser as browser
from tests.test_pages import app, signed_in_app
from tests.test_pages import db_url as db_url
from tests.test_pages import sample_store as sample_store
from tests.test_schools_page import identities


def deck_spec(at) -> dict:
    """The pydeck map's JSON as the page sent it."""
    charts = at.get("deck_gl_json_chart")
    assert charts, "no map drawn"
    return json.loads(charts[0].proto.json)


def layer(spec: dict, kind: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["@@type"] == kind)


def test_map_draws_schools_and_arcs_with_no_base_map(db_url):
    at = app().run()
    at.switch_page("pages/map.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Map"
    spec = deck_spec(at)
    points, arcs = layer(spec, "ScatterplotLayer"), layer(spec, "ArcLayer")
    assert len(points["data"]) > 100 and len(arcs["data"]) > 0
    assert not [layer for layer in spec["layers"] if layer["@@type"] == "TileLayer"]
    assert spec.get("mapProvider") in (None, "")  # no base map: nothing asked of the internet
    radii = {p["radius"] for p in points["data"]}
    assert len(radii) > 1  # sized by children
    at.selectbox(key="map_colour").set_value("attendance_pct").run()
    assert not at.exception, at.exception
    assert "attendance" in at.caption[0].value.lower()


def test_forum_map_tooltips_hold_no_small_count_or_child(db_url, sample_store):
    at = signed_in_app(db_url, role="forum", name="F. Forum").run()
    at.switch_page("pages/map.py").run()
    assert not at.exception, at.exception
    points = layer(deck_spec(at), "ScatterplotLayer")["data"]
    assert {p["radius"] for p in points} == {600}  # one size: a point's size tells no count
    assert not [p for p in points if p["children_text"] in {"1", "2", "3", "4"}]
    assert "c" in {p["children_text"] for p in points}
    text = json.dumps(points)
    assert not [k for k in identities(sample_store) if k in text]


@pytest.mark.browser
def test_map_draws_its_layers_with_the_network_cut_off(sample_db, tmp_path, browser):
    db = tmp_path / "map.db"
    shutil.copy(sample_db, db)
    refused: list[str] = []

    def local_only(route) -> None:
        """Only the app itself answers: any request elsewhere (a tile, a font, a script) fails."""
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with running_app(f"sqlite:///{db}") as url:
        for forum in (False, True):
            page = open_page(browser, url)  # through the app's address first, as a user does
            page.close()
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.route("**/*", local_only)
            page = context.new_page()
            page.goto(f"{url}/map", timeout=60_000)
            page.wait_for_selector("h1:has-text('Map')", timeout=60_000)
            if forum:
                page.get_by_text("Forum mode").click()
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
            canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
            canvas.wait_for(timeout=60_000)
            page.wait_for_timeout(2_000)  # deck.gl draws on its next animation frames
            drawn = page.evaluate(
                """() => {
                    const c = document.querySelector("[data-testid='stDeckGlJsonChart'] canvas");
                    const copy = document.createElement('canvas');
                    copy.width = c.width; copy.height = c.height;
                    const g = copy.getContext('2d');
                    g.drawImage(c, 0, 0);
                    const px = g.getImageData(0, 0, c.width, c.height).data;
                    let coloured = 0;
                    for (let i = 0; i < px.length; i += 4) {
                        if (px[i + 3] > 0 && !(px[i] > 240 && px[i + 1] > 240 && px[i + 2] > 240)) coloured++;
                    }
                    return coloured;
                }"""
            )
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"map{'_forum' if forum else ''}.png"), full_page=True)
            assert drawn > 500, f"the map's canvas is blank ({drawn} coloured pixels)"
            assert page.locator("[data-testid='stException']").count() == 0
            context.close()
