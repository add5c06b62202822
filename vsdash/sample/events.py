"""Events that override the daily marks: suspensions, permanent exclusions, part-time timetables,
LA-arranged provision and long unexplained absences. Each becomes rows of (pupil, day, AM, PM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from vsdash.sample.people import CIN, CLA, CP, EVER6, PLAC, UNKNOWN
from vsdash.sample.pupils import AP, PRIMARY, SECONDARY, SPECIAL, Pupils, Schools

# Mark vocabulary: generated marks are small integers into this tuple.
VOCAB = (
    "/",
    "\\",
    "L",
    "K",
    "V",
    "P",
    "B",
    "C",
    "C2",
    "E",
    "I",
    "M",
    "R",
    "G",
    "N",
    "O",
    "U",
    "Y4",
    "D",
    "#",
    "H9",
    "?",
    "H",
)
CODE = {c: i for i, c in enumerate(VOCAB)}
FAULT_CODES = ("H9", "?", "H")  # not in the configured code table: H is the pre-2024 holiday code
KEEP = -1

# Suspensions per pupil per year, before the phase multiplier; CIN and CP several times all pupils.
SUSPENSION_RATE = {CLA: 0.12, CP: 0.17, CIN: 0.16, PLAC: 0.08, EVER6: 0.09, UNKNOWN: 0.05}
PHASE_MULTIPLIER = {PRIMARY: 0.35, SECONDARY: 1.8, SPECIAL: 0.8, AP: 2.5}
REASON_WEIGHTS = {
    "DB": 30,
    "VA": 15,
    "PA": 12,
    "PP": 12,
    "VP": 8,
    "DM": 5,
    "DA": 3,
    "BU": 3,
    "MT": 3,
    "OW": 2,
    "TH": 2,
    "RA": 2,
    "SM": 1,
    "LG": 1,
    "DS": 1,
}


@dataclass
class Overrides:
    """Marks that replace the generated ones: pupil, day index, AM and PM codes (KEEP = leave)."""

    pupil: np.ndarray
    day: np.ndarray
    am: np.ndarray
    pm: np.ndarray

    @classmethod
    def concat(cls, parts: list[Overrides]) -> Overrides:
        """All overrides, ordered by day so each day is one slice."""
        cat = {f: np.concatenate([getattr(p, f) for p in parts]).astype(np.int64) for f in ("pupil", "day", "am", "pm")}
        order = np.argsort(cat["day"], kind="stable")
        return cls(**{k: v[order] for k, v in cat.items()})

    def for_day(self, d: int) -> slice:
        """The rows of one day."""
        return slice(int(np.searchsorted(self.day, d, "left")), int(np.searchsorted(self.day, d, "right")))


def _expand(first: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For windows of `length` days from `first`: the window each day belongs to, and the day."""
    reps = np.maximum(length, 0)
    window = np.repeat(np.arange(first.size), reps)
    offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    return window, first[window] + offsets


def _windows(pupil: np.ndarray, first: np.ndarray, length: np.ndarray, am: int, pm: int, n_days: int) -> Overrides:
    """Overrides covering `length` consecutive school days from `first` for each pupil."""
    window, day = _expand(first, length)
    keep = day < n_days
    return Overrides(pupil[window[keep]], day[keep], np.full(keep.sum(), am), np.full(keep.sum(), pm))


def school_on(pupils: Pupils, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The school a pupil attends on a day."""
    return np.where(day < pupils.move_day[idx], pupils.school0[idx], pupils.school1[idx])


def _reasons(rng: np.random.Generator, n: int, allowed: list[str]) -> list[list[str]]:
    """One to three distinct reason codes per event, weighted towards disruption and assault."""
    codes = [c for c in REASON_WEIGHTS if c in allowed] or allowed
    w = np.array([REASON_WEIGHTS.get(c, 1) for c in codes], dtype=float)
    counts = rng.choice([1, 2, 3], n, p=[0.7, 0.22, 0.08])
    return [list(rng.choice(codes, k, replace=False, p=w / w.sum())) for k in counts.tolist()]


LONG_FROM_SESSIONS = 10  # five days: the suspensions lengthened past them


def suspensions(
    rng: np.random.Generator, pupils: Pupils, schools: Schools, dates: list[date], n_days: int, reasons: list[str]
) -> tuple[pl.DataFrame, Overrides]:
    """Suspensions (repeated for some pupils) with E marks on the suspended sessions."""
    phase = schools.phase[pupils.school0]
    rate = np.array([SUSPENSION_RATE[c] for c in pupils.cls.tolist()]) * np.vectorize(PHASE_MULTIPLIER.get)(phase)
    lam = rate * n_days / 190 * rng.gamma(0.5, 2.0, pupils.size)  # heavy-tailed: some are suspended again and again
    count = rng.poisson(lam)
    pupil = np.repeat(np.arange(pupils.size), count)
    start = pupils.start_day[pupil]
    day = start + np.floor(rng.random(pupil.size) * np.maximum(n_days - start, 1)).astype(np.int64)
    sessions = rng.choice([1, 2, 2, 2, 3, 4, 4, 5, 6, 10], pupil.size)
    order = np.lexsort((day, pupil))
    pupil, day, sessions = pupil[order], day[order], sessions[order]
    n_school_days = (sessions + 1) // 2
    prev_end = np.r_[-1, (day + n_school_days - 1)[:-1]]
    same = np.r_[False, pupil[1:] == pupil[:-1]]
    keep = ~(same & (day <= prev_end))
    pupil, day, sessions, n_school_days = pupil[keep], day[keep], sessions[keep], n_school_days[keep]
    # Some pupils' last suspension runs past five days (DfE: provision is due from the sixth day): chosen by
    # pupil number, not by a draw, so the rest of the sample is the same; half of them get provision (K).
    last = np.r_[pupil[1:] != pupil[:-1], True] if pupil.size else pupil.astype(bool)
    longer = last & (sessions == LONG_FROM_SESSIONS) & (pupil % 4 != 0)
    sessions = np.where(longer, sessions + 2 * (pupil % 4), sessions)
    n_school_days = (sessions + 1) // 2

    window, e_day = _expand(day, n_school_days)
    keep = e_day < n_days
    window, e_day = window[keep], e_day[keep]
    half = (sessions[window] % 2 == 1) & (e_day == day[window] + n_school_days[window] - 1)
    provided = longer[window] & (e_day - day[window] >= 5) & (pupil[window] % 2 == 0)
    code = np.where(provided, CODE["K"], CODE["E"])
    marks = Overrides(pupil[window], e_day, code, np.where(half, KEEP, code))  # an odd last session: from lunchtime

    ext = len(dates)
    records = pl.DataFrame(
        {
            "pupil": pupil,
            "UPN": pupils.upn[pupil].tolist() if pupil.size else [],
            "URN": schools.urn[school_on(pupils, pupil, day)],
            "Start Date": [dates[d] for d in day.tolist()],
            "End Date": [
                dates[min(d + k - 1, ext - 1)] for d, k in zip(day.tolist(), n_school_days.tolist(), strict=True)
            ],
            "Sessions": sessions,
            "Category": "suspension",
        },
        schema_overrides={"Start Date": pl.Date, "End Date": pl.Date, "Sessions": pl.Int64},
    )
    return _with_reasons(rng, records, reasons), marks


def _with_reasons(rng: np.random.Generator, records: pl.DataFrame, reasons: list[str]) -> pl.DataFrame:
    """Add Reason, Reason 2 and Reason 3 columns."""
    picked = _reasons(rng, records.height, reasons)
    return records.with_columns(
        pl.Series("Reason", [r[0] for r in picked], dtype=pl.String),
        pl.Series("Reason 2", [r[1] if len(r) > 1 else None for r in picked], dtype=pl.String),
        pl.Series("Reason 3", [r[2] if len(r) > 2 else None for r in picked], dtype=pl.String),
    )


def permanent_exclusions(
    rng: np.random.Generator,
    pupils: Pupils,
    schools: Schools,
    dates: list[date],
    n_days: int,
    reasons: list[str],
    home_la: str,
) -> tuple[pl.DataFrame, Overrides]:
    """A few permanent exclusions: E for five days, then the pupil attends AP, dual registered at first."""
    eligible = np.flatnonzero(
        (schools.phase[pupils.school0] == SECONDARY)
        & (schools.la[pupils.school0] == home_la)
        & np.isin(pupils.cls, (CLA, CIN, CP))
        & (pupils.start_day == 0)
        & (pupils.move_day == n_days)
    )
    ap_schools = np.flatnonzero((schools.phase == AP) & (schools.la == home_la))
    n = 0 if n_days < 30 or ap_schools.size == 0 else min(eligible.size, max(2, round(eligible.size * 0.006)))
    pupil = np.sort(rng.choice(eligible, n, replace=False)) if n else np.array([], dtype=np.int64)
    day = rng.integers(int(n_days * 0.15), int(n_days * 0.7), n)
    pupils.school1[pupil] = rng.choice(ap_schools, n) if n else pupil
    pupils.move_day[pupil] = day + 5
    pupils.dual_end[pupil] = day + 15
    marks = _windows(pupil, day, np.full(n, 5), CODE["E"], CODE["E"], n_days)
    records = pl.DataFrame(
        {
            "pupil": pupil,
            "UPN": pupils.upn[pupil].tolist() if n else [],
            "URN": schools.urn[pupils.school0[pupil]],
            "Start Date": [dates[d] for d in day.tolist()],
            "End Date": [None] * n,
            "Sessions": [None] * n,
            "Category": "permanent_exclusion",
        },
        schema_overrides={"Start Date": pl.Date, "End Date": pl.Date, "Sessions": pl.Int64},
    )
    return _with_reasons(rng, records, ["PA", "VA", "OW", "DB", "DA", "SM"]), marks


def other_overrides(rng: np.random.Generator, pupils: Pupils, schools: Schools, n_days: int) -> tuple[Overrides, dict]:
    """Part-time timetables (C2 afternoons), LA-arranged provision (K) and long unexplained absences (O)."""
    n = pupils.size
    social_work = np.isin(pupils.cls, (CLA, CIN, CP))
    older = schools.phase[pupils.school0] != PRIMARY
    part_time = np.flatnonzero(social_work & (rng.random(n) < np.where(older, 0.02, 0.006)))
    pt_start = rng.integers(0, max(1, int(n_days * 0.6)), part_time.size)
    pt_len = rng.integers(15, 61, part_time.size)
    provision = np.flatnonzero((pupils.cls == CLA) & (rng.random(n) < 0.012))
    k_start = rng.integers(0, max(1, n_days - 5), provision.size)
    missing = np.flatnonzero(np.isin(pupils.cls, (CIN, CP)) & (rng.random(n) < 0.008) & (n_days >= 25))
    m_start = rng.integers(0, max(1, n_days - 12), missing.size)
    m_len = rng.integers(10, 21, missing.size)
    parts = [
        _windows(part_time, pt_start, pt_len, KEEP, CODE["C2"], n_days),
        _windows(provision, k_start, rng.integers(5, 21, provision.size), CODE["K"], CODE["K"], n_days),
        _windows(missing, m_start, m_len, CODE["O"], CODE["O"], n_days),
        _windows(
            missing, m_start, np.full(missing.size, 3), CODE["N"], CODE["N"], n_days
        ),  # not yet established at first
    ]
    return Overrides.concat(parts), {"part_time": part_time, "provision": provision, "missing": missing}
