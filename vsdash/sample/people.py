"""The social-care list of the sample: children, their dated cohort episodes, teams and workers.

Each child gets one history profile (long-term in care, a short CP plan stepped down to CIN,
a closed CIN plan, ...); the profile writes the child's episodes, and decides which absence
pattern the child follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from vsdash.sample.upn import make_upns, typo

# Absence classes: the cohort a child belongs to at the end of the sample, most severe first.
CLASSES = ("CLA", "CP", "CIN", "PLAC", "EVER6", "UNKNOWN")
CLA, CP, CIN, PLAC, EVER6, UNKNOWN = range(6)

# History profiles and their shares of the list.
PROFILES = {
    "cla": 0.17,  # in care now (some came into care this term, often straight from CP)
    "cla_ended": 0.02,  # left care this term: home (then CIN) or to an order (then PLAC)
    "cp": 0.09,  # on a CP plan now
    "cp_stepdown": 0.05,  # CP plan started and ended this term, stepped down to CIN
    "cin": 0.24,  # on a CIN plan now
    "cin_closed": 0.06,  # CIN plan closed this term (Ever 6 from then)
    "plac": 0.10,  # adopted or under an order after care
    "ever6_explicit": 0.08,  # arrives only as an explicit EVER6 episode
    "ever6_past": 0.19,  # closed CIN/CP plans in the last six years
}
OTHER_LAS_PLACING = np.array(["330", "336", "333", "894", "860"])  # other authorities' children placed here

_FIRST_F = (
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Grace",
    "Freya",
    "Evie",
    "Poppy",
    "Ella",
    "Sophie",
    "Chloe",
    "Ruby",
    "Millie",
    "Daisy",
    "Erin",
    "Holly",
    "Jessica",
    "Niamh",
    "Megan",
    "Lacey",
    "Kayla",
    "Maisie",
    "Leah",
    "Skye",
    "Harriet",
    "Zara",
    "Nia",
)
_FIRST_M = (
    "Oliver",
    "George",
    "Noah",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Jack",
    "Charlie",
    "Jacob",
    "Thomas",
    "Alfie",
    "Riley",
    "Mason",
    "Tyler",
    "Kai",
    "Callum",
    "Dylan",
    "Logan",
    "Ethan",
    "Reece",
    "Jayden",
    "Connor",
    "Lewis",
    "Rhys",
    "Owen",
    "Finley",
    "Bailey",
    "Harvey",
    "Ioan",
)
_LAST = (
    "Evans",
    "Davies",
    "Jones",
    "Williams",
    "Roberts",
    "Price",
    "Morris",
    "Edwards",
    "Hughes",
    "Lloyd",
    "Bennett",
    "Pugh",
    "Breeze",
    "Corbett",
    "Mytton",
    "Heighway",
    "Onions",
    "Gittins",
    "Bebb",
    "Hotchkiss",
    "Clee",
    "Rowlands",
    "Jarvis",
    "Stokes",
    "Felton",
    "Tudor",
    "Meredith",
    "Wilde",
    "Pritchard",
    "Colley",
    "Bright",
    "Haycock",
    "Lewis",
    "Powell",
    "Gough",
    "Parry",
    "Beddoes",
    "Cadwallader",
    "Vaughan",
    "Owen",
    "Khan",
    "Begum",
    "Kowalski",
    "Nowak",
    "Ali",
    "Singh",
    "Patel",
    "Mensah",
    "Okafor",
    "Ionescu",
)
_SW_FIRST = (
    "Sarah",
    "Rachel",
    "Helen",
    "Claire",
    "Emma",
    "Joanne",
    "Lisa",
    "Kirsty",
    "Amy",
    "Gemma",
    "Mark",
    "Paul",
    "Darren",
    "Ian",
    "Gareth",
    "Priya",
    "Anita",
    "Lorraine",
    "Dawn",
    "Sian",
)


@dataclass(frozen=True)
class Population:
    """The children on the social-care list, one entry per child, and their episodes."""

    children: pl.DataFrame  # one row per child (internal columns included)
    episodes: pl.DataFrame  # la_child_id, cohort, start, end (null = open)
    absence_class: np.ndarray  # index into CLASSES, per child
    year_group: np.ndarray  # 0 = Reception .. 11
    upn: list[str]  # the child's real UPN (what schools send)


def team_names(localities: tuple[str, ...]) -> list[tuple[str, str]]:
    """The 10 social-care teams as (team, locality): safeguarding and children in care per locality."""
    north, south, east, west = localities[:4] if len(localities) >= 4 else ("North", "South", "East", "West")
    teams = [(f"{loc} Safeguarding", loc) for loc in (north, south, east, west)]
    teams += [(f"{loc} Children in Care", loc) for loc in (north, south, east, west)]
    teams += [("Shrewsbury Safeguarding", west), ("Disabled Children's Team", west)]
    return teams


def _uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int) -> np.ndarray:
    """Whole numbers of days drawn uniformly in [lo, hi]."""
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.int64), n)
    hi_a = np.maximum(np.broadcast_to(np.asarray(hi, dtype=np.int64), n), lo_a)
    return (lo_a + np.floor(rng.random(n) * (hi_a - lo_a + 1))).astype(np.int64)


def _dob(rng: np.random.Generator, year_group: np.ndarray, academic_year: int) -> np.ndarray:
    """Dates of birth consistent with the year group (Reception: born Sept ay-5 to Aug ay-4)."""
    first = np.array([np.datetime64(date(academic_year - 5 - int(y), 9, 1)) for y in range(12)])
    offset = (rng.random(year_group.size) * 365).astype(np.int64)
    return first[year_group] + offset.astype("timedelta64[D]")


_YEAR_WEIGHTS = {
    CLA: [4, 5, 5, 6, 6, 7, 7, 9, 10, 11, 12, 13],
    CP: [10, 10, 9, 9, 8, 8, 8, 8, 7, 7, 6, 6],
    CIN: [6, 6, 7, 7, 7, 8, 8, 9, 9, 10, 10, 10],
    PLAC: [6, 7, 8, 9, 9, 9, 9, 9, 8, 8, 7, 6],
    EVER6: [7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8],
}
_AGE_PROFILE = {
    "cla": CLA,
    "cla_ended": CIN,
    "cp": CP,
    "cp_stepdown": CIN,
    "cin": CIN,
    "cin_closed": EVER6,
    "plac": PLAC,
    "ever6_explicit": EVER6,
    "ever6_past": EVER6,
}
_EHCP_RATE = {CLA: 0.26, CP: 0.11, CIN: 0.21, PLAC: 0.19, EVER6: 0.13}


class _Episodes:
    """Collects episode rows profile by profile, as arrays."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, str, np.ndarray, np.ndarray]] = []

    def add(self, idx: np.ndarray, cohort: str, start: np.ndarray, end: np.ndarray | None) -> None:
        """Add episodes for the children `idx` (end None = open)."""
        if idx.size == 0:
            return
        end_arr = np.full(idx.size, np.datetime64("NaT"), dtype="datetime64[D]") if end is None else end
        self.parts.append((idx, cohort, start.astype("datetime64[D]"), end_arr.astype("datetime64[D]")))

    def frame(self, ids: np.ndarray) -> pl.DataFrame:
        """All episodes as one frame, ordered by child and start."""
        idx = np.concatenate([p[0] for p in self.parts])
        return pl.DataFrame(
            {
                "child": idx,
                "la_child_id": ids[idx],
                "cohort": np.concatenate([np.full(p[0].size, p[1]) for p in self.parts]),
                "start": np.concatenate([p[2] for p in self.parts]),
                "end": np.concatenate([p[3] for p in self.parts]),
            }
        ).sort("child", "start", "cohort")


def _write_histories(
    rng: np.random.Generator, profile: np.ndarray, dob: np.ndarray, first: np.datetime64, last: np.datetime64
) -> tuple[_Episodes, np.ndarray]:
    """Episodes for every profile; returns them with each child's absence class."""
    ep = _Episodes()
    window = int((last - first).astype(int))
    cls = np.full(profile.size, EVER6)
    day = np.timedelta64(1, "D")
    names = list(PROFILES)

    def pick(name: str) -> np.ndarray:
        return np.flatnonzero(profile == names.index(name))

    def after_birth(idx: np.ndarray, when: np.ndarray, days: int = 30) -> np.ndarray:
        return np.maximum(when, dob[idx] + np.timedelta64(days, "D"))

    idx = pick("cla")
    n = idx.size
    new = rng.random(n) < 0.12
    start = np.where(
        new, first + _uniform_days(rng, 0, window - 10, n) * day, last - _uniform_days(rng, 180, 3650, n) * day
    )
    start = after_birth(idx, start)
    ep.add(idx, "CLA", start, None)
    had_cp = (new & (rng.random(n) < 0.5)) | (~new & (rng.random(n) < 0.3))
    cp_start = after_birth(idx, start - _uniform_days(rng, 30, 240, n) * day, 10)
    ok = had_cp & (cp_start < start)
    ep.add(idx[ok], "CP", cp_start[ok], start[ok] - day)
    cls[idx] = CLA

    idx = pick("cla_ended")
    n = idx.size
    start = after_birth(idx, first - _uniform_days(rng, 200, 1400, n) * day)
    end = first + _uniform_days(rng, 5, max(window - 5, 5), n) * day
    ep.add(idx, "CLA", start, end)
    home = rng.random(n) < 0.6
    ep.add(idx[home], "CIN", end[home] + day, None)
    ep.add(idx[~home], "PLAC", end[~home] + day, None)
    cls[idx] = np.where(home, CIN, PLAC)

    idx = pick("cp")
    n = idx.size
    new = rng.random(n) < 0.35
    start = np.where(
        new, first + _uniform_days(rng, 0, window - 5, n) * day, first - _uniform_days(rng, 30, 400, n) * day
    )
    start = after_birth(idx, start)
    ep.add(idx, "CP", start, None)
    prior = rng.random(n) < 0.5
    cin_start = after_birth(idx, start - _uniform_days(rng, 60, 500, n) * day, 10)
    ok = prior & (cin_start < start)
    still_open = rng.random(n) < 0.16  # social care never closed the CIN plan: an overlap
    ep.add(idx[ok & ~still_open], "CIN", cin_start[ok & ~still_open], start[ok & ~still_open] - day)
    ep.add(idx[ok & still_open], "CIN", cin_start[ok & still_open], None)
    cls[idx] = CP

    idx = pick("cp_stepdown")
    n = idx.size
    cp_start = after_birth(idx, first + _uniform_days(rng, 0, max(window // 2, 1), n) * day)
    cp_end = np.minimum(cp_start + _uniform_days(rng, 28, 75, n) * day, last - 14 * day)
    cp_end = np.maximum(cp_end, cp_start + day)
    ep.add(idx, "CP", cp_start, cp_end)
    closed = rng.random(n) < 0.3
    cin_start = cp_end + day
    cin_end = np.minimum(cin_start + _uniform_days(rng, 14, 60, n) * day, last - day)
    ep.add(idx[closed], "CIN", cin_start[closed], cin_end[closed])
    ep.add(idx[~closed], "CIN", cin_start[~closed], None)
    cls[idx] = np.where(closed, EVER6, CIN)

    idx = pick("cin")
    n = idx.size
    new = rng.random(n) < 0.1
    start = np.where(new, first + _uniform_days(rng, 0, window, n) * day, first - _uniform_days(rng, 30, 900, n) * day)
    start = after_birth(idx, start)
    ep.add(idx, "CIN", start, None)
    prior = rng.random(n) < 0.2
    cp_start = after_birth(idx, start - _uniform_days(rng, 60, 300, n) * day, 10)
    ok = prior & (cp_start < start)
    ep.add(idx[ok], "CP", cp_start[ok], start[ok] - day)
    cls[idx] = CIN

    idx = pick("cin_closed")
    n = idx.size
    start = after_birth(idx, first - _uniform_days(rng, 60, 540, n) * day)
    ep.add(idx, "CIN", start, first + _uniform_days(rng, 0, window - 1, n) * day)

    idx = pick("plac")
    n = idx.size
    order = after_birth(idx, last - _uniform_days(rng, 365, 3650, n) * day, 400)
    care = np.maximum(order - _uniform_days(rng, 180, 900, n) * day, dob[idx] + 10 * day)
    ep.add(idx, "CLA", care, order - day)
    ep.add(idx, "PLAC", order, None)
    cls[idx] = PLAC

    idx = pick("ever6_explicit")
    n = idx.size
    ep.add(idx, "EVER6", after_birth(idx, last - _uniform_days(rng, 30, 1500, n) * day), None)

    idx = pick("ever6_past")
    n = idx.size
    end = last - _uniform_days(rng, 180, 2000, n) * day
    start = after_birth(idx, end - _uniform_days(rng, 60, 700, n) * day, 10)
    end = np.maximum(end, start + 30 * day)
    as_cp = rng.random(n) < 0.25
    ep.add(idx[as_cp], "CP", start[as_cp], end[as_cp])
    ep.add(idx[~as_cp], "CIN", start[~as_cp], end[~as_cp])
    return ep, cls


def unique_upns(
    rng: np.random.Generator,
    n: int,
    year_group: np.ndarray,
    academic_year: int,
    home_estabs: np.ndarray,
    taken: set[str],
) -> list[str]:
    """Valid, distinct UPNs: issued by the child's first school when they started Reception."""
    from_home = rng.random(n) < 0.8
    other_las = np.array(["894", "860", "330", "336", "333", "895", "884", "666", "341", "937"])
    la = np.where(from_home, "893", rng.choice(other_las, n))
    estab = np.where(from_home, rng.choice(home_estabs, n), rng.integers(2000, 3999, n).astype(str))
    year2 = (academic_year - year_group) % 100
    upns = make_upns(la, estab, year2, rng.integers(1, 999, n))
    seen = set(taken)
    for i, u in enumerate(upns):
        while u in seen:
            u = make_upns(la[i : i + 1], estab[i : i + 1], year2[i : i + 1], rng.integers(1, 999, 1))[0]
        seen.add(u)
        upns[i] = u
    return upns


def _allocate(
    rng: np.random.Generator,
    cls: np.ndarray,
    ehcp: np.ndarray,
    home_locality: np.ndarray,
    placed_here: np.ndarray,
    localities: tuple[str, ...],
) -> tuple[list, list]:
    """Team and social worker per child; none for children without an open plan (PLAC, EVER6)."""
    n = cls.size
    teams = team_names(localities)
    safeguarding = np.where((home_locality == 3) & (rng.random(n) < 0.5), 8, home_locality)
    team = np.array([teams[i][0] for i in safeguarding], dtype=object)
    team[cls == CLA] = [teams[4 + i][0] for i in home_locality[cls == CLA]]
    team[np.isin(cls, (CIN, CP)) & ehcp & (rng.random(n) < 0.35)] = teams[9][0]
    team[np.isin(cls, (PLAC, EVER6)) | placed_here] = None  # other authorities keep their own workers
    workers = {
        t: [f"{rng.choice(_SW_FIRST)} {rng.choice(_LAST)}" for _ in range(int(rng.integers(6, 10)))] for t, _ in teams
    }
    social_worker = [
        workers[t][i % len(workers[t])] if t else None
        for t, i in zip(team.tolist(), rng.integers(0, 100, n).tolist(), strict=True)
    ]
    return team.tolist(), social_worker


def build_population(
    rng: np.random.Generator,
    n: int,
    first: date,
    last: date,
    localities: tuple[str, ...],
    home_estabs: np.ndarray,
    la_code: str,
) -> Population:
    """The social-care list: `n` children with histories, names, teams and UPNs as social care holds them."""
    academic_year = first.year if first.month >= 9 else first.year - 1
    names = list(PROFILES)
    profile = rng.choice(len(names), n, p=np.array(list(PROFILES.values())) / sum(PROFILES.values()))
    # Ages follow the kind of history: teenagers in care, younger children on CP plans.
    provisional = np.array([_AGE_PROFILE[name] for name in names])[profile]
    year_group = np.empty(n, dtype=np.int64)
    for c, weights in _YEAR_WEIGHTS.items():
        mask = provisional == c
        w = np.array(weights, dtype=float)
        year_group[mask] = rng.choice(12, mask.sum(), p=w / w.sum())
    dob = _dob(rng, year_group, academic_year)
    episodes, cls = _write_histories(rng, profile, dob, np.datetime64(first), np.datetime64(last))

    ids = np.array([str(x) for x in rng.choice(np.arange(1_000_000, 9_999_999), n, replace=False)])
    ep = episodes.frame(ids)
    gender = np.where(rng.random(n) < 0.53, "M", "F")
    first_names = np.where(gender == "M", rng.choice(_FIRST_M, n), rng.choice(_FIRST_F, n))
    last_names = rng.choice(_LAST, n)
    ehcp = rng.random(n) < np.array([_EHCP_RATE.get(c, 0.15) for c in range(6)])[cls]
    responsible = np.full(n, la_code)
    placed_here = (cls == CLA) & (rng.random(n) < 0.04)
    responsible[placed_here] = rng.choice(OTHER_LAS_PLACING, placed_here.sum())

    locality_names = [loc for _, loc in team_names(localities)[:4]]
    home_locality = rng.choice(4, n, p=[0.24, 0.2, 0.2, 0.36])
    team, social_worker = _allocate(rng, cls, ehcp, home_locality, placed_here, localities)

    upn = unique_upns(rng, n, year_group, academic_year, home_estabs, set())
    upn_list = np.array(upn, dtype=object)
    no_upn = rng.random(n) < 0.025  # social care holds no UPN
    typos = ~no_upn & (rng.random(n) < 0.05)  # social care holds a mistyped UPN
    upn_list[typos] = [typo(u, rng) for u in upn_list[typos]]
    upn_list[no_upn] = None

    children = pl.DataFrame(
        {
            "child": np.arange(n),
            "LA Child ID": ids,
            "UPN": upn_list.tolist(),
            "First Name": first_names,
            "Last Name": last_names,
            "DOB": dob,
            "Gender": gender,
            "Social Worker": social_worker,
            "Team": team,
            "Locality": np.array(locality_names)[home_locality],
            "EHCP": np.where(ehcp, "Y", "N"),
            "Responsible LA": responsible,
            "Year Group": np.where(year_group == 0, "R", year_group.astype(str)),
            "upn_typo": typos,
            "upn_missing": no_upn,
            "home_locality": home_locality,
            "profile": np.array(names)[profile],
        }
    )
    return Population(children=children, episodes=ep, absence_class=cls, year_group=year_group, upn=upn)
