"""What a register code counts as: the session arithmetic every figure shares (DfE definitions).

Every figure that needs possible, attended or absence sessions takes them from here, whatever holds the
counts (a mark row's codes, a week's columns, one day of a week, a packed running total).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import reduce
from operator import add, or_

import polars as pl

from vsdash.config import Config

# DfE: attendance = present + approved educational activity; absence = authorised + unauthorised;
# possible sessions = all four (every other code, and no code, is not a possible session).
ATTENDED = ("present", "approved_activity")
ABSENCE = ("authorised", "unauthorised")
# The four categories that are possible sessions, in the order their counters are packed below.
COUNTED_CATEGORIES = (*ATTENDED, *ABSENCE)
SESSION_COLUMNS = {
    "present": "present_sessions",
    "approved_activity": "aea_sessions",
    "authorised": "authorised_sessions",
    "unauthorised": "unauthorised_sessions",
}
# The session columns every per-child, per-group and per-week figure carries.
SESSION_COUNTS = ("possible_sessions", *SESSION_COLUMNS.values(), "absence_sessions")
COUNTER_BITS = 16  # 65,535 sessions per category per group: far beyond any window
DUAL_REGISTRATION = "D"  # attending the other school of a dual registration: not a possible session here

Parts = Mapping[str, pl.Expr]  # category -> the expression holding its sessions


def columns(template: str = "{}") -> dict[str, pl.Expr]:
    """Category -> its session column, the name put through `template` ("_{}3": that column on day 3)."""
    return {c: pl.col(template.format(SESSION_COLUMNS[c])) for c in COUNTED_CATEGORIES}


def _total(exprs: Iterable[pl.Expr]) -> pl.Expr:
    """The sum of a few expressions, left to right."""
    return reduce(add, exprs)


def possible(parts: Parts) -> pl.Expr:
    """Possible sessions: present + approved educational activity + authorised + unauthorised."""
    return _total(parts[c] for c in COUNTED_CATEGORIES)


def attended(parts: Parts) -> pl.Expr:
    """Sessions that count as attendance: present + approved educational activity."""
    return _total(parts[c] for c in ATTENDED)


def absence(parts: Parts) -> pl.Expr:
    """Absence sessions: authorised + unauthorised."""
    return _total(parts[c] for c in ABSENCE)


# ---- the four counters in one integer ---------------------------------------------------------------


def _unit(category: str) -> int:
    """The value of one session of a category in a packed counter."""
    return 1 << (COUNTER_BITS * COUNTED_CATEGORIES.index(category))


def _session_weights(cfg: Config) -> dict[str, int]:
    """Code -> one counter unit of its category; codes that are not possible sessions weigh nothing."""
    weights = {code: 0 for code in cfg.code_category}
    for category in COUNTED_CATEGORIES:
        for code in cfg.codes_in(category):
            weights[code] = _unit(category)
    return weights


def packed_sessions(cfg: Config) -> pl.Expr:
    """A row's AM and PM sessions as four category counters packed in one integer, so one sum counts all four.

    Codes go through an Enum (cheap) and a lookup by position, which keeps millions of rows interactive
    (see shared performance notes); unknown and null codes count nowhere.
    """
    weights = _session_weights(cfg)
    codes = pl.Enum(list(weights))
    lookup = pl.Series("weight", list(weights.values()), dtype=pl.UInt64)

    def weight(session: str) -> pl.Expr:
        position = pl.col(session).cast(codes, strict=False).to_physical()
        return pl.lit(lookup).gather(position).fill_null(0)

    return (weight("am") + weight("pm")).alias("_packed")


def pack(parts: Parts) -> pl.Expr:
    """Four category counts in one integer, so a running sum over weeks is one cumulative sum."""
    return _total(parts[c].cast(pl.Int64) * _unit(c) for c in COUNTED_CATEGORIES)


def counters(packed: str) -> dict[str, pl.Expr]:
    """Category -> its counter read back out of a packed (summed) column."""
    return {c: (pl.col(packed) // _unit(c) % (1 << COUNTER_BITS)).cast(pl.Int64) for c in COUNTED_CATEGORIES}


def unpack_sessions(packed: str = "_packed") -> list[pl.Expr]:
    """The session columns from a (summed) packed counter: possible, each category, absence."""
    parts = counters(packed)
    return [
        possible(parts).alias("possible_sessions"),
        *(parts[c].alias(SESSION_COLUMNS[c]) for c in COUNTED_CATEGORIES),
        absence(parts).alias("absence_sessions"),
    ]


def session_totals() -> list[pl.Expr]:
    """Possible and absence sessions from the four category columns."""
    parts = columns()
    return [possible(parts).alias("possible_sessions"), absence(parts).alias("absence_sessions")]


# ---- marks ------------------------------------------------------------------------------------------


def has_code() -> pl.Expr:
    """A mark row carries at least one code (a row with both sessions unsent is no mark)."""
    return pl.col("am").is_not_null() | pl.col("pm").is_not_null()


def sent_not_dual(session: str) -> pl.Expr:
    """The session has a code, and it is not D (attending the other school of a dual registration)."""
    return pl.col(session).is_not_null() & (pl.col(session) != DUAL_REGISTRATION)


def dual_registered(*sessions: str) -> pl.Expr:
    """Any of the sessions is coded D (attending the other school of a dual registration)."""
    return reduce(or_, (pl.col(s) == DUAL_REGISTRATION for s in sessions))
