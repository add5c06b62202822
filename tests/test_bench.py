"""The benchmark harness on a tiny authority: every row is measured, printed and written (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from vsdash import bench


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One benchmark run of 200 children x 10 days, with its printed table and JSON file."""
    folder = tmp_path_factory.mktemp("bench")
    out = folder / "results.json"
    rows = bench.run(children=200, days=10, db=None, out=out, skip_pages=False, repeat=1, seed=1,
                     work=folder / "work", wipe=False)
    return rows, out


def test_every_measure_has_a_value(tiny_run):
    rows, _ = tiny_run
    measured = {r.measure: r for r in rows}
    missing = [m for m in bench.expected_measures() if m not in measured]
    assert not missing
    failed = [(r.measure, r.error) for r in rows if r.error or r.value is None]
    assert not failed


def test_the_json_has_every_row_and_the_machine_facts(tiny_run):
    rows, out = tiny_run
    document = json.loads(out.read_text())
    assert {"cores", "ram_gib", "python", "polars", "sqlite", "date"} <= set(document["machine"])
    written = [r["measure"] for r in document["rows"]]
    assert written == [r.measure for r in rows]
    assert set(bench.expected_measures()) <= set(written)
    assert document["parameters"]["children"] == 200


def test_the_table_prints_every_row(tiny_run):
    rows, _ = tiny_run
    table = bench.format_table(rows)
    for measure in bench.expected_measures():
        assert measure in table
    assert "PASS" in table or "MISS" in table


def test_targets_decide_pass_and_miss():
    fast = bench.Row("pages", "x", 0.2, floor=0.1, target=bench.Target(0.5, 3.0))
    slow_ratio = bench.Row("pages", "x", 0.4, floor=0.1, target=bench.Target(0.5, 3.0))
    too_slow = bench.Row("load", "x", 61.0, target=bench.Target(60.0))
    broken = bench.Row("pages", "x", None, error="boom")
    assert [r.status for r in (fast, slow_ratio, too_slow, broken)] == ["PASS", "MISS", "MISS", "ERROR"]
