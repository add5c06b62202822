from datetime import date
from pathlib import Path

import pytest
import yaml

from vsdash.config import DEFAULT_CONFIG, ConfigError, load_config, parse_config


def raw():
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def test_default_config_loads():
    cfg = load_config()
    assert cfg.la_code == "893"
    assert cfg.code_category["/"] == "present"
    assert cfg.code_category["C2"] == "authorised"
    assert cfg.code_category["D"] == "not_possible"
    assert cfg.suspension_category["FIXD"] == "suspension"
    assert cfg.suspension_category["PERM"] == "permanent_exclusion"
    assert cfg.thresholds.persistent_absence_pct == 10


@pytest.mark.parametrize("as_of, start", [
    (date(2025, 9, 1), date(2025, 9, 1)),
    (date(2025, 8, 31), date(2024, 9, 1)),
    (date(2026, 2, 10), date(2025, 9, 1)),
])
def test_academic_year_start(as_of, start):
    assert load_config().year_start(as_of) == start


@pytest.mark.parametrize("change, message", [
    (lambda r: r["authority"].pop("name"), "authority.name: missing"),
    (lambda r: r["authority"].update(la_code="88"), "authority.la_code: expected the 3-digit"),
    (lambda r: r["attendance_codes"]["present"].append("N"), "code 'N' is already listed under"),
    (lambda r: r["attendance_codes"].update(holiday=["H"]), "unknown category"),
    (lambda r: r["thresholds"].update(persistant_absence_pct=10), "thresholds: unknown key"),
    (lambda r: r["thresholds"].update(drift_weeks="four"), "thresholds.drift_weeks: expected a whole number"),
    (lambda r: r.update(academic_year_start="1 Sept"), "academic_year_start: expected MM-DD"),
    (lambda r: r["attendance_codes"]["authorised"].append("H"), "no meaning given for code(s) ['H']"),
])
def test_mistakes_name_the_key(change, message):
    r = raw()
    change(r)
    with pytest.raises(ConfigError) as err:
        parse_config(r)
    assert message in str(err.value)


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


def test_unreadable_yaml_is_reported(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("authority: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
