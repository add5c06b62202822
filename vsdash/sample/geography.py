"""Sample geography: invented schools placed around real towns of Shropshire and its neighbours.

Towns are given by latitude/longitude (well-known centres) and a radius small enough that every
school placed within it stays inside the right authority; pyproj turns them into British
National Grid metres (EPSG:27700), the coordinates a GIAS extract carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from pyproj import Transformer

HOME_LA = "893"
HOME_LA_NAME = "Shropshire"

# LA code -> name. Welsh authorities are numbered 660-681 (Powys 666, Wrexham 665).
AUTHORITIES: dict[str, str] = {
    "893": "Shropshire",
    "894": "Telford and Wrekin",
    "860": "Staffordshire",
    "895": "Cheshire East",
    "884": "Herefordshire, County of",
    "666": "Powys",
    "665": "Wrexham",
    "330": "Birmingham",
    "336": "Wolverhampton",
}
WELSH_LAS = frozenset({"665", "666"})

PHASES = ("Primary", "Secondary", "Special", "Alternative provision")


@dataclass(frozen=True)
class Town:
    """A place schools cluster around; counts are schools by phase (primary, secondary, special, AP)."""

    name: str
    la: str
    locality: str | None
    lat: float
    lon: float
    radius_km: float
    districts: tuple[str, ...]
    counts: tuple[int, int, int, int]


# Home localities use the configured names in this order: North, South, East, West.
TOWNS: tuple[Town, ...] = (
    Town("Oswestry", "893", "North", 52.8600, -3.0540, 1.8, ("SY10", "SY11"), (8, 2, 1, 1)),
    Town("Ellesmere", "893", "North", 52.9070, -2.8940, 1.0, ("SY12",), (3, 1, 0, 0)),
    Town("Wem", "893", "North", 52.8550, -2.7250, 1.2, ("SY4",), (3, 1, 1, 0)),
    Town("Market Drayton", "893", "North", 52.9040, -2.4840, 1.5, ("TF9",), (4, 1, 1, 0)),
    Town("Whitchurch", "893", "North", 52.9690, -2.6820, 0.8, ("SY13",), (4, 1, 0, 0)),
    Town("North Shropshire villages", "893", "North", 52.7900, -2.8000, 5.0, ("SY4",), (10, 0, 0, 0)),
    Town("Ludlow", "893", "South", 52.3680, -2.7180, 1.0, ("SY8",), (5, 1, 1, 1)),
    Town("Church Stretton", "893", "South", 52.5380, -2.8040, 1.0, ("SY6",), (3, 1, 0, 0)),
    Town("Craven Arms", "893", "South", 52.4390, -2.8350, 1.0, ("SY7",), (3, 0, 0, 0)),
    Town("Bishop's Castle", "893", "South", 52.4930, -2.9990, 0.8, ("SY9",), (2, 1, 0, 0)),
    Town("Cleobury Mortimer", "893", "South", 52.3790, -2.4830, 0.8, ("DY14",), (2, 1, 0, 0)),
    Town("South Shropshire villages", "893", "South", 52.4800, -2.6500, 5.0, ("SY7", "WV16"), (8, 0, 0, 0)),
    Town("Bridgnorth", "893", "East", 52.5340, -2.4200, 1.8, ("WV15", "WV16"), (7, 2, 1, 0)),
    Town("Broseley", "893", "East", 52.6080, -2.4800, 0.6, ("TF12",), (2, 1, 0, 0)),
    Town("Much Wenlock", "893", "East", 52.5970, -2.5580, 0.8, ("TF13",), (2, 1, 0, 0)),
    Town("Shifnal", "893", "East", 52.6660, -2.3730, 0.8, ("TF11",), (3, 1, 1, 0)),
    Town("Albrighton", "893", "East", 52.6360, -2.2790, 0.8, ("WV7",), (2, 1, 0, 0)),
    Town("Highley", "893", "East", 52.4480, -2.3800, 0.8, ("WV16",), (2, 0, 0, 0)),
    Town("East Shropshire villages", "893", "East", 52.5500, -2.5000, 4.0, ("WV15", "WV16"), (8, 0, 0, 0)),
    Town("Shrewsbury", "893", "West", 52.7080, -2.7540, 3.5, ("SY1", "SY2", "SY3"), (22, 6, 3, 2)),
    Town("Pontesbury", "893", "West", 52.6460, -2.9050, 2.0, ("SY5",), (5, 1, 0, 0)),
    Town("West Shropshire villages", "893", "West", 52.7000, -2.8700, 3.0, ("SY5",), (6, 0, 0, 0)),
    Town("Telford", "894", None, 52.6766, -2.4469, 2.5, ("TF2", "TF3", "TF7"), (4, 3, 1, 1)),
    Town("Wellington", "894", None, 52.7010, -2.5170, 1.0, ("TF1",), (2, 1, 0, 0)),
    Town("Newport", "894", None, 52.7690, -2.3780, 0.8, ("TF10",), (1, 1, 0, 0)),
    Town("Stafford", "860", None, 52.8060, -2.1170, 2.0, ("ST16", "ST17"), (2, 2, 1, 0)),
    Town("Penkridge", "860", None, 52.7230, -2.1170, 0.8, ("ST19",), (1, 1, 0, 0)),
    Town("Crewe", "895", None, 53.0990, -2.4400, 2.0, ("CW1", "CW2"), (2, 2, 0, 0)),
    Town("Nantwich", "895", None, 53.0670, -2.5220, 1.0, ("CW5",), (1, 1, 0, 0)),
    Town("Hereford", "884", None, 52.0565, -2.7160, 2.0, ("HR1", "HR2", "HR4"), (2, 2, 0, 0)),
    Town("Leominster", "884", None, 52.2270, -2.7370, 1.0, ("HR6",), (1, 1, 0, 0)),
    Town("Welshpool", "666", None, 52.6600, -3.1470, 1.0, ("SY21",), (2, 1, 0, 0)),
    Town("Newtown", "666", None, 52.5130, -3.3130, 1.2, ("SY16",), (1, 1, 0, 0)),
    Town("Llandrindod Wells", "666", None, 52.2420, -3.3790, 1.0, ("LD1",), (0, 1, 0, 0)),
    Town("Wrexham", "665", None, 53.0460, -2.9930, 1.8, ("LL11", "LL12", "LL13"), (1, 2, 0, 0)),
    Town("Birmingham", "330", None, 52.4800, -1.9030, 3.0, ("B5", "B9", "B10", "B11", "B12"), (1, 1, 1, 0)),
    Town("Wolverhampton", "336", None, 52.5860, -2.1280, 2.0, ("WV1", "WV2", "WV3", "WV4"), (1, 1, 0, 0)),
)

_PLACE_HEADS = (
    "Ash",
    "Brom",
    "Chel",
    "Down",
    "Eaton",
    "Ford",
    "Hadn",
    "Kin",
    "Lang",
    "Mor",
    "Pres",
    "Ruy",
    "Stan",
    "Whit",
    "Wor",
    "Yock",
    "Ack",
    "Bish",
    "Clee",
    "Hope",
    "Lid",
    "Nor",
    "Pen",
    "Roden",
    "Stoke",
    "Tib",
    "Upp",
    "Wes",
    "Acton",
    "Bar",
    "Cres",
    "Dor",
    "Edge",
)
_PLACE_TAILS = (
    "ley",
    "ton",
    "bury",
    "field",
    "wardine",
    "hall",
    "more",
    "well",
    "stone",
    "brook",
    "wick",
    "cote",
    "hope",
    "over",
    "ford",
    "ridge",
    "wood",
    "hurst",
    "combe",
    "dale",
)
_WELSH_HEADS = ("Llan", "Aber", "Pen", "Cefn", "Bryn", "Tre", "Pont", "Maes", "Glan", "Caer")
_WELSH_TAILS = ("fair", "gadfan", "rhaeadr", "ddu", "wern", "faes", "coed", "gwyn", "dre", "hafren")
_SAINTS = (
    "Mary",
    "John",
    "Peter",
    "Michael",
    "Andrew",
    "George",
    "Lawrence",
    "Chad",
    "Oswald",
    "Leonard",
    "Laurence",
    "Thomas",
    "Giles",
    "Martin",
    "Luke",
)
_SPECIAL_NAMES = (
    "Brookfield",
    "The Meadows",
    "Hollinsgate",
    "Severn View",
    "Cedars",
    "Oak Tree",
    "Riverside",
    "Willowbank",
    "Kingfisher",
    "Larkspur",
    "Heathfield",
    "The Beeches",
)
_POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

_TO_GRID = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def town_grid(town: Town) -> tuple[float, float]:
    """A town centre in British National Grid metres."""
    easting, northing = _TO_GRID.transform(town.lon, town.lat)
    return float(easting), float(northing)


def _place_name(rng: np.random.Generator, welsh: bool) -> str:
    """An invented, plausible village or district name."""
    heads, tails = (_WELSH_HEADS, _WELSH_TAILS) if welsh else (_PLACE_HEADS, _PLACE_TAILS)
    return str(rng.choice(heads)) + str(rng.choice(tails))


def _school_name(rng: np.random.Generator, town: Town, phase: str, used: set[str]) -> str:
    """An invented school name in the style of its phase and country."""
    welsh = town.la in WELSH_LAS
    base = town.name.replace(" villages", "").split(" ")[0] if " villages" not in town.name else None
    for _ in range(50):
        place = _place_name(rng, welsh)
        if phase == "Primary":
            options = (
                [f"Ysgol Gynradd {place}", f"Ysgol {place}", f"{place} C.P. School"]
                if welsh
                else [
                    f"{place} Primary School",
                    f"{place} C of E Primary School",
                    f"{place} Infant School",
                    f"{place} Junior School",
                    f"St {rng.choice(_SAINTS)}'s Catholic Primary School",
                    f"{place} Primary Academy",
                    f"{place} C of E (VC) Primary School",
                ]
            )
        elif phase == "Secondary":
            town_word = base or place
            options = (
                [f"Ysgol Uwchradd {town_word}", f"{town_word} High School", f"Ysgol {place}"]
                if welsh
                else [
                    f"{town_word} Academy",
                    f"The {place} School",
                    f"{place} High School",
                    f"{town_word} {rng.choice(('Community', 'Church of England', 'Thomas'))} College",
                    f"St {rng.choice(_SAINTS)}'s Catholic High School",
                ]
            )
        elif phase == "Special":
            options = [f"{rng.choice(_SPECIAL_NAMES)} School", f"{place} Specialist Academy", f"{place} School"]
        else:
            options = [
                f"{base or place} Tuition Service",
                f"The {place} Centre",
                f"{base or place} Pupil Referral Unit",
            ]
        name = str(rng.choice(options))
        if name not in used:
            used.add(name)
            return name
    name = f"{name} {len(used)}"
    used.add(name)
    return name


def _establishment_type(rng: np.random.Generator, la: str, phase: str) -> str:
    """A GIAS TypeOfEstablishment value for the school."""
    if la in WELSH_LAS:
        return "Welsh establishment"
    if phase == "Special":
        return str(rng.choice(["Community special school", "Academy special converter"]))
    if phase == "Alternative provision":
        return str(rng.choice(["Pupil referral unit", "Academy alternative provision converter"]))
    return str(
        rng.choice(
            [
                "Community school",
                "Voluntary controlled school",
                "Voluntary aided school",
                "Academy converter",
                "Academy sponsor led",
            ],
            p=[0.3, 0.15, 0.1, 0.3, 0.15],
        )
    )


def _postcode(rng: np.random.Generator, districts: tuple[str, ...]) -> str:
    """A postcode in one of the town's districts, e.g. SY3 8HQ."""
    letters = rng.choice(list(_POSTCODE_UNIT_LETTERS), 2)
    return f"{rng.choice(districts)} {rng.integers(1, 10)}{letters[0]}{letters[1]}"


def _establishment_numbers(rng: np.random.Generator, phase: str, n: int) -> np.ndarray:
    """DfE establishment numbers by phase: primaries 2xxx, secondaries 4xxx, special 7xxx, PRU 11xx."""
    low, high = {
        "Primary": (2000, 3999),
        "Secondary": (4000, 5499),
        "Special": (7000, 7099),
        "Alternative provision": (1100, 1199),
    }[phase]
    return rng.choice(np.arange(low, high), n, replace=False)


def build_schools(rng: np.random.Generator, localities: tuple[str, ...], home_la: str = HOME_LA) -> pl.DataFrame:
    """The schools extract: one row per school with URN, LA, phase, postcode and grid reference."""
    default_names = ("North", "South", "East", "West")
    rename = dict(zip(default_names, localities, strict=True)) if len(localities) == 4 else {}
    rows: list[dict] = []
    used_names: set[str] = set()
    english_urns = iter(rng.choice(np.arange(123000, 150000), 400, replace=False).tolist())
    welsh_urns = iter(rng.choice(np.arange(401000, 402000), 40, replace=False).tolist())  # GIAS Welsh URNs
    for town in TOWNS:
        east0, north0 = town_grid(town)
        for phase, count in zip(PHASES, town.counts, strict=True):
            estabs = _establishment_numbers(rng, phase, count)
            for k in range(count):
                r = town.radius_km * 1000 * np.sqrt(rng.random())
                theta = rng.random() * 2 * np.pi
                urn = next(welsh_urns) if town.la in WELSH_LAS else next(english_urns)
                rows.append(
                    {
                        "URN": urn,
                        "EstablishmentName": _school_name(rng, town, phase, used_names),
                        "LA (code)": home_la if town.la == HOME_LA else town.la,
                        "LA (name)": AUTHORITIES[town.la],
                        "TypeOfEstablishment (name)": _establishment_type(rng, town.la, phase),
                        "PhaseOfEducation (name)": phase,
                        "Postcode": _postcode(rng, town.districts),
                        "Easting": round(float(east0 + r * np.cos(theta))),
                        "Northing": round(float(north0 + r * np.sin(theta))),
                        "Locality": rename.get(town.locality, town.locality) if town.locality else None,
                        "Town": town.name,
                        "EstablishmentNumber": f"{int(estabs[k]):04d}",
                    }
                )
    return pl.DataFrame(rows).sort("URN")
