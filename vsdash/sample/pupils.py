"""Pupils as schools see them: who attends where, moves between schools, and how each one attends.

A pupil is a child of the social-care list whose school sends data, or a pupil the list does not
know. Everything here is one value per pupil (arrays), so the daily generation stays vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from vsdash.sample.people import CIN, CLA, CP, EVER6, PLAC, UNKNOWN, Population, unique_upns

PRIMARY, SECONDARY, SPECIAL, AP = range(4)
PHASE_NAMES = ("Primary", "Secondary", "Special", "Alternative provision")

# Share of each class's pupils attending a school in another authority (secondary, primary).
OUT_OF_AREA = {
    CLA: (0.30, 0.16),
    CP: (0.04, 0.03),
    CIN: (0.04, 0.03),
    PLAC: (0.05, 0.04),
    EVER6: (0.04, 0.03),
    UNKNOWN: (0.0, 0.0),
}
# Where looked-after children placed out of area go to school.
OUT_OF_AREA_LAS = {
    "894": 0.28,
    "860": 0.14,
    "666": 0.14,
    "895": 0.10,
    "884": 0.10,
    "665": 0.08,
    "330": 0.09,
    "336": 0.07,
}

# Propensity to miss a session, Beta(a, b) per class: fitted so that the share of pupils at or
# above 10% and 50% matches the field reports (PA: CLA ~20%, CIN ~42%, CP ~52%; SA CP ~10%).
ABSENCE_BETA = {
    CLA: (0.12, 1.48),
    CP: (0.48, 2.12),
    CIN: (0.32, 1.86),
    PLAC: (0.176, 2.02),
    EVER6: (0.22, 1.98),
    UNKNOWN: (0.138, 2.16),
}
# Share of absence spells that are unauthorised, by class.
UNAUTHORISED_SHARE = {CLA: 0.25, CP: 0.5, CIN: 0.45, PLAC: 0.3, EVER6: 0.35, UNKNOWN: 0.3}


@dataclass
class Schools:
    """The schools as arrays, indexed by position."""

    urn: np.ndarray
    la: np.ndarray
    phase: np.ndarray  # PRIMARY..AP
    locality: np.ndarray  # home locality index 0-3, -1 outside the authority
    estab: np.ndarray

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, localities: tuple[str, ...]) -> Schools:
        """Arrays from the schools extract."""
        loc_index = {name: i for i, name in enumerate(localities)}
        return cls(
            urn=frame["URN"].to_numpy(),
            la=frame["LA (code)"].to_numpy().astype(str),
            phase=np.array([PHASE_NAMES.index(p) for p in frame["PhaseOfEducation (name)"]]),
            locality=np.array([loc_index.get(x, -1) if x else -1 for x in frame["Locality"].to_list()]),
            estab=frame["EstablishmentNumber"].to_numpy().astype(str),
        )


@dataclass
class Pupils:
    """One entry per pupil in the attendance feeds."""

    upn: np.ndarray  # what schools send
    child: np.ndarray  # index into the social-care list, -1 if the list does not know the pupil
    la_child_id: np.ndarray  # carried in the feed for some pupils, '' otherwise
    cls: np.ndarray
    year_group: np.ndarray
    school0: np.ndarray
    school1: np.ndarray  # school after a move (= school0 when none)
    move_day: np.ndarray  # day index of the move (n_days when none)
    dual_end: np.ndarray  # old school marks D until this day index
    start_day: np.ndarray  # admission day index
    p_day: np.ndarray  # chance of a day's absence before patterns
    unauthorised: np.ndarray
    late: np.ndarray
    monday_friday: np.ndarray  # absence concentrated on Mondays and Fridays
    drift_start: np.ndarray  # day index from which attendance falls away (n_days when none)
    drift_level: np.ndarray

    @property
    def size(self) -> int:
        """Number of pupils."""
        return self.upn.size


def _phase_needed(rng: np.random.Generator, year_group: np.ndarray, ehcp: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Phase of school each pupil attends: by age, special for some with an EHCP, AP for a few."""
    phase = np.where(year_group <= 6, PRIMARY, SECONDARY)
    phase = np.where(ehcp & (rng.random(phase.size) < 0.4), SPECIAL, phase)
    ap = (phase == SECONDARY) & np.isin(cls, (CLA, CIN, CP)) & (rng.random(phase.size) < 0.025)
    return np.where(ap, AP, phase)


def _choose(
    rng: np.random.Generator, schools: Schools, phase: np.ndarray, la: np.ndarray, locality: np.ndarray
) -> np.ndarray:
    """A school per pupil of the right phase: in the given LA, and in the locality when at home."""
    out = np.empty(phase.size, dtype=np.int64)
    keys = np.stack([phase, np.unique(la, return_inverse=True)[1], locality])
    las = np.unique(la)
    for key in np.unique(keys, axis=1).T:
        mask = (keys == key[:, None]).all(axis=0)
        p, la_code, loc = int(key[0]), las[key[1]], int(key[2])
        cand = np.flatnonzero(
            (schools.phase == p) & (schools.la == la_code) & ((schools.locality == loc) | (loc < 0) | (p >= SPECIAL))
        )
        if cand.size == 0:  # no special school or AP there: the ordinary school for the age
            fallback = SECONDARY if p == AP else PRIMARY
            cand = np.flatnonzero((schools.phase == fallback) & (schools.la == la_code))
        out[mask] = rng.choice(cand, mask.sum())
    return out


def assign_schools(
    rng: np.random.Generator,
    schools: Schools,
    cls: np.ndarray,
    year_group: np.ndarray,
    ehcp: np.ndarray,
    locality: np.ndarray,
    placed_here: np.ndarray,
    home_la: str,
) -> np.ndarray:
    """Each pupil's school at the start: mostly in their locality, some placed in other authorities."""
    phase = _phase_needed(rng, year_group, ehcp, cls)
    share = np.array(
        [OUT_OF_AREA[c][0 if y >= 7 else 1] for c, y in zip(cls.tolist(), year_group.tolist(), strict=True)]
    )
    away = (rng.random(cls.size) < share) & ~placed_here
    las = list(OUT_OF_AREA_LAS)
    weights = np.array(list(OUT_OF_AREA_LAS.values()))
    la = np.where(away, rng.choice(las, cls.size, p=weights / weights.sum()), home_la)
    return _choose(rng, schools, phase, la, np.where(away, -1, locality))


def _moves(rng: np.random.Generator, pupils: Pupils, schools: Schools, n_days: int, home_la: str) -> np.ndarray:
    """Pupils who change school mid-term, with D marks at the old school for a while; returns them."""
    rate = np.where(pupils.cls == CLA, 0.06, 0.015)
    movers = np.flatnonzero((rng.random(pupils.size) < rate) & (pupils.start_day == 0))
    if movers.size == 0 or n_days < 10:
        return movers[:0]
    phase = schools.phase[pupils.school0[movers]]
    away = (pupils.cls[movers] == CLA) & (rng.random(movers.size) < 0.35)
    las = list(OUT_OF_AREA_LAS)
    weights = np.array(list(OUT_OF_AREA_LAS.values()))
    la = np.where(away, rng.choice(las, movers.size, p=weights / weights.sum()), home_la)
    new = _choose(rng, schools, phase, la, np.where(away, -1, rng.integers(0, 4, movers.size)))
    keep = new != pupils.school0[movers]
    movers, new = movers[keep], new[keep]
    pupils.school1[movers] = new
    pupils.move_day[movers] = rng.integers(int(n_days * 0.1), int(n_days * 0.85), movers.size)
    pupils.dual_end[movers] = pupils.move_day[movers] + rng.integers(5, 21, movers.size)
    return movers


def _attendance_habits(rng: np.random.Generator, cls: np.ndarray, n_days: int) -> dict[str, np.ndarray]:
    """Per-pupil propensity (skewed: most attend well, a few miss a lot), reasons, lateness, patterns."""
    n = cls.size
    rate = np.empty(n)
    for c, (a, b) in ABSENCE_BETA.items():
        mask = cls == c
        rate[mask] = rng.beta(a, b, mask.sum())
    unauthorised = np.clip(np.array([UNAUTHORISED_SHARE[c] for c in cls.tolist()]) + rng.normal(0, 0.15, n), 0.02, 0.95)
    unauthorised = np.where(
        rate > 0.3, np.maximum(unauthorised, 0.6), unauthorised
    )  # severe absence is mostly unexplained
    drift = (cls != UNKNOWN) & (rng.random(n) < 0.015) & (rate < 0.2) & (n_days >= 30)
    return {
        "p_day": rate / 0.93,  # a few absences are half days
        "unauthorised": unauthorised,
        "late": rng.beta(0.6, 12, n),
        "monday_friday": (rate > 0.06) & (rng.random(n) < 0.15),
        "drift_start": np.where(drift, n_days - rng.integers(8, 19, n), n_days),
        "drift_level": rng.uniform(0.5, 0.85, n),
    }


def build_pupils(
    rng: np.random.Generator, pop: Population, schools: Schools, n_days: int, home_la: str, academic_year: int
) -> tuple[Pupils, dict[str, np.ndarray]]:
    """Pupils of the feeds (list children with data plus unknown pupils) and who has no data at all."""
    kids = pop.children
    n = kids.height
    no_data = rng.random(n) < 0.065  # not in any feed: missing education, EHE, independent...
    ehcp = kids["EHCP"].to_numpy() == "Y"
    placed_here = kids["Responsible LA"].to_numpy() != home_la
    locality = kids["home_locality"].to_numpy()
    school = assign_schools(rng, schools, pop.absence_class, pop.year_group, ehcp, locality, placed_here, home_la)

    listed = np.flatnonzero(~no_data)
    n_unknown = round(n * 0.06)
    unknown_year = rng.integers(0, 12, n_unknown)
    unknown_upn = unique_upns(
        rng, n_unknown, unknown_year, academic_year, schools.estab[schools.la == home_la], set(pop.upn)
    )
    unknown_school = assign_schools(
        rng,
        schools,
        np.full(n_unknown, UNKNOWN),
        unknown_year,
        rng.random(n_unknown) < 0.1,
        rng.integers(0, 4, n_unknown),
        np.zeros(n_unknown, bool),
        home_la,
    )
    ids = kids["LA Child ID"].to_numpy()
    carries_id = rng.random(listed.size) < 0.6  # the feed carries the social-care ID for some
    cls = np.concatenate([pop.absence_class[listed], np.full(n_unknown, UNKNOWN)])
    total = listed.size + n_unknown
    school0 = np.concatenate([school[listed], unknown_school])
    habits = _attendance_habits(rng, cls, n_days)
    pupils = Pupils(
        upn=np.array([pop.upn[i] for i in listed] + unknown_upn, dtype=object),
        child=np.concatenate([listed, np.full(n_unknown, -1)]),
        la_child_id=np.concatenate([np.where(carries_id, ids[listed], ""), np.full(n_unknown, "")]).astype(object),
        cls=cls,
        year_group=np.concatenate([pop.year_group[listed], unknown_year]),
        school0=school0,
        school1=school0.copy(),
        move_day=np.full(total, n_days),
        dual_end=np.full(total, n_days),
        start_day=np.where(rng.random(total) < 0.03, rng.integers(5, max(6, int(n_days * 0.8)), total), 0),
        **habits,
    )
    movers = _moves(rng, pupils, schools, n_days, home_la)
    return pupils, {"no_data": np.flatnonzero(no_data), "movers": movers, "school_at_start": school}
