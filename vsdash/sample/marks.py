"""Daily attendance marks, one file per school day, with the faults real feeds have.

The loop runs over days, never over pupils: each day is a handful of vectorised draws for all
pupils. Absence follows a two-state chain per pupil (absent yesterday makes absent today more
likely), so absence comes in spells with one reason per spell.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from vsdash.sample.events import CODE, FAULT_CODES, KEEP, VOCAB, Overrides
from vsdash.sample.pupils import Pupils, Schools
from vsdash.sample.upn import wrong_check_letter, wrong_length

PERSISTENCE = 0.55  # chance an absence spell carries on to the next day, beyond the pupil's own rate
# Absence by weekday (Mon..Fri): everyone a little, some pupils a lot on Mondays and Fridays.
WEEKDAY = np.array([[1.10, 0.95, 0.92, 0.95, 1.08], [1.90, 0.60, 0.50, 0.60, 1.40]])
MONTH = {9: 0.8, 10: 0.95, 11: 1.0, 12: 1.15, 1: 1.1, 2: 1.05, 3: 1.0, 4: 0.9, 5: 0.9, 6: 0.95, 7: 1.1, 8: 1.0}
UNAUTHORISED = np.array([CODE["O"], CODE["N"], CODE["G"]])
UNAUTHORISED_P = np.array([0.6, 0.25, 0.15])
AUTHORISED = np.array([CODE["I"], CODE["M"], CODE["C"], CODE["R"]])
AUTHORISED_P = np.array([0.82, 0.12, 0.03, 0.03])
HEADER = ("UPN", "URN", "Date", "AM", "PM", "LA Child ID")


@dataclass
class FeedPlan:
    """The feed faults to inject, decided before the days are generated."""

    silent_school: int  # stops sending `silent_days` before the end
    silent_from_day: int
    never_sends: int  # a school whose data never arrives (-1 for none)
    corrected_day: int
    corrected_school: int
    closures: dict[int, list[tuple[int, int]]]  # day -> [(school, code)]
    trips: dict[int, np.ndarray]  # day -> schools with a trip that day
    pm_pending_schools: np.ndarray  # on the last day these have sent the morning only
    bad_upn_pupils: np.ndarray  # their school holds a malformed UPN all term
    bad_upn_value: dict[int, str] = field(default_factory=dict)


@dataclass
class FeedCounts:
    """What the writer actually put in the files, for the summary."""

    files: list[str] = field(default_factory=list)
    rows: int = 0
    bad_upn_rows: int = 0
    unknown_code_rows: int = 0
    corrected_rows: int = 0
    corrected_changed: int = 0
    pm_pending_rows: int = 0


def _reason_draw(rng: np.random.Generator, unauthorised: np.ndarray) -> np.ndarray:
    """A reason code for each new absence spell."""
    n = unauthorised.size
    unauth = rng.random(n) < unauthorised
    return np.where(unauth, rng.choice(UNAUTHORISED, n, p=UNAUTHORISED_P), rng.choice(AUTHORISED, n, p=AUTHORISED_P))


class DayGenerator:
    """Generates each day's marks for all pupils, carrying absence spells from one day to the next."""

    def __init__(
        self, rng: np.random.Generator, pupils: Pupils, overrides: Overrides, plan: FeedPlan, n_schools: int
    ) -> None:
        self.rng, self.p, self.overrides, self.plan = rng, pupils, overrides, plan
        self.prev_absent = np.zeros(pupils.size, dtype=bool)
        self.reason = np.full(pupils.size, CODE["I"], dtype=np.int64)
        self.n_schools = n_schools

    def marks(self, d: int, day: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Current school, AM and PM code indices for every pupil on day index `d`."""
        p, rng, n = self.p, self.rng, self.p.size
        rate = p.p_day * WEEKDAY[p.monday_friday.astype(int), day.weekday()] * MONTH[day.month]
        rate = np.where(d >= p.drift_start, np.maximum(rate, p.drift_level), rate)
        rate = np.clip(rate, 0.0, 0.97)
        chance = np.where(self.prev_absent, PERSISTENCE + (1 - PERSISTENCE) * rate, (1 - PERSISTENCE) * rate)
        absent = rng.random(n) < chance
        new_spell = absent & ~self.prev_absent
        unauth = np.where(d >= p.drift_start, 0.9, p.unauthorised)
        self.reason[new_spell] = _reason_draw(rng, unauth[new_spell])
        self.prev_absent = absent
        am = np.where(absent, self.reason, CODE["/"])
        pm = np.where(absent, self.reason, CODE["\\"])
        half = absent & (rng.random(n) < np.where(self.reason == CODE["M"], 0.7, 0.12))
        morning = rng.random(n) < 0.5
        am = np.where(half & ~morning, CODE["/"], am)
        pm = np.where(half & morning, CODE["\\"], pm)
        roll = rng.random(n)
        am = np.where((am == CODE["/"]) & (roll < p.late), np.where(roll < p.late * 0.12, CODE["U"], CODE["L"]), am)
        school = np.where(d < p.move_day, p.school0, p.school1)
        trips = self.plan.trips.get(d)
        if trips is not None:
            on_trip = np.isin(school, trips) & (rng.random(n) < 0.35)
            am, pm = np.where(on_trip, CODE["V"], am), np.where(on_trip, CODE["V"], pm)
        approved = rng.random(n) < 0.002
        pm = np.where(approved, rng.choice([CODE["P"], CODE["B"]], n), pm)
        rows = self.overrides.for_day(d)
        who, o_am, o_pm = self.overrides.pupil[rows], self.overrides.am[rows], self.overrides.pm[rows]
        am[who[o_am != KEEP]] = o_am[o_am != KEEP]
        pm[who[o_pm != KEEP]] = o_pm[o_pm != KEEP]
        closed = np.full(self.n_schools, KEEP)
        for s, code in self.plan.closures.get(d, []):
            closed[s] = code
        shut = closed[school] != KEEP
        am, pm = np.where(shut, closed[school], am), np.where(shut, closed[school], pm)
        return school, am, pm


def day_frame(
    gen: DayGenerator, d: int, day: date, schools: Schools, upn: pl.Series, la_child_id: pl.Series, vocab: pl.Series
) -> pl.DataFrame:
    """The rows schools send for one day: pupils on roll at their school, plus D rows at the old school."""
    p = gen.p
    school, am, pm = gen.marks(d, day)
    on_roll = np.flatnonzero(p.start_day <= d)
    dual = np.flatnonzero((p.move_day <= d) & (d < p.dual_end))
    idx = np.concatenate([on_roll, dual])
    sch = np.concatenate([school[on_roll], p.school0[dual]])
    am_i = np.concatenate([am[on_roll], np.full(dual.size, CODE["D"])])
    pm_i = np.concatenate([pm[on_roll], np.full(dual.size, CODE["D"])])
    return pl.DataFrame(
        {
            "pupil": idx,
            "school": sch,
            "UPN": upn.gather(idx),
            "URN": schools.urn[sch],
            "AM": vocab.gather(am_i),
            "PM": vocab.gather(pm_i),
            "LA Child ID": la_child_id.gather(idx),
        }
    ).with_columns(pl.lit(day, dtype=pl.Date).alias("Date"))


def inject_faults(
    rng: np.random.Generator, frame: pl.DataFrame, d: int, n_days: int, plan: FeedPlan, counts: FeedCounts
) -> pl.DataFrame:
    """Drop what never arrives, and spoil a few rows the way school exports do."""
    gone = (frame["school"] == plan.never_sends) | (
        (frame["school"] == plan.silent_school) & (d >= plan.silent_from_day)
    )
    frame = frame.filter(~gone)
    n = frame.height
    pupil = frame["pupil"].to_numpy()
    bad = np.flatnonzero(np.isin(pupil, plan.bad_upn_pupils) | (rng.random(n) < 0.0003))
    if bad.size:
        old = frame["UPN"].gather(bad).to_list()
        new = [
            plan.bad_upn_value.get(int(pupil[i]))
            or (wrong_check_letter(u) if rng.random() < 0.5 else wrong_length(u, rng))
            for i, u in zip(bad.tolist(), old, strict=True)
        ]
        frame = frame.with_columns(frame["UPN"].scatter(bad, new))
    counts.bad_upn_rows += int(bad.size)
    odd = np.flatnonzero(rng.random(n) < 0.0004)
    in_am = rng.random(odd.size) < 0.5
    codes = rng.choice(FAULT_CODES, odd.size).tolist()
    if odd.size:
        frame = frame.with_columns(
            frame["AM"].scatter(odd[in_am], [c for c, a in zip(codes, in_am, strict=True) if a]),
            frame["PM"].scatter(odd[~in_am], [c for c, a in zip(codes, in_am, strict=True) if not a]),
        )
    counts.unknown_code_rows += int(odd.size)
    if d == n_days - 1:
        pending = pl.col("school").is_in(plan.pm_pending_schools.tolist())
        counts.pm_pending_rows += frame.select(pending.sum()).item()
        frame = frame.with_columns(pl.when(pending).then(None).otherwise(pl.col("PM")).alias("PM"))
    return frame


def split_correction(
    rng: np.random.Generator, frame: pl.DataFrame, plan: FeedPlan, counts: FeedCounts
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first send with reasons not yet established (N), and the school's corrected re-send."""
    at_school = (frame["school"] == plan.corrected_school).to_numpy()
    rows = np.flatnonzero(at_school)
    am = frame["AM"].to_numpy().astype(object)
    pm = frame["PM"].to_numpy().astype(object)
    absent_first = np.isin(am[rows], ["I", "O", "M", "G", "C", "R"]) | (
        (am[rows] == "/") & (rng.random(rows.size) < 0.04)
    )
    n_first = rows[absent_first]
    if n_first.size < 3:
        n_first = rows[: min(3, rows.size)]
    am[n_first], pm[n_first] = "N", "N"
    first_send = frame.with_columns(pl.Series("AM", am, dtype=pl.String), pl.Series("PM", pm, dtype=pl.String))
    fixed_am, fixed_pm = am.copy(), pm.copy()
    truth = rng.choice(["I", "O", "M"], n_first.size, p=[0.6, 0.3, 0.1])
    fixed_am[n_first], fixed_pm[n_first] = truth, truth
    late = rows[np.isin(fixed_am[rows], ["/"])][:2]
    fixed_am[late] = "L"
    corrected = frame.with_columns(
        pl.Series("AM", fixed_am, dtype=pl.String), pl.Series("PM", fixed_pm, dtype=pl.String)
    ).filter(pl.Series(at_school))
    counts.corrected_rows = corrected.height
    counts.corrected_changed = int(n_first.size + late.size)
    return first_send, corrected


def write_csv(frame: pl.DataFrame, path: Path, compress: bool) -> str:
    """Write the feed columns as CSV (deterministic gzip when asked); returns the file name."""
    buffer = io.BytesIO()
    frame.select(HEADER).sort("URN", "UPN", "AM", nulls_last=True).write_csv(buffer, date_format="%Y-%m-%d")
    data = buffer.getvalue()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.write_bytes(data)
    return path.name


def write_days(
    rng: np.random.Generator, gen: DayGenerator, dates: list[date], schools: Schools, out: Path, compress: bool
) -> FeedCounts:
    """Generate and write every day's attendance file, plus the corrected re-send."""
    out.mkdir(parents=True, exist_ok=True)
    p, plan, counts = gen.p, gen.plan, FeedCounts()
    upn = pl.Series(p.upn.tolist(), dtype=pl.String)
    ids = pl.Series([x or None for x in p.la_child_id.tolist()], dtype=pl.String)
    vocab = pl.Series(VOCAB, dtype=pl.String)
    for d, day in enumerate(dates):
        frame = inject_faults(rng, day_frame(gen, d, day, schools, upn, ids, vocab), d, len(dates), plan, counts)
        if d == plan.corrected_day:
            frame, corrected = split_correction(rng, frame, plan, counts)
            counts.files.append(
                "attendance/" + write_csv(corrected, out / f"attendance_{day.isoformat()}_corrected.csv", compress)
            )
        counts.files.append("attendance/" + write_csv(frame, out / f"attendance_{day.isoformat()}.csv", compress))
        counts.rows += frame.height
    counts.files.sort()
    return counts
