"""Configuration: one YAML file, loaded once, validated with messages a data manager understands."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "vsdash.yaml"

# The attendance-code categories, in the order that makes "possible" and "present" range tests.
CODE_CATEGORIES = ("present", "approved_activity", "authorised", "unauthorised", "not_possible")
SUSPENSION_CATEGORIES = ("suspension", "permanent_exclusion", "lunchtime")



class ConfigError(ValueError):
    """A configuration mistake, worded for the person who edits the YAML file."""


@dataclass(frozen=True)
class Thresholds:
    """Triage and flag thresholds; defaults follow DfE guidance."""

    persistent_absence_pct: int = 10
    severe_absence_pct: int = 50
    drift_weeks: int = 4
    drift_points: int = 10
    consecutive_unauthorised_days: int = 10
    not_seen_school_days: int = 5
    recent_suspension_school_days: int = 20
    new_to_cohort_school_days: int = 20
    ever6_years: int = 6
    silent_school_days: int = 3


THRESHOLD_DEFAULTS: dict[str, int] = {f.name: f.default for f in fields(Thresholds)}


@dataclass(frozen=True)
class Config:
    """Everything vsdash needs to know about one authority."""

    authority_name: str
    la_code: str
    database_url: str
    year_start_month: int
    year_start_day: int
    thresholds: Thresholds
    localities: tuple[str, ...]
    cohorts: dict[str, str]
    code_category: dict[str, str]          # code -> category (one of CODE_CATEGORIES)
    code_meaning: dict[str, str]
    suspension_category: dict[str, str]    # accepted spelling (upper case) -> category
    suspension_reasons: dict[str, str]
    benchmarks: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    def codes_in(self, category: str) -> list[str]:
        """The codes of one category, in the order the YAML gives them."""
        return [c for c, cat in self.code_category.items() if cat == category]

    def year_start(self, as_of: date) -> date:
        """First day of the academic year containing `as_of` (1 September by default)."""
        start = date(as_of.year, self.year_start_month, self.year_start_day)
        return start if start <= as_of else date(as_of.year - 1, self.year_start_month, self.year_start_day)


def _require(raw: dict, key: str, kind: type, where: str) -> Any:
    """Fetch a required key, naming it in full when it is missing or of the wrong kind."""
    if not isinstance(raw, dict) or key not in raw or raw[key] is None:
        raise ConfigError(f"{where}{key}: missing; it is required")
    value = raw[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{where}{key}: expected {_kind_name(kind)}, found {value!r}")
    return value


def _kind_name(kind: type) -> str:
    """Plain words for a YAML type."""
    return {str: "text", dict: "a section of keys", list: "a list", int: "a whole number"}.get(kind, str(kind))


def _parse_codes(raw: dict) -> dict[str, str]:
    """Turn the category -> codes lists into code -> category, refusing overlaps and gaps."""
    section = _require(raw, "attendance_codes", dict, "")
    unknown = set(section) - set(CODE_CATEGORIES)
    if unknown:
        raise ConfigError(
            f"attendance_codes: unknown categor{'y' if len(unknown) == 1 else 'ies'} {sorted(unknown)}; "
            f"use {', '.join(CODE_CATEGORIES)}"
        )
    out: dict[str, str] = {}
    for category in CODE_CATEGORIES:
        codes = _require(section, category, list, "attendance_codes.")
        for code in codes:
            code = str(code)
            if not re.fullmatch(r"\S{1,2}", code):
                raise ConfigError(f"attendance_codes.{category}: {code!r} is not a code of one or two characters")
            if code in out:
                raise ConfigError(
                    f"attendance_codes.{category}: code {code!r} is already listed under {out[code]}; "
                    "each code belongs to exactly one category"
                )
            out[code] = category
    return out


def _parse_thresholds(raw: dict) -> Thresholds:
    """Read thresholds, keeping defaults for keys left out."""
    section = raw.get("thresholds") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"thresholds: expected a section of keys, found {section!r}")
    unknown = set(section) - set(THRESHOLD_DEFAULTS)
    if unknown:
        raise ConfigError(f"thresholds: unknown key(s) {sorted(unknown)}; known keys are {sorted(THRESHOLD_DEFAULTS)}")
    values = {**THRESHOLD_DEFAULTS}
    for key, value in section.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"thresholds.{key}: expected a whole number of 0 or more, found {value!r}")
        values[key] = value
    for key in ("persistent_absence_pct", "severe_absence_pct"):
        if not 0 < values[key] <= 100:
            raise ConfigError(f"thresholds.{key}: must be between 1 and 100, found {values[key]}")
    return Thresholds(**values)


def _parse_year_start(raw: dict) -> tuple[int, int]:
    """Read academic_year_start as MM-DD."""
    text = str(raw.get("academic_year_start", "09-01"))
    m = re.fullmatch(r"(\d{2})-(\d{2})", text)
    try:
        if not m:
            raise ValueError
        date(2001, int(m[1]), int(m[2]))
    except ValueError:
        raise ConfigError(f"academic_year_start: expected MM-DD such as 09-01, found {text!r}") from None
    return int(m[1]), int(m[2])


def _parse_suspension_categories(raw: dict) -> dict[str, str]:
    """Map every accepted spelling of a suspension category to its canonical name."""
    section = _require(raw, "suspension_categories", dict, "")
    out: dict[str, str] = {}
    for category, spellings in section.items():
        if category not in SUSPENSION_CATEGORIES:
            raise ConfigError(f"suspension_categories: unknown category {category!r}; use {', '.join(SUSPENSION_CATEGORIES)}")
        if not isinstance(spellings, list):
            raise ConfigError(f"suspension_categories.{category}: expected a list of accepted spellings")
        for s in [category, *spellings]:
            out[str(s).strip().upper()] = category
    return out


def resolve_database_url(url: str) -> str:
    """Make a relative SQLite path relative to the project folder, so the app works from any directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        path = PROJECT_ROOT / url[len(prefix):]
        return prefix + str(path)
    return url


def parse_config(raw: Any, source: Path | None = None) -> Config:
    """Validate a parsed YAML document and build the Config."""
    if not isinstance(raw, dict):
        raise ConfigError("the configuration file must be a section of keys (authority:, database:, ...)")
    authority = _require(raw, "authority", dict, "")
    name = _require(authority, "name", str, "authority.")
    la_code = str(authority.get("la_code", ""))
    if not re.fullmatch(r"\d{3}", la_code):
        raise ConfigError(f"authority.la_code: expected the 3-digit DfE LA number such as 886, found {la_code!r}")
    database = raw.get("database") or {}
    url = os.environ.get("VSDASH_DATABASE_URL") or database.get("url") or "sqlite:///var/vsdash.db"
    year_month, year_day = _parse_year_start(raw)
    localities = raw.get("localities") or []
    if not isinstance(localities, list):
        raise ConfigError("localities: expected a list of locality names")
    cohorts = _require(raw, "cohorts", dict, "")
    codes = _parse_codes(raw)
    meanings = {str(k): str(v) for k, v in (raw.get("attendance_code_meanings") or {}).items()}
    missing_meaning = [c for c in codes if c not in meanings]
    if missing_meaning:
        raise ConfigError(f"attendance_code_meanings: no meaning given for code(s) {missing_meaning}")
    reasons = raw.get("suspension_reasons") or {}
    if not isinstance(reasons, dict):
        raise ConfigError("suspension_reasons: expected code: description pairs")
    return Config(
        authority_name=name,
        la_code=la_code,
        database_url=resolve_database_url(str(url)),
        year_start_month=year_month,
        year_start_day=year_day,
        thresholds=_parse_thresholds(raw),
        localities=tuple(str(x) for x in localities),
        cohorts={str(k): str(v) for k, v in cohorts.items()},
        code_category=codes,
        code_meaning=meanings,
        suspension_category=_parse_suspension_categories(raw),
        suspension_reasons={str(k).upper(): str(v) for k, v in reasons.items()},
        benchmarks=raw.get("national_benchmarks") or {},
        source=source,
    )


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the configuration: an explicit path, else VSDASH_CONFIG, else the default file."""
    chosen = Path(path or os.environ.get("VSDASH_CONFIG") or DEFAULT_CONFIG)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {chosen}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{chosen} is not valid YAML: {exc}") from None
    try:
        return parse_config(raw, chosen)
    except ConfigError as exc:
        raise ConfigError(f"{chosen}: {exc}") from None


@lru_cache(maxsize=8)
def cached_config(path: str | None = None) -> Config:
    """The configuration, read once per process and path."""
    return load_config(path)
