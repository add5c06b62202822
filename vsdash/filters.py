"""The filter bar as a value: from URL query parameters to a polars selection and a sentence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TypedDict, Unpack

import polars as pl

AREAS = ("all", "in", "out")
AREA_WORDS = {"in": "in-area schools", "out": "out-of-area schools"}

# Filter fields that select children by a column of the per-child frame, with their words.
COLUMN_FILTERS: dict[str, tuple[str, str]] = {
    "locality": ("locality", "locality"),
    "team": ("team", "team"),
    "social_worker": ("social_worker", "social worker"),
    "year_group": ("year_group", "year group"),
    "school_la": ("school_la", "school LA"),
}


class FilterError(ValueError):
    """A selection that cannot be a filter (for example a window that starts after its as-at date)."""


class FilterChanges(TypedDict, total=False):
    """Fields of `Filters` that `Filters.with_changes` may change: all of them, with their types."""

    as_of: date
    start: date | None
    cohort: str | None
    school_urn: int | None
    area: str
    school_la: str | None
    locality: str | None
    team: str | None
    social_worker: str | None
    year_group: str | None
    ehcp: bool | None


@dataclass(frozen=True)
class Filters:
    """One view's selection; small and hashable, so it can key caches and travel in the URL."""

    as_of: date
    start: date | None = None  # None: the academic year's start
    cohort: str | None = None
    school_urn: int | None = None
    area: str = "all"  # all | in | out (of the authority)
    school_la: str | None = None
    locality: str | None = None
    team: str | None = None
    social_worker: str | None = None
    year_group: str | None = None
    ehcp: bool | None = None

    def __post_init__(self) -> None:
        if self.area not in AREAS:
            raise FilterError(f"area must be one of {', '.join(AREAS)}, not {self.area!r}")
        if self.start and self.start > self.as_of:
            raise FilterError(f"The From date {self.start:%d/%m/%Y} is after the as-at date {self.as_of:%d/%m/%Y}")

    def expression(self) -> pl.Expr:
        """The polars condition on a per-child frame (its `cohorts` are those held as at the as-at date)."""
        # "All children" are the children in at least one cohort as at the as-at date: a child whose first
        # episode starts later, or whose Ever 6 has run out, is not the virtual school's on that date.
        condition = pl.col("cohorts").list.contains(self.cohort) if self.cohort else pl.col("cohorts").list.len() > 0
        for name, (column, _) in COLUMN_FILTERS.items():
            value = getattr(self, name)
            if value is not None:
                condition &= pl.col(column) == value
        if self.school_urn is not None:
            condition &= pl.col("school_urn") == self.school_urn
        if self.ehcp is not None:
            condition &= pl.col("ehcp").fill_null(False) == self.ehcp
        if self.area == "out":
            condition &= pl.col("out_of_area").fill_null(False)
        elif self.area == "in":
            condition &= ~pl.col("out_of_area").fill_null(True)
        return condition

    def describe(
        self, school_names: Mapping[int, str] | None = None, cohort_labels: Mapping[str, str] | None = None
    ) -> str:
        """The selection in words, for page titles and export headers."""
        parts = (
            [f"cohort {cohort_labels.get(self.cohort, self.cohort) if cohort_labels else self.cohort}"]
            if self.cohort
            else []
        )
        if self.school_urn is not None:
            name = (school_names or {}).get(self.school_urn)
            parts.append(f"school {name} ({self.school_urn})" if name else f"school {self.school_urn}")
        if self.area != "all":
            parts.append(AREA_WORDS[self.area])
        for name, (_, words) in COLUMN_FILTERS.items():
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{words} {value}")
        if self.ehcp is not None:
            parts.append("with an EHCP" if self.ehcp else "without an EHCP")
        who = "all children" if not parts else "children where " + " and ".join(parts)
        window = f"from {self.start:%d/%m/%Y} " if self.start else ""
        return f"{who}, {window}as at {self.as_of:%d/%m/%Y}"

    def with_changes(self, **changes: Unpack[FilterChanges]) -> Filters:
        """A copy with some fields changed (e.g. the same view a month earlier)."""
        return replace(self, **changes)
