"""Identity conflicts in the social-care list: one UPN given to two children, or a child whose UPN, name or
date of birth changes between loads.

Either means one child's marks may be credited to another, so the rows still load (the list is the
authority's record) but each conflict is flagged on the data-quality page and in the ingest summary for a
person to check.
"""

from __future__ import annotations

import polars as pl

from vsdash.feeds import REJECT_SCHEMA

FLAGGED = "flagged"  # the row loaded, and a person should check it
IDENTITY = ["la_child_id", "upn", "first_name", "last_name", "dob"]
CONFLICT = "identity conflict"  # the words every reason below starts with, so the pages can group them


def conflicts(incoming: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """The flagged rows for a children list (`incoming`: its children with `_line`) against the children
    the store holds (`stored`), one row per conflict with the line and column it is about."""
    parts = [_shared_upns(incoming), *_changes(incoming, stored), _upn_held_elsewhere(incoming, stored)]
    found = [p for p in parts if p.height]
    return pl.concat(found).sort("line", "column") if found else pl.DataFrame(schema=REJECT_SCHEMA)


def _flag(frame: pl.DataFrame, column: str, reason: pl.Expr) -> pl.DataFrame:
    """Conflict rows in the shape of the rejects, for the rows of `frame`."""
    return frame.select(
        pl.col("_line").cast(pl.Int64).alias("line"),
        pl.lit(column).alias("column"),
        pl.concat_str(pl.lit(f"{CONFLICT}: "), reason).alias("reason"),
        pl.lit(None, dtype=pl.String).alias("raw"),
        pl.lit(FLAGGED).alias("outcome"),
    )


def _shared_upns(incoming: pl.DataFrame) -> pl.DataFrame:
    """One UPN on two children of the same list: every row after the first is flagged."""
    rows = incoming.filter(pl.col("upn").is_not_null()).sort("_line")
    first = rows.group_by("upn").agg(first_id=pl.col("la_child_id").first(), first_line=pl.col("_line").first())
    clash = rows.join(first, on="upn").filter(pl.col("la_child_id") != pl.col("first_id"))
    return _flag(
        clash,
        "upn",
        pl.format(
            "UPN {} is also given to LA Child ID {} (line {}); one child's attendance would count for both: "
            "correct the UPN on one of the records",
            pl.col("upn"),
            pl.col("first_id"),
            pl.col("first_line"),
        ),
    )


def _name(prefix: str = "") -> pl.Expr:
    """First and last name as one phrase, for a reason text."""
    return pl.concat_str(
        pl.col(f"{prefix}first_name").fill_null(""), pl.lit(" "), pl.col(f"{prefix}last_name").fill_null("")
    ).str.strip_chars()


def _changes(incoming: pl.DataFrame, stored: pl.DataFrame) -> list[pl.DataFrame]:
    """A child already stored whose UPN, name or date of birth the new list gives differently."""
    both = incoming.join(
        stored.select(IDENTITY).rename({c: f"was_{c}" for c in IDENTITY[1:]}), on="la_child_id", how="inner"
    )

    def differs(column: str) -> pl.Expr:
        now, was = pl.col(column), pl.col(f"was_{column}")
        if both.schema[column] == pl.String:
            now, was = now.str.to_lowercase(), was.str.to_lowercase()
        return now.is_not_null() & was.is_not_null() & (now != was)

    upn = both.filter(differs("upn"))
    name = both.filter(differs("first_name") | differs("last_name"))
    dob = both.filter(differs("dob"))
    return [
        _flag(
            upn,
            "upn",
            pl.format(
                "LA Child ID {}'s UPN changes from {} to {}: check it is the same child",
                pl.col("la_child_id"),
                pl.col("was_upn"),
                pl.col("upn"),
            ),
        ),
        _flag(
            name,
            "first_name",
            pl.format(
                "LA Child ID {}'s name changes from '{}' to '{}': check it is the same child",
                pl.col("la_child_id"),
                _name("was_"),
                _name(),
            ),
        ),
        _flag(
            dob,
            "dob",
            pl.format(
                "LA Child ID {}'s date of birth changes from {} to {}: check it is the same child",
                pl.col("la_child_id"),
                pl.col("was_dob").dt.strftime("%d/%m/%Y"),
                pl.col("dob").dt.strftime("%d/%m/%Y"),
            ),
        ),
    ]


def _upn_held_elsewhere(incoming: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """A UPN the store already holds for another child, who does not move off it in this list."""
    moved_off = incoming.select("la_child_id")
    holders = (
        stored.filter(pl.col("upn").is_not_null())
        .join(moved_off, on="la_child_id", how="anti")
        .select("upn", pl.col("la_child_id").alias("holder"))
    )
    clash = incoming.join(holders, on="upn").filter(pl.col("la_child_id") != pl.col("holder"))
    return _flag(
        clash,
        "upn",
        pl.format(
            "UPN {} is already held by LA Child ID {}; one child's attendance would count for both: correct the UPN "
            "on one of the records",
            pl.col("upn"),
            pl.col("holder"),
        ),
    )
