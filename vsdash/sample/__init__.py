"""Synthetic sample feeds: the files a real authority drops in, with the faults real feeds have.

`generate(out_dir)` writes a GIAS-style schools extract, the social-care children list (one row
per cohort episode), one attendance CSV per school day and a suspensions file, and returns a
`SampleSummary` naming what was written and which faults were injected, so that tests and docs
can refer to them without hard-coding. Same seed, same bytes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from vsdash.config import Config, load_config
from vsdash.sample import calendar, events, geography, marks, people
from vsdash.sample import pupils as pupils_mod
from vsdash.sample.upn import wrong_check_letter, wrong_length

DEFAULT_START = date(2025, 9, 1)
DEFAULT_CORRECTED_DATE = date(2025, 11, 12)
SILENT_SCHOOL_DAYS = 10  # the silent school stops two school weeks before the end
CHILDREN_COLUMNS = (
    "LA Child ID",
    "UPN",
    "First Name",
    "Last Name",
    "DOB",
    "Gender",
    "Cohort",
    "Start Date",
    "End Date",
    "Social Worker",
    "Team",
    "Locality",
    "EHCP",
    "Responsible LA",
    "Year Group",
)
SCHOOL_COLUMNS = (
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentNumber",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "PhaseOfEducation (name)",
    "Postcode",
    "Easting",
    "Northing",
    "Locality",
)
SUSPENSION_COLUMNS = ("UPN", "URN", "Start Date", "Sessions", "Category", "Reason", "Reason 2", "Reason 3", "End Date")


@dataclass(frozen=True)
class Faults:
    """The feed faults injected, with counts, so checks need not hard-code them."""

    silent_school_urn: int | None  # stopped sending `silent_school_days` before the end
    silent_school_last_date: date | None
    silent_school_children: int  # list children whose last mark is from before the silence
    never_sending_school_urn: int | None  # a Welsh school whose data never arrives
    never_sending_school_children: int
    children_without_attendance: int  # list children with no rows at all (not in any feed)
    upn_typos: int  # list UPN differs from the one schools send
    upn_missing: int  # social care holds no UPN
    unknown_pupils: int  # pupils in the attendance the list does not know
    bad_upn_rows: int  # wrong check letter or wrong length
    bad_upn_pupils: int  # pupils whose school holds a malformed UPN all term
    unknown_code_rows: int
    unknown_codes: tuple[str, ...]
    corrected_date: date | None
    corrected_school_urn: int | None
    corrected_file: str | None
    corrected_rows: int
    corrected_changed: int
    pm_pending_schools: int  # on the last day these sent the morning only (PM empty)
    pm_pending_rows: int
    school_moves: int  # with D (dual registration) rows at the old school
    permanent_exclusions: int
    part_time_timetables: int
    drifting_pupils: int  # attendance falls away in the last weeks
    long_unexplained_absences: int  # 10+ days of O/N in a row


@dataclass(frozen=True)
class SampleSummary:
    """What `generate` wrote."""

    out_dir: Path
    seed: int
    first_day: date
    last_day: date
    school_days: int
    files: tuple[str, ...]
    children: int
    episodes: int
    cohorts_at_end: dict[str, int]
    schools: int
    schools_by_la: dict[str, int]
    pupils_in_feeds: int
    attendance_rows: int
    suspensions: int
    permanent_exclusions: int
    faults: Faults
    seconds: float = field(compare=False, default=0.0)

    def as_dict(self) -> dict:
        """Plain values, for printing or JSON."""
        out = asdict(self)
        out["out_dir"] = str(self.out_dir)
        return out


def _write_plain(frame: pl.DataFrame, path: Path) -> str:
    """Write a small feed file as CSV."""
    frame.write_csv(path, date_format="%Y-%m-%d")
    return path.name


def _children_file(pop: people.Population) -> pl.DataFrame:
    """One row per episode with the child's details, dates as DD/MM/YYYY like a social-care export."""
    ep = pop.episodes.select(
        "child", pl.col("cohort").alias("Cohort"), pl.col("start").alias("Start Date"), pl.col("end").alias("End Date")
    )
    uk = "%d/%m/%Y"
    return (
        ep.join(pop.children, on="child", how="left")
        .sort("LA Child ID", "Start Date", "Cohort")
        .with_columns(pl.col("DOB", "Start Date", "End Date").dt.strftime(uk))
        .select(CHILDREN_COLUMNS)
    )


def _cohorts_at(episodes: pl.DataFrame, day: date) -> dict[str, int]:
    """Children per cohort from episodes covering `day` (explicit episodes only)."""
    current = episodes.filter((pl.col("start") <= day) & (pl.col("end").is_null() | (pl.col("end") >= day)))
    counts = current.group_by("cohort").agg(pl.col("child").n_unique()).sort("cohort")
    return dict(zip(counts["cohort"].to_list(), counts["child"].to_list(), strict=True))


def _trip_days(rng: np.random.Generator, n_schools: int, n_days: int) -> dict[int, np.ndarray]:
    """One or two trip days per school."""
    school = np.repeat(np.arange(n_schools), rng.integers(1, 3, n_schools))
    day = rng.integers(0, n_days, school.size)
    return {int(d): school[day == d] for d in np.unique(day)}


def _closures(rng: np.random.Generator, schools: pupils_mod.Schools, dates: list[date], home_la: str) -> dict:
    """Planned closures (#) at some schools and one snow day (Y4) for a few rural primaries."""
    out: dict[int, list[tuple[int, int]]] = {}
    closing = np.flatnonzero(rng.random(schools.urn.size) < 0.3)
    for s, d in zip(closing.tolist(), rng.integers(0, len(dates), closing.size).tolist(), strict=True):
        out.setdefault(d, []).append((s, events.CODE["#"]))
    snow = [i for i, day in enumerate(dates) if day.month == 1 and day.day >= 20][:1]
    if snow:
        rural = np.flatnonzero((schools.la == home_la) & (schools.phase == pupils_mod.PRIMARY))
        for s in rng.choice(rural, min(12, rural.size), replace=False).tolist():
            out.setdefault(snow[0], []).append((s, events.CODE["Y4"]))
    return out


def _plan(
    rng: np.random.Generator, pupils: pupils_mod.Pupils, schools: pupils_mod.Schools, dates: list[date], home_la: str
) -> marks.FeedPlan:
    """Choose the faults: which school goes silent, which never sends, which re-sends a day."""
    n_days = len(dates)
    end_school = np.where(pupils.move_day < n_days, pupils.school1, pupils.school0)
    listed = pupils.child >= 0
    per_school = np.bincount(end_school[listed], minlength=schools.urn.size)
    home_secondary = (schools.la == home_la) & (schools.phase == pupils_mod.SECONDARY)
    several = max(6, round(listed.sum() * 0.008))  # a school with several listed pupils, not the biggest
    silent = int(np.argmin(np.where(home_secondary, np.abs(per_school - several), np.iinfo(np.int64).max)))
    welsh = np.isin(schools.la, list(geography.WELSH_LAS))
    never = int(np.argmax(np.where(welsh, per_school, -1))) if welsh.any() else -1
    corrected_day = dates.index(DEFAULT_CORRECTED_DATE) if DEFAULT_CORRECTED_DATE in dates else n_days // 2
    busiest = np.where(
        (schools.la == home_la) & (np.arange(schools.urn.size) != silent),
        np.bincount(pupils.school0, minlength=schools.urn.size),
        -1,
    )
    bad = rng.choice(np.flatnonzero(listed), max(3, round(pupils.size * 0.002)), replace=False)
    bad_value = {
        int(i): (wrong_check_letter(pupils.upn[i]) if k % 2 else wrong_length(pupils.upn[i], rng))
        for k, i in enumerate(bad.tolist())
    }
    return marks.FeedPlan(
        silent_school=silent,
        silent_from_day=max(1, n_days - SILENT_SCHOOL_DAYS) if n_days > SILENT_SCHOOL_DAYS else n_days,
        never_sends=never,
        corrected_day=corrected_day,
        corrected_school=int(np.argmax(busiest)),
        closures=_closures(rng, schools, dates, home_la),
        trips=_trip_days(rng, schools.urn.size, n_days),
        pm_pending_schools=np.flatnonzero(rng.random(schools.urn.size) < 0.2),
        bad_upn_pupils=bad,
        bad_upn_value=bad_value,
    )


def _write_readme(summary: SampleSummary, path: Path) -> None:
    """A short description of the sample, written from the summary so it never goes stale."""
    f = summary.faults
    cohorts = ", ".join(f"{k} {v}" for k, v in summary.cohorts_at_end.items())
    lines = [
        "# vsdash sample feeds (synthetic)",
        "",
        f"Generated by `vsdash.sample.generate(out_dir, children={summary.children}, seed={summary.seed}, "
        f"start={summary.first_day.isoformat()!r}, days={summary.school_days})` "
        f"(CLI: `python -m vsdash sample --out DIR`). Every name is invented; the geography borrows Shropshire (LA 893), "
        "its neighbours, Powys and Wrexham in Wales, and two authorities further away.",
        "",
        f"- {summary.school_days} school days, {summary.first_day} to {summary.last_day} (terms by rule: "
        "October half-term, Christmas and February half-term skipped).",
        f"- `schools.csv`: {summary.schools} schools (GIAS columns; grid references in EPSG:27700).",
        f"- `children.csv`: {summary.children} children, {summary.episodes} cohort episodes (dates DD/MM/YYYY). "
        f"Open episodes on the last day: {cohorts}. EVER6 is also derivable from closed CIN/CP episodes.",
        f"- `attendance/`: one file per school day, {summary.attendance_rows} rows for {summary.pupils_in_feeds} pupils"
        + (" (gzip-compressed)." if any(x.endswith(".gz") for x in summary.files) else "."),
        f"- `suspensions.csv`: {summary.suspensions} suspensions and {summary.permanent_exclusions} permanent exclusions.",
        "",
        "## Faults, as real feeds have them",
        "",
        f"- School URN {f.silent_school_urn} sent nothing after {f.silent_school_last_date}: "
        f"{f.silent_school_children} listed children there are not being seen.",
        f"- Welsh school URN {f.never_sending_school_urn} never sends: {f.never_sending_school_children} listed children there have no marks.",
        f"- {f.children_without_attendance} listed children appear in no feed at all; {f.upn_typos} have a mistyped UPN "
        f"in the list and {f.upn_missing} have none.",
        f"- {f.unknown_pupils} pupils in the attendance are not on the list.",
        f"- {f.bad_upn_rows} rows carry a malformed UPN (wrong check letter or length; {f.bad_upn_pupils} pupils all term).",
        f"- {f.unknown_code_rows} marks use codes outside the code table ({', '.join(f.unknown_codes)}).",
        f"- `{f.corrected_file}` re-sends {f.corrected_rows} rows of school URN {f.corrected_school_urn} for "
        f"{f.corrected_date}, changing {f.corrected_changed}; the later file wins.",
        f"- On the last day {f.pm_pending_schools} schools had sent the morning only ({f.pm_pending_rows} rows with PM empty).",
        f"- {f.school_moves} pupils move school mid-term (D marks at the old school for a while); "
        f"{f.permanent_exclusions} permanent exclusions (E for five days, then alternative provision).",
        f"- {f.part_time_timetables} pupils on part-time timetables (C2 afternoons), {f.drifting_pupils} whose attendance "
        f"falls away in the last weeks, {f.long_unexplained_absences} with 10+ days of unexplained absence in a row.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def generate(
    out_dir: Path,
    children: int = 2500,
    seed: int = 1,
    start: date | None = None,
    days: int | None = None,
    compress: bool = False,
    config: Config | None = None,
) -> SampleSummary:
    """Write a complete, deterministic set of sample feeds into `out_dir` and say what is in it."""
    began = time.perf_counter()
    cfg = config or load_config()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    first = start or DEFAULT_START
    dates = calendar.school_days(first, days)
    if not dates:
        raise ValueError("no school days in the requested range")
    n_days = len(dates)
    dates_ext = calendar.school_days(dates[0], n_days + 40)
    academic_year = calendar.academic_year_of(dates[0])
    home_la = cfg.la_code
    localities = tuple(cfg.localities) if len(cfg.localities) == 4 else ("North", "South", "East", "West")

    school_frame = geography.build_schools(rng, localities, home_la)
    schools = pupils_mod.Schools.from_frame(school_frame, localities)
    home_estabs = schools.estab[(schools.la == home_la) & (schools.phase == pupils_mod.PRIMARY)]
    pop = people.build_population(rng, children, dates[0], dates[-1], localities, home_estabs, home_la)
    pupils, extra = pupils_mod.build_pupils(rng, pop, schools, n_days, home_la, academic_year)

    reasons = list(cfg.suspension_reasons)
    other, other_who = events.other_overrides(rng, pupils, schools, n_days)
    susp, susp_marks = events.suspensions(rng, pupils, schools, dates_ext, n_days, reasons)
    perm, perm_marks = events.permanent_exclusions(rng, pupils, schools, dates_ext, n_days, reasons, home_la)
    overrides = events.Overrides.concat([other, susp_marks, perm_marks])
    plan = _plan(rng, pupils, schools, dates, home_la)

    _check_codes(cfg)
    gen = marks.DayGenerator(rng, pupils, overrides, plan, schools.urn.size)
    counts = marks.write_days(rng, gen, dates, schools, out_dir / "attendance", compress)

    files = [
        _write_plain(school_frame.select(SCHOOL_COLUMNS), out_dir / "schools.csv"),
        _write_plain(_children_file(pop), out_dir / "children.csv"),
        _write_plain(
            pl.concat([susp, perm]).sort("Start Date", "URN", "UPN").select(SUSPENSION_COLUMNS),
            out_dir / "suspensions.csv",
        ),
    ]
    faults = _faults(plan, pupils, schools, pop, extra, other_who, counts, perm.height, dates)
    summary = SampleSummary(
        out_dir=out_dir,
        seed=seed,
        first_day=dates[0],
        last_day=dates[-1],
        school_days=n_days,
        files=tuple(files + counts.files + ["README.md"]),
        children=children,
        episodes=pop.episodes.height,
        cohorts_at_end=_cohorts_at(pop.episodes, dates[-1]),
        schools=school_frame.height,
        schools_by_la=dict(sorted(school_frame["LA (code)"].value_counts().iter_rows())),
        pupils_in_feeds=pupils.size,
        attendance_rows=counts.rows,
        suspensions=susp.height,
        permanent_exclusions=perm.height,
        faults=faults,
        seconds=0.0,
    )
    _write_readme(summary, out_dir / "README.md")
    return SampleSummary(**{**summary.__dict__, "seconds": round(time.perf_counter() - began, 2)})


def _check_codes(cfg: Config) -> None:
    """Every code the generator emits on purpose must be in the configured table."""
    unknown = [c for c in events.VOCAB if c not in events.FAULT_CODES and c not in cfg.code_category]
    if unknown:
        raise ValueError(f"the configured attendance codes lack {unknown}, which the sample uses")


def _faults(
    plan: marks.FeedPlan,
    pupils: pupils_mod.Pupils,
    schools: pupils_mod.Schools,
    pop: people.Population,
    extra: dict,
    other_who: dict,
    counts: marks.FeedCounts,
    n_perm: int,
    dates: list[date],
) -> Faults:
    """Count the injected faults from the plan and what was written."""
    n_days = len(dates)
    end_school = np.where(pupils.move_day < n_days, pupils.school1, pupils.school0)
    listed = pupils.child >= 0
    silent_kids = int((listed & (end_school == plan.silent_school)).sum())
    never_kids = int((listed & ((pupils.school0 == plan.never_sends) & (pupils.school1 == plan.never_sends))).sum())
    kids = pop.children
    silent_on = plan.silent_from_day < n_days
    corrected_date = dates[plan.corrected_day]
    corrected_file = next((f for f in counts.files if "_corrected" in f), None)
    return Faults(
        silent_school_urn=int(schools.urn[plan.silent_school]) if silent_on else None,
        silent_school_last_date=dates[plan.silent_from_day - 1] if silent_on else None,
        silent_school_children=silent_kids if silent_on else 0,
        never_sending_school_urn=int(schools.urn[plan.never_sends]) if plan.never_sends >= 0 else None,
        never_sending_school_children=never_kids,
        children_without_attendance=int(extra["no_data"].size) + never_kids,
        upn_typos=int(kids["upn_typo"].sum()),
        upn_missing=int(kids["upn_missing"].sum()),
        unknown_pupils=int((~listed).sum()),
        bad_upn_rows=counts.bad_upn_rows,
        bad_upn_pupils=int(plan.bad_upn_pupils.size),
        unknown_code_rows=counts.unknown_code_rows,
        unknown_codes=tuple(events.FAULT_CODES),
        corrected_date=corrected_date,
        corrected_school_urn=int(schools.urn[plan.corrected_school]),
        corrected_file=corrected_file,
        corrected_rows=counts.corrected_rows,
        corrected_changed=counts.corrected_changed,
        pm_pending_schools=int(plan.pm_pending_schools.size),
        pm_pending_rows=counts.pm_pending_rows,
        school_moves=int(extra["movers"].size),
        permanent_exclusions=n_perm,
        part_time_timetables=int(other_who["part_time"].size),
        drifting_pupils=int((pupils.drift_start < n_days).sum()),
        long_unexplained_absences=int(other_who["missing"].size),
    )


__all__ = ["DEFAULT_START", "Faults", "SampleSummary", "generate"]
