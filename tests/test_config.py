import dataclasses
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from vsdash import views
from vsdash.config import (
    DEFAULT_CONFIG,
    PROJECT_ROOT,
    THRESHOLD_DEFAULTS,
    ConfigError,
    FeedRules,
    Thresholds,
    load_config,
    parse_config,
)


def raw():
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def bench(r, cohort="CLA", year="2023/24"):
    """One cohort-year of the national figures, to change in place."""
    return r["national_benchmarks"]["by_cohort"][cohort][year]


def test_default_config_loads():
    cfg = load_config()
    assert cfg.authority_name == "Marches Virtual School (synthetic sample)"
    assert cfg.la_code == "893"
    assert cfg.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'vsdash.db'}"
    assert (cfg.year_start_month, cfg.year_start_day) == (9, 1)
    assert cfg.code_category["/"] == "present"
    assert cfg.code_category["C2"] == "authorised"
    assert cfg.code_category["D"] == "not_possible"
    assert cfg.codes_in("unauthorised") == ["G", "N", "O", "U"]
    assert len(cfg.code_category) == len(cfg.code_meaning) == 34
    assert cfg.code_meaning["I"] == "Illness"
    assert cfg.suspension_category["FIXD"] == "suspension"
    assert cfg.suspension_category["PERM"] == "permanent_exclusion"
    assert cfg.suspension_category["LUNCHTIME"] == "lunchtime"
    assert cfg.suspension_reasons["DB"] == "Persistent disruptive behaviour"
    assert cfg.localities == ("North", "South", "East", "West")
    assert list(cfg.cohorts) == ["CLA", "CIN", "CP", "PLAC", "EVER6", "CWSW"]
    assert cfg.thresholds == Thresholds() and dataclasses.asdict(cfg.thresholds) == THRESHOLD_DEFAULTS
    assert cfg.thresholds.persistent_absence_pct == 10 and cfg.thresholds.silent_school_days == 3
    assert cfg.feeds == FeedRules()
    assert cfg.source == DEFAULT_CONFIG


def test_default_benchmarks_are_the_published_figures():
    """domain.md section 6, as the file gives them and as the Overview's cards read them."""
    b = load_config().benchmarks
    assert b.source.startswith("DfE, Outcomes for children in need")
    assert {c: list(years) for c, years in b.by_cohort.items()} == {
        c: ["2022/23", "2023/24", "2024/25"] for c in ("CLA", "CIN", "CP")
    }
    cp = b.by_cohort["CP"]["2023/24"]
    assert (cp.overall_absence, cp.persistent_absence, cp.severe_absence) == (22.2, 57.1, 15.5)
    assert dataclasses.asdict(b.all_pupils["2023/24"]) == {
        "overall_absence": 7.1,
        "severe_absence": 2.3,
        "one_or_more_suspension": 4.04,
        "permanent_exclusion": 0.13,
    }


@pytest.mark.parametrize(
    "cohort, figures, year",
    [
        ("CLA", {"attendance_pct": 91.0, "persistent_absence_rate": 20.3, "severe_absence_rate": 6.4}, "2024/25"),
        ("CP", {"attendance_pct": 78.2, "persistent_absence_rate": 55.4, "severe_absence_rate": 15.4}, "2024/25"),
        ("PLAC", {}, None),
        (None, {}, None),
    ],
)
def test_national_figures_for_the_cards(cohort, figures, year):
    assert views.national_figures(load_config(), cohort) == (figures, year)


def test_a_file_without_national_figures_has_none():
    r = raw()
    del r["national_benchmarks"]
    cfg = parse_config(r)
    assert cfg.benchmarks.by_cohort == {} and cfg.benchmarks.source == "not configured"
    assert views.national_figures(cfg, "CLA") == ({}, None)


@pytest.mark.parametrize(
    "as_of, start",
    [
        (date(2025, 9, 1), date(2025, 9, 1)),
        (date(2025, 8, 31), date(2024, 9, 1)),
        (date(2026, 2, 10), date(2025, 9, 1)),
    ],
)
def test_academic_year_start(as_of, start):
    assert load_config().year_start(as_of) == start


MISTAKES = [
    # the file's sections and keys
    (lambda r: r.update(treshold={"drift_weeks": 3}), "unknown section 'treshold' (did you mean thresholds?)"),
    (
        lambda r: r["thresholds"].update(persistant_absence_pct=10),
        "thresholds: unknown key 'persistant_absence_pct' (did you mean persistent_absence_pct?)",
    ),
    (
        lambda r: r.update(authority="Marches"),
        "authority: expected a section of keys (name:, la_code:), found 'Marches'",
    ),
    (lambda r: r["authority"].pop("name"), "authority.name: missing; it is required"),
    (lambda r: r.pop("attendance_codes"), "attendance_codes: missing; it is required"),
    (lambda r: r.update(localities="North, South"), "localities: expected a list, found 'North, South'"),
    # thresholds
    (
        lambda r: r["thresholds"].update(drift_weeks="four"),
        "thresholds.drift_weeks: expected a whole number of 1 or more, found 'four'",
    ),
    (
        lambda r: r["thresholds"].update(drift_weeks=True),
        "thresholds.drift_weeks: expected a whole number of 1 or more",
    ),
    (
        lambda r: r["thresholds"].update(drift_weeks=0),
        "thresholds.drift_weeks: expected a whole number of 1 or more, found 0",
    ),
    (
        lambda r: r["thresholds"].update(drift_points=-1),
        "thresholds.drift_points: expected a whole number of 0 or more",
    ),
    (
        lambda r: r["thresholds"].update(persistent_absence_pct="ten"),
        "thresholds.persistent_absence_pct: expected a whole number between 1 and 100, found 'ten'",
    ),
    (
        lambda r: r["thresholds"].update(severe_absence_pct=150),
        "thresholds.severe_absence_pct: expected a whole number between 1 and 100, found 150",
    ),
    (lambda r: r["thresholds"].update(persistent_absence_pct=0), "thresholds.persistent_absence_pct: expected a whole"),
    # database
    (
        lambda r: r.update(database="sqlite:///x"),
        "database: expected a section of keys (url:), found 'sqlite:///x'; write url: 'sqlite:///x' on the next line",
    ),
    (lambda r: r["database"].update(url="var/vsdash.db"), "database.url: expected a database URL such as sqlite:///"),
    (lambda r: r["database"].update(url="SQLite:/x"), "database.url: expected a database URL"),
    # attendance codes
    (
        lambda r: r["attendance_codes"].update(holiday=["H"]),
        "attendance_codes: unknown category 'holiday'; the categories are present, approved_activity, authorised",
    ),
    (
        lambda r: r["attendance_codes"]["present"].append("N"),
        "attendance_codes.unauthorised: code 'N' is already listed under present; each code belongs to exactly one",
    ),
    (
        lambda r: r["attendance_codes"]["present"].append("ABC"),
        "attendance_codes.present: expected a code of one or two characters, found 'ABC'",
    ),
    (lambda r: r["attendance_codes"]["present"].append("a b"), "attendance_codes.present: expected a code"),
    (
        lambda r: r["attendance_codes"]["authorised"].append("H"),
        "attendance_code_meanings: no meaning given for code 'H'; add a line for each, such as H:",
    ),
    (lambda r: r["attendance_code_meanings"].update(L=None), "attendance_code_meanings.L: expected text, found None"),
    # suspension categories
    (
        lambda r: r["suspension_categories"].update(suspensoin=["x"]),
        "suspension_categories: unknown category 'suspensoin' (did you mean suspension?)",
    ),
    (
        lambda r: r["suspension_categories"]["lunchtime"].append("perm"),
        "suspension_categories.lunchtime: 'perm' is already a spelling of permanent_exclusion",
    ),
    (
        lambda r: r["suspension_categories"].update(lunchtime="LNCH"),
        "suspension_categories.lunchtime: expected a list, found 'LNCH'",
    ),
    # year start and authority
    (
        lambda r: r.update(academic_year_start="1 Sept"),
        "academic_year_start: expected MM-DD such as 09-01, found '1 Sept'",
    ),
    (lambda r: r.update(academic_year_start="02-30"), "academic_year_start: expected MM-DD"),
    (lambda r: r["authority"].update(la_code="88"), "authority.la_code: expected the 3-digit DfE LA number"),
    (
        lambda r: r["authority"].update(la_code="８９３"),
        "authority.la_code: expected the 3-digit DfE LA number such as 886, found '８９３'",
    ),
    # national benchmarks
    (lambda r: bench(r).pop("severe_absence"), "national_benchmarks.by_cohort.CLA.2023/24.severe_absence: missing"),
    (
        lambda r: bench(r).update(severe_absence="high"),
        "national_benchmarks.by_cohort.CLA.2023/24.severe_absence: expected a percentage between 0 and 100 such as 8.3, "
        "found 'high'",
    ),
    (
        lambda r: bench(r).update(overall_absence=True),
        "national_benchmarks.by_cohort.CLA.2023/24.overall_absence: expected",
    ),
    (
        lambda r: bench(r).update(overal_absence=8.8),
        "national_benchmarks.by_cohort.CLA.2023/24: unknown figure 'overal_absence' (did you mean overall_absence?)",
    ),
    (
        lambda r: r["national_benchmarks"]["by_cohort"]["CLA"].update({"2023-24": bench(r)}),
        "national_benchmarks.by_cohort.CLA: expected an academic year written like 2023/24, found '2023-24'",
    ),
    (
        lambda r: r["national_benchmarks"]["by_cohort"]["CLA"].update({"2023/25": bench(r)}),
        "national_benchmarks.by_cohort.CLA: expected an academic year written like 2023/24, found '2023/25'",
    ),
    (
        lambda r: r["national_benchmarks"]["by_cohort"].update(CLAA=r["national_benchmarks"]["by_cohort"]["CLA"]),
        "national_benchmarks.by_cohort: unknown cohort 'CLAA' (did you mean CLA?)",
    ),
    (
        lambda r: r["national_benchmarks"]["all_pupils"]["2023/24"].pop("permanent_exclusion"),
        "national_benchmarks.all_pupils.2023/24.permanent_exclusion: missing; it is required",
    ),
    (lambda r: r["national_benchmarks"].pop("source"), "national_benchmarks.source: missing"),
    # feeds
    (
        lambda r: r["feeds"].update(closure_dates=["22/12/2025"]),
        "feeds.closure_dates: expected a date written YYYY-MM-DD such as 2025-12-22, found '22/12/2025'",
    ),
    (lambda r: r["feeds"].update(closure_dates=["2026-02-30"]), "feeds.closure_dates: expected a date"),
    (
        lambda r: r["feeds"].update(max_field_char=5),
        "feeds: unknown key 'max_field_char' (did you mean max_field_chars?)",
    ),
    (
        lambda r: r["feeds"].update(max_uncompressed_mb=0),
        "feeds.max_uncompressed_mb: expected a whole number of 1 or more",
    ),
    # access
    (lambda r: r["access"].update(idle_minute=5), "access: unknown key 'idle_minute' (did you mean idle_minutes?)"),
    (lambda r: r["access"].update(lockout_failures=0), "access.lockout_failures: expected a whole number of 1 or more"),
    (lambda r: r["access"].update(pseudonymise="yes"), "access.pseudonymise: expected true or false, found 'yes'"),
    (
        lambda r: r["access"]["roles"].update(boss=["overview"]),
        "access.roles: unknown role 'boss'; the roles are admin, officer, manager, forum",
    ),
    (
        lambda r: r["access"]["roles"].update(forum=["overview", "child"]),
        "access.roles.forum: the forum role may not open child: that page shows identifiable children",
    ),
    (
        lambda r: r["access"]["roles"].update(forum=["overview", "suspensions"]),
        "access.roles.forum: the forum role may not open suspensions: that page shows identifiable children",
    ),
    (
        lambda r: r["access"]["roles"].update(manager=["overview", "upload"]),
        "access.roles.manager: the manager role may not open upload: that page is for the admin only",
    ),
    (
        lambda r: r["access"]["roles"].update(officer=["overveiw"]),
        "access.roles.officer: expected a page: overview, triage, child, suspensions, schools, map, out_of_area, about, data, upload, users, found 'overveiw'",
    ),
    (
        lambda r: r["access"]["roles"].update(officer=[]),
        "access.roles.officer: list at least one page the role may open",
    ),
]


def test_a_role_the_file_leaves_out_keeps_its_pages_and_a_role_may_lose_pages():
    r = raw()
    r["access"]["roles"] = {"manager": ["about", "overview"]}
    access = parse_config(r).access
    assert access.pages("manager") == ("overview", "about")  # in the app's order
    assert access.pages("officer") == (
        "overview",
        "triage",
        "child",
        "suspensions",
        "schools",
        "map",
        "out_of_area",
        "about",
    )
    assert access.pages("forum") == ("overview", "schools", "map", "out_of_area", "about")


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        ("forum", {"threshold": 1}, "forum.threshold: expected a whole number between 2 and 100, found 1"),
        ("forum", {"thresh": 5}, "forum: unknown key 'thresh' (did you mean threshold?)"),
        ("map", {"tile_url": "ftp://tiles"}, "map.tile_url: expected a tile URL with {z}, {x} and {y}"),
    ],
)
def test_forum_and_map_settings_are_checked(section, value, message):
    r = raw()
    r[section] = value
    with pytest.raises(ConfigError) as caught:
        parse_config(r)
    assert str(caught.value).startswith(message)


def test_forum_threshold_defaults_to_five_and_a_tile_url_is_optional():
    r = raw()
    r.pop("forum", None)
    r["map"] = {"tile_url": "https://tiles.example/{z}/{x}/{y}.png"}
    cfg = parse_config(r)
    assert cfg.forum.threshold == 5
    assert cfg.map.tile_url == "https://tiles.example/{z}/{x}/{y}.png"


@pytest.mark.parametrize("change, message", MISTAKES)
def test_a_mistake_is_one_line_naming_the_key(change, message, tmp_path: Path):
    r = raw()
    change(r)
    with pytest.raises(ConfigError) as err:
        parse_config(r)
    assert message in str(err.value)
    path = tmp_path / "vsdash.yaml"
    path.write_text(yaml.safe_dump(r, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {message.split(':')[0]}")
    assert "\n" not in str(err.value) and "pydantic" not in str(err.value).lower()


def test_two_mistakes_say_there_is_another():
    r = raw()
    r["thresholds"].update(drift_weeks="four", drift_points="ten")
    with pytest.raises(ConfigError, match=r"^thresholds\.drift_weeks: .* \(and 1 more mistake\)$"):
        parse_config(r)


@pytest.mark.parametrize(
    "section", ["thresholds", "feeds", "database", "localities", "suspension_reasons", "national_benchmarks"]
)
def test_an_optional_section_may_be_empty_or_left_out(section):
    r = raw()
    r[section] = None
    empty = parse_config(r)
    del r[section]
    assert empty == parse_config(r)
    assert (
        empty.thresholds == Thresholds()
        and empty.feeds == FeedRules()
        and empty.database_url.endswith("/var/vsdash.db")
    )


def test_feed_rules_from_the_file():
    r = raw()
    r["feeds"] = yaml.safe_load("{suspension_future_days: 7, closure_dates: [2025-12-22, '2025-12-23']}")
    feeds = parse_config(r).feeds
    assert feeds == FeedRules(suspension_future_days=7, closure_dates=(date(2025, 12, 22), date(2025, 12, 23)))
    assert feeds.earliest_academic_years == 10 and feeds.max_field_chars == 10_000 and feeds.max_uncompressed_mb == 2048
    assert hash(feeds) == hash(
        FeedRules(suspension_future_days=7, closure_dates=(date(2025, 12, 22), date(2025, 12, 23)))
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        feeds.max_field_chars = 1  # type: ignore[misc]


def test_sections_are_frozen_dataclasses_like_before():
    th = load_config().thresholds
    assert dataclasses.replace(th, drift_weeks=2).drift_weeks == 2 and hash(th) == hash(Thresholds())
    assert list(THRESHOLD_DEFAULTS)[:2] == ["persistent_absence_pct", "severe_absence_pct"]


def test_config_file_from_environment(tmp_path: Path, monkeypatch):
    r = raw()
    r["authority"]["name"] = "Other Authority"
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(r))
    monkeypatch.setenv("VSDASH_CONFIG", str(path))
    assert load_config().authority_name == "Other Authority"


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("VSDASH_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert load_config().database_url == "postgresql+psycopg://u@h/db"


def test_bad_database_url_in_environment_names_the_variable_not_the_file(monkeypatch):
    monkeypatch.setenv("VSDASH_DATABASE_URL", "var/vsdash.db")
    with pytest.raises(ConfigError, match=r"^VSDASH_DATABASE_URL \(environment variable\): expected a database URL"):
        load_config()


@pytest.mark.parametrize(
    "text, message",
    [
        ("authority: [unclosed", "is not valid YAML: line 1, column 21: expected ',' or ']'"),
        ("", "the file is empty"),
        ("- a list", "expected sections of keys (authority:, database:, ...), found ['a list']"),
    ],
)
def test_unreadable_yaml_is_reported(tmp_path: Path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_command_line_prints_one_line_and_exits_2(tmp_path: Path):
    r = raw()
    r["thresholds"]["persistent_absence_pct"] = "ten"
    path = tmp_path / "BAD.yaml"
    path.write_text(yaml.safe_dump(r))
    done = subprocess.run(
        [sys.executable, "-m", "vsdash", "metrics", "--config", str(path), "--as-of", "2025-10-01"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"configuration error: {path}: thresholds.persistent_absence_pct: "
        "expected a whole number between 1 and 100, found 'ten'\n"
    )


@pytest.mark.parametrize(
    "section, key",
    [("thresholds", "drift_weeks"), ("feeds", "max_field_chars"), ("database", "url"), (None, "academic_year_start")],
)
def test_a_value_left_empty_is_a_mistake_not_the_default(section, key):
    r = raw()
    (r[section] if section else r)[key] = None
    with pytest.raises(ConfigError, match=rf"^{section + '.' if section else ''}{key}: expected .*, found None$"):
        parse_config(r)
