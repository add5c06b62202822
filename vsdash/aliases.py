"""Confirmed matches: a UPN a school sends that a person has confirmed belongs to a listed child.

Feeds stay as sent (ingest re-keys nothing); the link is applied when the store hands out frames, in one
place, `with_aliases`, so every later load and every figure follows it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TypedDict

import polars as pl

from vsdash import weeks as weeks_mod
from vsdash.config import Config
from vsdash.frames import DayReader, Frames
from vsdash.identifiers import upn_problem


class Confirmation(TypedDict):
    """A confirmed match as `Store.save_alias` takes it (as keywords)."""

    alias_upn: str
    upn: str | None
    la_child_id: str
    confirmed_by: str


def confirmation(alias_upn: str, la_child_id: str, confirmed_by: str, upn: str | None = None) -> Confirmation:
    """A confirmed match as the store keeps it, checked: `alias_upn` (as a school sends it) is the listed
    child `la_child_id`, whose UPN on the list is `upn`."""
    alias_upn = alias_upn.strip().upper()
    if problem := upn_problem(alias_upn):
        raise ValueError(problem)
    if not confirmed_by.strip():
        raise ValueError("say who confirmed the match")
    if not la_child_id.strip():
        raise ValueError("a confirmed match needs the child's LA Child ID")
    return {
        "alias_upn": alias_upn,
        "upn": (upn or "").strip().upper() or None,
        "la_child_id": la_child_id.strip(),
        "confirmed_by": confirmed_by.strip(),
    }


def links(aliases: pl.DataFrame, children: pl.DataFrame) -> pl.DataFrame:
    """alias_upn -> canonical upn: the child's UPN on the current list, else the one held when confirmed.

    Resolving through LA Child ID means a list later corrected to the school's UPN needs no re-confirmation.
    """
    listed = children.select("la_child_id", pl.col("upn").alias("list_upn"))
    return aliases.join(listed, on="la_child_id", how="left").select(
        "alias_upn", "la_child_id", pl.coalesce("list_upn", "upn").alias("canonical")
    )


def _rekey(frame: pl.DataFrame, mapping: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Rows under an alias UPN move to the canonical UPN; where both were sent for the same key, the
    canonical row wins."""
    moved = (
        frame.join(mapping, left_on="upn", right_on="alias_upn", how="left")
        .with_columns(pl.col("canonical").is_not_null().alias("_alias"), pl.coalesce("canonical", "upn").alias("upn"))
        .drop("canonical")
    )
    if not moved["_alias"].any():
        return frame
    return (
        moved.sort("_alias")
        .unique(key, keep="first", maintain_order=True)
        .drop("_alias")
        .sort("upn", *[k for k in key if k != "upn"])
        .select(frame.columns)
    )


def with_aliases(frames: Frames, aliases: pl.DataFrame, cfg: Config) -> Frames:
    """The frames with confirmed matches applied: alias UPNs become the child's UPN in marks, the week
    summary and suspensions.

    A listed child with no UPN takes the confirmed one, so their marks join without re-keying anything.
    """
    if aliases.is_empty():
        return frames
    resolved = links(aliases, frames.children)
    mapping = resolved.filter(pl.col("canonical").is_not_null() & (pl.col("canonical") != pl.col("alias_upn")))
    fill = (
        resolved.filter(pl.col("canonical").is_null())
        .unique("la_child_id", keep="first")
        .select("la_child_id", pl.col("alias_upn").alias("_fill"))
    )
    children = (
        frames.children.join(fill, on="la_child_id", how="left")
        .with_columns(pl.coalesce("upn", "_fill").alias("upn"))
        .select(frames.children.columns)
    )
    mapping = mapping.select("alias_upn", "canonical")
    marks_key = ["upn", "date", "urn"]
    day_reader = held = frames.day_reader
    if held is not None and not mapping.is_empty():

        def day_reader(
            first: date | None, last: date | None, upns: tuple[str, ...] | None, read: DayReader = held
        ) -> pl.DataFrame:
            """Day rows re-keyed; a child's rows include those sent under their aliases."""
            if upns is None:
                return _rekey(read(first, last, None), mapping, marks_key)
            alias = mapping.filter(pl.col("canonical").is_in(list(upns)))["alias_upn"].to_list()
            return _rekey(read(first, last, (*upns, *alias)), mapping, marks_key)

    out = replace(
        frames,
        children=children,
        marks=_rekey(frames.marks, mapping, marks_key) if frames.marks is not None else None,
        suspensions=_rekey(frames.suspensions, mapping, ["upn", "urn", "start_date", "category"]),
        day_reader=day_reader,
    )
    if frames.weeks is not None and not mapping.is_empty():
        # Rare (a few confirmed matches): the matched children's weeks are worked out again from their day rows.
        matched = mapping["canonical"].unique().to_list()
        redone = weeks_mod.summarise(out.days(upns=matched), cfg)
        kept = frames.weeks.filter(~pl.col("upn").is_in([*matched, *mapping["alias_upn"]]))
        out = replace(out, weeks=pl.concat([kept, redone]))
    return out
