"""Running totals per child and week of the summary, worked out once per data version: a window's sums
are the difference of two of them per child, and its weekly grid a slice, so a new window adds up nothing
again but the weeks it cuts (see the README's Speed section; issue 17, part 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from vsdash import sessions
from vsdash import weeks as weeks_mod

_DAY = timedelta(days=1)
_NONE = 0  # a running latest school or mark day before the child's first one (dates are after 1970)


def _packed() -> pl.Expr:
    """A summary row's four session counters in one integer (`sessions.pack`)."""
    return sessions.pack(sessions.columns())


def _latest() -> dict[str, pl.Expr]:
    """A summary row's school (`weeks.school_key`) and its latest day with a code, 0 for none."""
    return {
        "_school": weeks_mod.school_key("school_date", "school_urn").fill_null(_NONE),
        "_mark": weeks_mod.last_mark_date().cast(pl.Int64).fill_null(_NONE),
    }


@dataclass(frozen=True)
class Totals:
    """Per child (sorted UPN) and summary week (sorted Monday), to the end of that week: the sessions of
    each category so far, packed (`sessions.pack`), the latest school, and the latest day with a code.
    Column 0 of each grid is before the first week; column i + 1 is the end of week i."""

    upns: pl.Series
    weeks: pl.Series
    sessions: np.ndarray  # (children, weeks + 1) int64
    school: np.ndarray  # (children, weeks + 1) int64, `weeks.school_key` (0: none yet)
    mark: np.ndarray  # (children, weeks + 1) int64, days since 1970 (0: none yet)

    @classmethod
    def of(cls, summary: pl.DataFrame) -> Totals:
        """The running totals of a week summary (`weeks.of`), every child's weeks as one row of a grid."""
        upns = summary["upn"].unique().sort()
        weeks = summary["week_start"].unique().sort()
        width = len(weeks) + 1
        child = summary["upn"].cast(pl.Enum(upns)).to_physical().cast(pl.Int64)  # each row's place among the UPNs
        cells = summary.select(
            _cell=child * width + weeks.search_sorted(summary["week_start"]).cast(pl.Int64) + 1,
            _sessions=_packed(),
            **_latest(),
        )

        def grid(column: str) -> np.ndarray:
            out = np.zeros(len(upns) * width, dtype=np.int64)
            out[cells["_cell"].to_numpy()] = cells[column].to_numpy()
            return out.reshape(len(upns), width)

        return cls(
            upns=upns,
            weeks=weeks,
            sessions=np.cumsum(grid("_sessions"), axis=1),
            school=np.maximum.accumulate(grid("_school"), axis=1),
            mark=np.maximum.accumulate(grid("_mark"), axis=1),
        )

    def _upto(self, day: date) -> int:
        """The grid column at the end of the last week starting on or before `day` (0: none)."""
        return int(self.weeks.search_sorted(day, "right"))

    def _upto_each(self, days: pl.Series) -> np.ndarray:
        """`_upto` of each of several days."""
        return self.weeks.search_sorted(days, "right").to_numpy()

    def _whole(self, parts: weeks_mod.WindowWeeks) -> np.ndarray:
        """Every child's sessions in the weeks a window holds whole."""
        if parts.first > parts.last:
            return np.zeros(len(self.upns), dtype=np.int64)
        return self.sessions[:, self._upto(parts.last)] - self.sessions[:, self._upto(parts.first - _DAY)]

    def window(self, parts: weeks_mod.WindowWeeks) -> pl.DataFrame:
        """Per UPN: a window's sessions, last mark and school as at its as-at date (what `metrics.per_child`
        joins), from two columns of the totals and the rows of the weeks the window cuts."""
        last = self._upto(parts.last)  # every week up to the last held whole: the school and mark so far
        kept = pl.LazyFrame(
            {
                "upn": self.upns,
                "_sessions": self._whole(parts),
                "_school": self.school[:, last],
                "_mark": self.mark[:, last],
            }
        )
        if parts.redone is not None:
            cut = parts.redone.lazy().select("upn", _sessions=_packed(), **_latest())
            kept = (
                pl.concat([kept, cut]).group_by("upn").agg(pl.col("_sessions").sum(), pl.col("_school", "_mark").max())
            )
        return kept.select(
            "upn",
            *sessions.unpack_sessions("_sessions"),
            last_mark_date=pl.when(pl.col("_mark") != _NONE).then(pl.col("_mark")).cast(pl.Int32).cast(pl.Date),
            # Domain: the current school is the latest mark that is not D (dual registered elsewhere).
            school_urn=pl.when(pl.col("_school") != _NONE).then(pl.col("_school") % (1 << 32)),
        ).collect()

    def weekly(self, parts: weeks_mod.WindowWeeks, weeks: pl.Series, upns: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """Per UPN given (rows) and school week of a window (columns, sorted Mondays): the week's sessions,
        and the window's to the week's end, packed (`sessions.pack`)."""
        ends, begins = self._upto_each(weeks), self._upto_each(weeks - _DAY)  # each week's end, and the one before's
        if upns.equals(self.upns):  # every child with a summary row, in order: no rows to pick out
            values = self.sessions[:, ends] - self.sessions[:, begins]
        else:
            rows = upns.to_frame().join(self.upns.to_frame().with_row_index("_row"), on="upn", how="left")["_row"]
            known = rows.is_not_null().to_numpy()
            values = np.zeros((len(upns), len(weeks)), dtype=np.int64)  # no summary row: nothing sent yet
            picked = rows.drop_nulls().to_numpy()
            values[known] = self.sessions[np.ix_(picked, ends)] - self.sessions[np.ix_(picked, begins)]
        values[:, ~weeks.is_between(parts.first, parts.last).to_numpy()] = 0  # the cut weeks, from their rows:
        if parts.redone is not None:
            cut = (
                parts.redone.lazy()
                .group_by("upn", "week_start")
                .agg(_packed().sum().alias("_packed"))
                .join(upns.to_frame().with_row_index("_child").lazy(), on="upn")
                .join(weeks.to_frame().with_row_index("_week").lazy(), on="week_start")
                .collect()
            )
            values[cut["_child"].to_numpy(), cut["_week"].to_numpy()] = cut["_packed"].to_numpy()
        return values, np.cumsum(values, axis=1)


@dataclass(frozen=True)
class ChildWeeks:
    """Per child and school week of a window, child by child (cell i * len(weeks) + j is upns[i] in weeks[j]):
    the week's sessions of each category, and whether the child has data and is persistently absent from the window
    start to the week's end (`metrics.child_weeks`)."""

    upns: pl.Series
    weeks: pl.Series
    cells: pl.DataFrame

    def frame(self) -> pl.DataFrame:
        """The cells as rows with their UPN and week (for reading one by one; the sums use `cells`)."""
        width = max(len(self.weeks), 1)
        index = pl.int_range(pl.len(), dtype=pl.Int64)
        return self.cells.select(
            pl.lit(self.upns).gather(index // width).alias("upn"),
            pl.lit(self.weeks).gather(index % width).alias("week_start"),
            pl.all(),
        )
