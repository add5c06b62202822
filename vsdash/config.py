"""Configuration: one YAML file, loaded once, validated with messages a data manager understands.

Each section of the file is a frozen pydantic dataclass that refuses keys it does not know, so every mistake
comes back as one line naming its key path. `parse_config` turns a valid file into `Config`, the shape the
rest of vsdash reads (codes looked up by code, suspension categories by spelling, the database URL resolved).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import ConfigDict, PlainValidator, TypeAdapter, ValidationError, model_validator
from pydantic.dataclasses import dataclass as section
from pydantic_core import ArgsKwargs, ErrorDetails

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "vsdash.yaml"

# The attendance-code categories, in the order that makes "possible" and "present" range tests.
CODE_CATEGORIES = ("present", "approved_activity", "authorised", "unauthorised", "not_possible")
SUSPENSION_CATEGORIES = ("suspension", "permanent_exclusion", "lunchtime")
DEFAULT_DATABASE_URL = "sqlite:///var/vsdash.db"
# SQLAlchemy's URL rule, "dialect[+driver]://...", checked here because only the store imports SQLAlchemy.
DATABASE_URL_PATTERN = re.compile(r"[a-z][a-z0-9_+]*://")
SECTION = ConfigDict(extra="forbid")  # every section refuses a key it does not know


class ConfigError(ValueError):
    """A configuration mistake, worded for the person who edits the YAML file."""

    def __init__(self, message: str, *, in_file: bool = True):
        super().__init__(message)
        self.in_file = in_file  # False: the mistake is in the environment, so the file is not named


class _Mistake(ValueError):
    """A mistake found by one of the checks below: what is wrong, and where below the value checked."""

    def __init__(self, what: str, *path: str):
        super().__init__(what)
        self.what, self.path = what, path


def _found(value: Any) -> str:
    """A value as the message quotes it: short, and a date as the file writes it."""
    text = value.isoformat() if isinstance(value, date) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown(word: str, key: Any, known: list[str]) -> str:
    """`unknown key 'x' (did you mean y?)`, or the keys there are when nothing is close."""
    close = get_close_matches(str(key), known, n=1)
    words = word[:-1] + "ies" if word.endswith("y") else word + "s"
    hint = f" (did you mean {close[0]}?)" if close else f"; the {words} are {', '.join(known)}"
    return f"unknown {word} {_found(key)}{hint}"


# ---- the kinds of value a file holds, each with the words its mistake is reported in ----------------------


def _kind(check: Callable[[Any], Any], expected: str) -> PlainValidator:
    """A value type checked by `check` (None when the value is wrong), reported as `expected ..., found ...`."""

    def validate(value: Any) -> Any:
        out = check(value)
        if out is None:
            raise _Mistake(f"expected {expected}, found {_found(value)}")
        return out

    return PlainValidator(validate)


def _whole_number(low: int, high: int | None = None) -> PlainValidator:
    """A whole number from `low` (to `high`); YAML's true/false are not numbers."""
    words = f"a whole number between {low} and {high}" if high else f"a whole number of {low} or more"

    def check(v: Any) -> int | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and low <= v and (high is None or v <= high)
        return v if ok else None

    return _kind(check, words)


def _matching(pattern: str, expected: str, numbers: bool = False) -> PlainValidator:
    """Text matching `pattern` in full (a whole number too when `numbers`: YAML reads 893 as a number)."""

    def check(v: Any) -> str | None:
        if numbers and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        return v if isinstance(v, str) and re.fullmatch(pattern, v) else None

    return _kind(check, expected)


def _month_day(v: Any) -> tuple[int, int] | None:
    """MM-DD as (month, day), when it is a day of the year."""
    m = isinstance(v, str) and re.fullmatch(r"([0-9]{2})-([0-9]{2})", v)
    if not m:
        return None
    try:
        date(2001, int(m[1]), int(m[2]))  # 2001: a year start of 29 February is refused
    except ValueError:
        return None
    return int(m[1]), int(m[2])


def _calendar_date(v: Any) -> date | None:
    """A YYYY-MM-DD date, quoted (text) or not (YAML reads it as a date)."""
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    try:
        return date.fromisoformat(v) if isinstance(v, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v) else None
    except ValueError:
        return None


def _academic_year(v: Any) -> str | None:
    """2023/24: two consecutive years, as DfE publications write them."""
    m = isinstance(v, str) and re.fullmatch(r"([0-9]{4})/([0-9]{2})", v)
    return v if m and (int(m[1]) + 1) % 100 == int(m[2]) else None


def _percentage(v: Any) -> float | None:
    """A percentage figure, 0 to 100."""
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100
    return float(v) if ok else None


Count = Annotated[int, _whole_number(0)]
Positive = Annotated[int, _whole_number(1)]
Percent = Annotated[int, _whole_number(1, 100)]
Text = Annotated[str, _kind(lambda v: v.strip() if isinstance(v, str) and v.strip() else None, "text")]
# DfE register codes are one or two characters (C1, Y7, /); YAML may read a digit code as a number.
Code = Annotated[str, _matching(r"\S{1,2}", "a code of one or two characters", numbers=True)]
LaCode = Annotated[str, _matching(r"[0-9]{3}", "the 3-digit DfE LA number such as 886", numbers=True)]
DATABASE_URL_WORDS = "a database URL such as sqlite:///var/vsdash.db or postgresql+psycopg://user@host/vsdash"
DatabaseUrl = Annotated[str, _matching(DATABASE_URL_PATTERN.pattern + r".*", DATABASE_URL_WORDS)]
Flag = Annotated[bool, _kind(lambda v: v if isinstance(v, bool) else None, "true or false")]
MonthDay = Annotated[tuple[int, int], _kind(_month_day, "MM-DD such as 09-01")]
CalendarDate = Annotated[date, _kind(_calendar_date, "a date written YYYY-MM-DD such as 2025-12-22")]
AcademicYear = Annotated[str, _kind(_academic_year, "an academic year written like 2023/24")]
Percentage = Annotated[float, _kind(_percentage, "a percentage between 0 and 100 such as 8.3")]


def _empty_by_default(f: dataclasses.Field) -> bool:
    """A section or list that is empty unless the file fills it, so `localities:` with nothing after it is
    the same as leaving it out (a single value left empty is still a mistake)."""
    return f.default_factory is not dataclasses.MISSING or isinstance(f.default, _KnownKeys) or f.default == ()


class _KnownKeys:
    """Refuses, before anything else, a key the section does not have (naming the closest one), and a single
    value where a section of keys belongs. An empty section (`thresholds:` and nothing under it) keeps its
    defaults."""

    KEY_WORD = "key"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        if data is None:
            return {}
        if isinstance(data, dict):
            for key in data:
                if key not in fields:
                    raise _Mistake(_unknown(cls.KEY_WORD, key, list(fields)))
            return {k: v for k, v in data.items() if v is not None or not _empty_by_default(fields[k])}
        if isinstance(data, (cls, ArgsKwargs)):  # built in code (Thresholds(...)), not read from the file
            return data
        keys = [name + ":" for name in fields]
        listed = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
        hint = f"; write {keys[0]} {_found(data)} on the next line, indented" if len(keys) == 1 else ""
        raise _Mistake(f"expected a section of keys ({listed}), found {_found(data)}{hint}")


# ---- sections the rest of vsdash reads as they are -------------------------------------------------------


@section(frozen=True, config=SECTION)
class Thresholds(_KnownKeys):
    """Triage and flag thresholds; defaults follow DfE guidance."""

    persistent_absence_pct: Percent = 10
    severe_absence_pct: Percent = 50
    drift_weeks: Positive = 4  # compares weeks: at least one (0 would compare nothing)
    drift_points: Count = 10
    consecutive_unauthorised_days: Count = 10
    not_seen_school_days: Count = 5
    recent_suspension_school_days: Count = 20
    new_to_cohort_school_days: Count = 20
    ever6_years: Count = 6
    silent_school_days: Count = 3
    what_moved_min_children: Positive = 10  # "What moved" lists only groups at least this big
    suspension_days_warning: Count = 30  # school days of suspension this academic year: nearing the 45-day limit


# Every threshold has a whole-number default; the isinstance check tells mypy so (a field's default may be MISSING).
THRESHOLD_DEFAULTS: dict[str, int] = {
    f.name: f.default for f in dataclasses.fields(Thresholds) if isinstance(f.default, int)
}


@section(frozen=True, config=SECTION)
class FeedRules(_KnownKeys):
    """What a feed row may plausibly hold."""

    earliest_academic_years: Count = 10  # attendance before the academic year this many years back is rejected
    suspension_future_days: Count = 30  # a suspension may start at most this many days ahead
    max_field_chars: Positive = 10_000  # a longer cell rejects its row
    max_uncompressed_mb: Positive = 2048  # a gzip file unpacking to more is refused
    closure_dates: tuple[CalendarDate, ...] = ()  # authority-wide closure days


@section(frozen=True, config=SECTION)
class CohortFigures(_KnownKeys):
    """One cohort's national figures for one year, in %."""

    KEY_WORD = "figure"
    overall_absence: Percentage
    persistent_absence: Percentage
    severe_absence: Percentage


@section(frozen=True, config=SECTION)
class AllPupilFigures(_KnownKeys):
    """National figures for all pupils for one year, in %."""

    KEY_WORD = "figure"
    overall_absence: Percentage
    severe_absence: Percentage
    one_or_more_suspension: Percentage
    permanent_exclusion: Percentage


@section(frozen=True, config=SECTION)
class Benchmarks(_KnownKeys):
    """Published national figures: by cohort and academic year, and for all pupils by academic year."""

    source: Text
    by_cohort: dict[Text, dict[AcademicYear, CohortFigures]] = dataclasses.field(default_factory=dict)
    all_pupils: dict[AcademicYear, AllPupilFigures] = dataclasses.field(default_factory=dict)
    # The all-pupil figures come from other releases (pupil absence; suspensions and permanent exclusions).
    all_pupils_source: Text | None = None


@section(frozen=True, config=SECTION)
class ForumRules(_KnownKeys):
    """Forum output (domain: disclosure control): counts from 1 to threshold - 1 are shown as `c`."""

    threshold: Annotated[int, _whole_number(2, 100)] = 5  # 1 would withhold nothing


TileUrl = Annotated[
    str,
    _matching(
        r"https?://\S*\{z\}\S*\{x\}\S*\{y\}\S*",
        "a tile URL with {z}, {x} and {y}, such as https://tiles.example/{z}/{x}/{y}.png",
    ),
]


@section(frozen=True, config=SECTION)
class MapRules(_KnownKeys):
    """The schools map: drawn with no base map unless a deployment has a tile server of its own."""

    tile_url: TileUrl | None = None


BrowserPath = Annotated[
    str,
    _matching(r"/\S+", "the full path of a Chromium or Chrome program, such as /usr/bin/chromium"),
]


@section(frozen=True, config=SECTION)
class PackRules(_KnownKeys):
    """The meeting pack: drawn and printed to PDF by a headless Chromium (Debian's package `chromium`)."""

    browser: BrowserPath = "/usr/bin/chromium"
    marking: Text = "OFFICIAL-SENSITIVE"  # the protective marking on every page (Government Security Classifications)


DEFAULT_FORUM = ForumRules()
DEFAULT_MAP = MapRules()
DEFAULT_PACK = PackRules()


# The pages of the app, by the name the configuration gives each (app.py draws them in this order).
PAGES = (
    "overview",
    "triage",
    "child",
    "suspensions",
    "schools",
    "map",
    "out_of_area",
    "about",
    "data",
    "upload",
    "users",
)
ROLES = ("admin", "officer", "manager", "forum")
# Pages that show identifiable children, and pages only the admin may open (they change data or accounts).
CHILD_PAGES = frozenset({"triage", "child", "suspensions", "data", "upload", "users"})
ADMIN_PAGES = frozenset({"upload", "users"})
DEFAULT_ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "admin": PAGES,
    "officer": ("overview", "triage", "child", "suspensions", "schools", "map", "out_of_area", "about"),
    "manager": ("overview", "triage", "child", "suspensions", "schools", "map", "out_of_area", "about"),
    "forum": ("overview", "schools", "map", "out_of_area", "about"),
}
PageName = Annotated[str, _kind(lambda v: v if v in PAGES else None, "a page: " + ", ".join(PAGES))]


@section(frozen=True, config=SECTION)
class AccessRules(_KnownKeys):
    """Who may open what, and how long a sign-in lasts."""

    idle_minutes: Positive = 30  # a session unused this long must sign in again
    lockout_failures: Positive = 5  # this many wrong passwords in a row lock the account ...
    lockout_minutes: Positive = 15  # ... for this long (an admin's reset unlocks it at once)
    pseudonymise: Flag = False  # initials for names and keyed hashes for UPNs and LA child IDs
    roles: dict[str, tuple[PageName, ...]] = dataclasses.field(default_factory=lambda: dict(DEFAULT_ROLE_PAGES))

    @model_validator(mode="after")
    def _roles_may_open(self) -> AccessRules:
        """Only the four roles; the forum sees no child; only the admin loads data and manages accounts."""
        for role, pages in self.roles.items():
            if role not in ROLES:
                raise _Mistake(_unknown("role", role, list(ROLES)), "roles")
            if not pages:
                raise _Mistake("list at least one page the role may open", "roles", role)
            refused = CHILD_PAGES if role == "forum" else ADMIN_PAGES if role != "admin" else frozenset()
            if wrong := [p for p in pages if p in refused]:
                why = "shows identifiable children" if role == "forum" else "is for the admin only"
                raise _Mistake(f"the {role} role may not open {wrong[0]}: that page {why}", "roles", role)
        return self

    def pages(self, role: str) -> tuple[str, ...]:
        """The pages a role may open, in the app's order (a role the file leaves out keeps its default)."""
        allowed = set(self.roles.get(role, DEFAULT_ROLE_PAGES[role]))
        return tuple(p for p in PAGES if p in allowed)


NO_BENCHMARKS = Benchmarks(source="not configured")
DEFAULT_ACCESS = AccessRules()
DEFAULT_FEED_RULES = FeedRules()


# ---- sections only the file has: parse_config turns them into Config's lookups ---------------------------


@section(frozen=True, config=SECTION)
class _Authority(_KnownKeys):
    name: Text
    la_code: LaCode


@section(frozen=True, config=SECTION)
class _Database(_KnownKeys):
    url: DatabaseUrl = DEFAULT_DATABASE_URL


@section(frozen=True, config=SECTION)
class _AttendanceCodes(_KnownKeys):
    KEY_WORD = "category"
    present: tuple[Code, ...]
    approved_activity: tuple[Code, ...]
    authorised: tuple[Code, ...]
    unauthorised: tuple[Code, ...]
    not_possible: tuple[Code, ...]

    @model_validator(mode="after")
    def _one_category_each(self) -> _AttendanceCodes:
        self.by_code()
        return self

    def by_code(self) -> dict[str, str]:
        """Code -> category, in the order the file lists them; a code in two categories is refused."""
        out: dict[str, str] = {}
        for category in CODE_CATEGORIES:
            for code in getattr(self, category):
                if code in out:
                    raise _Mistake(
                        f"code {code!r} is already listed under {out[code]}; each code belongs to exactly one category",
                        category,
                    )
                out[code] = category
        return out


@section(frozen=True, config=SECTION)
class _SuspensionCategories(_KnownKeys):
    KEY_WORD = "category"
    suspension: tuple[Text, ...] | None = None
    permanent_exclusion: tuple[Text, ...] | None = None
    lunchtime: tuple[Text, ...] | None = None

    @model_validator(mode="after")
    def _one_category_each(self) -> _SuspensionCategories:
        self.by_spelling()
        return self

    def by_spelling(self) -> dict[str, str]:
        """Every accepted spelling (upper case) of a listed category, its own name included -> the category;
        a spelling under two categories is refused."""
        out: dict[str, str] = {}
        for category in SUSPENSION_CATEGORIES:
            spellings = getattr(self, category)
            for spelling in [category, *spellings] if spellings is not None else []:
                if out.setdefault(spelling.upper(), category) != category:
                    raise _Mistake(
                        f"{spelling!r} is already a spelling of {out[spelling.upper()]}; "
                        "each spelling belongs to one category",
                        category,
                    )
        return out


@section(frozen=True, config=SECTION, kw_only=True)
class _File(_KnownKeys):
    """The configuration file as written, section by section in the file's order (its mistakes come in it)."""

    KEY_WORD = "section"
    authority: _Authority
    database: _Database = _Database()
    academic_year_start: MonthDay = (9, 1)
    thresholds: Thresholds = Thresholds()
    localities: tuple[Text, ...] = ()
    cohorts: dict[Text, Text]
    attendance_codes: _AttendanceCodes
    attendance_code_meanings: dict[Code, Text] = dataclasses.field(default_factory=dict)
    suspension_categories: _SuspensionCategories
    suspension_reasons: dict[Text, Text] = dataclasses.field(default_factory=dict)
    national_benchmarks: Benchmarks = NO_BENCHMARKS
    feeds: FeedRules = FeedRules()
    access: AccessRules = AccessRules()
    forum: ForumRules = ForumRules()
    map: MapRules = MapRules()
    pack: PackRules = PackRules()

    @model_validator(mode="after")
    def _sections_agree(self) -> _File:
        """What one section says about another: every code has a meaning, every benchmark cohort is a cohort."""
        missing = [c for c in self.attendance_codes.by_code() if c not in self.attendance_code_meanings]
        if missing:
            listed = ", ".join(repr(c) for c in missing)
            raise _Mistake(
                f"no meaning given for code{'s' if len(missing) > 1 else ''} {listed}; "
                f'add a line for each, such as {missing[0]}: "what the code means"',
                "attendance_code_meanings",
            )
        for cohort in self.national_benchmarks.by_cohort:
            if cohort not in self.cohorts:
                raise _Mistake(_unknown("cohort", cohort, list(self.cohorts)), "national_benchmarks", "by_cohort")
        return self


_READ_FILE = TypeAdapter(_File)


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
    code_category: dict[str, str]  # code -> category (one of CODE_CATEGORIES)
    code_meaning: dict[str, str]
    suspension_category: dict[str, str]  # accepted spelling (upper case) -> category
    suspension_reasons: dict[str, str]
    benchmarks: Benchmarks = NO_BENCHMARKS
    feeds: FeedRules = DEFAULT_FEED_RULES
    access: AccessRules = DEFAULT_ACCESS
    source: Path | None = None
    forum: ForumRules = DEFAULT_FORUM
    map: MapRules = DEFAULT_MAP
    pack: PackRules = DEFAULT_PACK

    def codes_in(self, category: str) -> list[str]:
        """The codes of one category, in the order the YAML gives them."""
        return [c for c, cat in self.code_category.items() if cat == category]

    def year_start(self, as_of: date) -> date:
        """First day of the academic year containing `as_of` (1 September by default)."""
        start = date(as_of.year, self.year_start_month, self.year_start_day)
        return start if start <= as_of else date(as_of.year - 1, self.year_start_month, self.year_start_day)


def _message(error: ErrorDetails) -> str:
    """One validation error as `key.path: what is wrong`."""
    mistake = (error.get("ctx") or {}).get("error")
    path: list[str] = []
    for part in error["loc"]:
        if part == "[key]":  # a dict key that is wrong: the message quotes it, so the path stops above it
            path.pop()
        elif not isinstance(part, int):  # a list position: the message quotes the value found there
            path.append(str(part))
    if isinstance(mistake, _Mistake):
        path += mistake.path
        what = mistake.what
    elif error["type"] == "missing":
        what = "missing; it is required"
    elif error["type"] in ("list_type", "tuple_type"):
        what = f"expected a list, found {_found(error['input'])}"
    elif error["type"] == "dict_type":
        what = f"expected a section of keys, found {_found(error['input'])}"
    else:  # not expected: every value above has its own words
        what = f"{error['msg'][0].lower()}{error['msg'][1:]}, found {_found(error['input'])}"
    return f"{'.'.join(path)}: {what}" if path else what


def _environment_url() -> str | None:
    """VSDASH_DATABASE_URL, which overrides the file's database.url, checked the same way."""
    url = os.environ.get("VSDASH_DATABASE_URL")
    if url and not DATABASE_URL_PATTERN.match(url):
        raise ConfigError(
            f"VSDASH_DATABASE_URL (environment variable): expected {DATABASE_URL_WORDS}, found {_found(url)}",
            in_file=False,
        )
    return url or None


def resolve_database_url(url: str) -> str:
    """Make a relative SQLite path relative to the project folder, so the app works from any directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        path = PROJECT_ROOT / url[len(prefix) :]
        return prefix + str(path)
    return url


def parse_config(raw: Any, source: Path | None = None) -> Config:
    """Validate a parsed YAML document and build the Config."""
    if raw is None:
        raise ConfigError(
            "the file is empty; it needs at least authority:, cohorts:, attendance_codes: and suspension_categories:"
        )
    if not isinstance(raw, dict):
        raise ConfigError(f"expected sections of keys (authority:, database:, ...), found {_found(raw)}")
    try:
        file = _READ_FILE.validate_python(raw)
    except ValidationError as exc:
        errors = exc.errors()
        others = len(errors) - 1
        more = f" (and {others} more mistake{'s' if others > 1 else ''})" if others else ""
        raise ConfigError(_message(errors[0]) + more) from None
    url = _environment_url() or file.database.url
    month, day = file.academic_year_start
    return Config(
        authority_name=file.authority.name,
        la_code=file.authority.la_code,
        database_url=resolve_database_url(url),
        year_start_month=month,
        year_start_day=day,
        thresholds=file.thresholds,
        localities=file.localities,
        cohorts=dict(file.cohorts),
        code_category=file.attendance_codes.by_code(),
        code_meaning=dict(file.attendance_code_meanings),
        suspension_category=file.suspension_categories.by_spelling(),
        suspension_reasons={k.upper(): v for k, v in file.suspension_reasons.items()},
        benchmarks=file.national_benchmarks,
        feeds=file.feeds,
        access=file.access,
        source=source,
        forum=file.forum,
        map=file.map,
        pack=file.pack,
    )


def _shown(path: Path) -> str:
    """A file's name as the person typed it or, for the default, from the project folder."""
    if path.is_absolute():
        for base in (Path.cwd(), PROJECT_ROOT):
            if path.is_relative_to(base):
                return str(path.relative_to(base))
    return str(path)


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the configuration: an explicit path, else VSDASH_CONFIG, else the default file."""
    chosen = Path(path or os.environ.get("VSDASH_CONFIG") or DEFAULT_CONFIG)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {_shown(chosen)}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{_shown(chosen)} is not valid YAML: {where}{problem}") from None
    try:
        return parse_config(raw, chosen)
    except ConfigError as exc:
        if not exc.in_file:
            raise
        raise ConfigError(f"{_shown(chosen)}: {exc}") from None


@lru_cache(maxsize=8)
def cached_config(path: str | None = None) -> Config:
    """The configuration, read once per process and path."""
    return load_config(path)
