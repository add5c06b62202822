"""What a register code counts as: the session arithmetic every figure shares (DfE definitions)."""

from __future__ import annotations

import polars as pl

from vsdash.config import Config

# The four categories that are possible sessions, in the order their counters are packed below.
COUNTED_CATEGORIES = ("present", "approved_activity", "authorised", "unauthorised")
SESSION_COLUMNS = {
    "present": "present_sessions",
    "approved_activity": "aea_sessions",
    "authorised": "authorised_sessions",
    "unauthorised": "unauthorised_sessions",
}
COUNTER_BITS = 16  # 65,535 sessions per category per group: far beyond any window
DUAL_REGISTRATION = "D"  # attending the other school of a dual registration: not a possible session here


def _session_weights(cfg: Config) -> dict[str, int]:
    """Code -> one counter bit for its category; codes that are not possible sessions weigh nothing."""
    weights = {code: 0 for code in cfg.code_category}
    for slot, category in enumerate(COUNTED_CATEGORIES):
        for code in cfg.codes_in(category):
            weights[code] = 1 << (COUNTER_BITS * slot)
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


def counters(packed: str) -> dict[str, pl.Expr]:
    """Category -> its counter read back out of a packed (summed) column."""
    return {
        category: (pl.col(packed) // (1 << (COUNTER_BITS * slot)) % (1 << COUNTER_BITS)).cast(pl.Int64)
        for slot, category in enumerate(COUNTED_CATEGORIES)
    }


def unpack_sessions(packed: str = "_packed") -> list[pl.Expr]:
    """The session columns from a (summed) packed counter: possible, each category, absence."""
    parts = counters(packed)
    # DfE: possible = present + approved educational activity + authorised + unauthorised.
    possible = sum(parts.values()).alias("possible_sessions")
    absence = (parts["authorised"] + parts["unauthorised"]).alias("absence_sessions")
    return [possible, *(parts[c].alias(SESSION_COLUMNS[c]) for c in COUNTED_CATEGORIES), absence]


def session_totals() -> list[pl.Expr]:
    """Possible and absence sessions from the four category columns."""
    parts = [pl.col(c) for c in SESSION_COLUMNS.values()]
    return [sum(parts).alias("possible_sessions"),
            (pl.col("authorised_sessions") + pl.col("unauthorised_sessions")).alias("absence_sessions")]


def has_code() -> pl.Expr:
    """A mark row carries at least one code (a row with both sessions unsent is no mark)."""
    return pl.col("am").is_not_null() | pl.col("pm").is_not_null()


def sent_not_dual(session: str) -> pl.Expr:
    """The session has a code, and it is not D (attending the other school of a dual registration)."""
    return pl.col(session).is_not_null() & (pl.col(session) != DUAL_REGISTRATION)
