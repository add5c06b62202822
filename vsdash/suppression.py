"""Small-number suppression for forum output, pure polars and Python (domain: disclosure control).

Tables published together (a school per row, their subtotals by locality or phase, the authority's total)
are checked as one: a count from 1 to threshold - 1 is withheld (primary suppression); then, while any sum
the tables publish (a column's total, a locality's schools adding up to the locality, a row's parts adding
up to its total) has exactly one withheld cell, the smallest other non-zero cell of that sum is withheld too
(secondary suppression), so no withheld cell can be worked out by subtraction, "the rest of the authority"
included. A group made of one school is withheld whole, as the DfE's attendance dashboard does for an LA
with a single school. A rate or a measure built on a withheld count is withheld with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

# DfE statistics symbols (domain: disclosure control): `c` confidential, `z` not applicable, `x` not available.
CONFIDENTIAL = "c"
NOT_APPLICABLE = "z"
NOT_AVAILABLE = "x"
DEFAULT_THRESHOLD = 5

Cell = tuple[int, str]  # (row number among every published row, column)


@dataclass(frozen=True)
class Spec:
    """Which columns of a table are counts, and what each rate or measure is built on."""

    counts: tuple[str, ...]  # counts of children or events: primary suppression, and the sums published
    # A rate or a measure (sessions lost) -> the counts it is built on (numerator and denominator).
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Within each row, a total column and the part columns that add up to it.
    row_totals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The column counting the units (schools) behind a subtotal: a group of one unit is withheld whole.
    unit: str | None = None
    # Where a withheld rate's own figure is null because nothing was possible, `z`; this names, per rate,
    # the count whose zero makes it not applicable (attendance % with no children with data).
    not_applicable_when_zero: Mapping[str, str] = field(default_factory=dict)


def is_small(value: int | None, threshold: int) -> bool:
    """A count the DfE's rule withholds: 1 to threshold - 1 (0 is a true zero and is shown)."""
    return value is not None and 0 < value < threshold


def protect(values: Mapping[Cell, int], withheld: set[Cell], sums: Sequence[Sequence[Cell]]) -> set[Cell]:
    """Withhold more cells until no published sum has exactly one withheld cell (which it would give away).

    `sums` are groups of cells that add up (parts and their total, in any order). The cell added is the
    smallest non-zero one left in the sum: withholding a zero beside the one cell would not hide it.
    """
    hidden = set(withheld)
    changed = True
    while changed:
        changed = False
        for cells in sums:
            if sum(cell in hidden for cell in cells) != 1:
                continue
            shown = [cell for cell in cells if cell not in hidden]
            candidates = [cell for cell in shown if values[cell] != 0] or shown
            if candidates:
                hidden.add(min(candidates, key=lambda cell: (values[cell], cell)))
                changed = True
    return hidden


@dataclass(frozen=True)
class Published:
    """Tables after suppression: each frame with a same-shaped frame of booleans saying what is withheld."""

    detail: pl.DataFrame
    detail_withheld: pl.DataFrame
    margins: dict[str, pl.DataFrame]
    margins_withheld: dict[str, pl.DataFrame]
    total: pl.DataFrame
    total_withheld: pl.DataFrame


def suppress(
    detail: pl.DataFrame,
    spec: Spec,
    threshold: int = DEFAULT_THRESHOLD,
    margins: Mapping[str, pl.DataFrame] | None = None,
    total: pl.DataFrame | None = None,
) -> Published:
    """Primary and secondary suppression of `detail` (rows that partition the whole), its subtotals by each
    margin column (`margins[column]`: one row per value of `detail[column]`) and its one-row `total` (the
    column sums of `detail` when not given)."""
    margins = dict(margins or {})
    total = total if total is not None else detail.select(pl.col(spec.counts).sum())
    tables = [("detail", detail), *((name, frame) for name, frame in margins.items()), ("total", total)]
    offsets, start = {}, 0
    for name, frame in tables:
        offsets[name] = start
        start += frame.height
    values: dict[Cell, int] = {}
    for name, frame in tables:
        for column in spec.counts:
            for i, value in enumerate(frame[column].to_list()):
                values[(offsets[name] + i, column)] = int(value or 0)
    hidden = {cell for cell, value in values.items() if is_small(value, threshold)}
    hidden |= _single_units(tables, offsets, spec)
    hidden = protect(values, hidden, _sums(detail, margins, total, offsets, spec))
    masks = {name: _mask(frame, offsets[name], hidden, spec) for name, frame in tables}
    return Published(
        detail=detail,
        detail_withheld=masks["detail"],
        margins=margins,
        margins_withheld={name: masks[name] for name in margins},
        total=total,
        total_withheld=masks["total"],
    )


def _single_units(tables: list[tuple[str, pl.DataFrame]], offsets: dict[str, int], spec: Spec) -> set[Cell]:
    """Every count of a subtotal (or the total) made of one unit: its figures are that one school's."""
    if spec.unit is None:
        return set()
    out: set[Cell] = set()
    for name, frame in tables:
        if name == "detail" or spec.unit not in frame.columns:
            continue
        for i, units in enumerate(frame[spec.unit].to_list()):
            if units == 1:
                out |= {(offsets[name] + i, column) for column in spec.counts}
    return out


def _sums(
    detail: pl.DataFrame, margins: Mapping[str, pl.DataFrame], total: pl.DataFrame, offsets: dict[str, int], spec: Spec
) -> list[list[Cell]]:
    """Every sum the tables publish, as groups of cells: each column's detail rows and the total; each
    margin's groups with their detail rows, and the margin's groups with the total; each row's parts with
    the row's total column."""
    last = offsets["total"]
    rows_of: dict[str, dict[object, list[int]]] = {}
    for column in margins:
        groups: dict[object, list[int]] = {}
        for i, value in enumerate(detail[column].to_list()):
            groups.setdefault(value, []).append(i)
        rows_of[column] = groups
    sums: list[list[Cell]] = []
    # The narrowest sums first (a locality's schools), so a second cell is chosen where it protects most.
    for count in spec.counts:
        for column, frame in margins.items():
            base = offsets[column]
            for j, value in enumerate(frame[column].to_list()):
                sums.append([*((i, count) for i in rows_of[column].get(value, [])), (base + j, count)])
            sums.append([*((base + j, count) for j in range(frame.height)), (last, count)])
        sums.append([*((i, count) for i in range(detail.height)), (last, count)])
    heights = {offsets[name]: frame.height for name, frame in [("detail", detail), *margins.items(), ("total", total)]}
    for row_total, parts in spec.row_totals.items():
        for base, height in heights.items():
            sums.extend([(base + i, row_total), *((base + i, part) for part in parts)] for i in range(height))
    return sums


def _mask(frame: pl.DataFrame, offset: int, hidden: set[Cell], spec: Spec) -> pl.DataFrame:
    """Booleans beside a frame's counts and derived columns: true where the figure is withheld."""
    columns: dict[str, list[bool]] = {}
    for column in spec.counts:
        if column in frame.columns:
            columns[column] = [(offset + i, column) in hidden for i in range(frame.height)]
    for column, basis in spec.derived.items():
        if column in frame.columns:
            columns[column] = [any((offset + i, b) in hidden for b in basis) for i in range(frame.height)]
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.Boolean))


def withheld_as_null(frame: pl.DataFrame, withheld: pl.DataFrame) -> pl.DataFrame:
    """The frame with every withheld figure null: what may be sorted or charted without giving one away."""
    return frame.with_columns(
        pl.when(withheld[column]).then(None).otherwise(pl.col(column)).alias(column) for column in withheld.columns
    )


def as_text(frame: pl.DataFrame, withheld: pl.DataFrame, spec: Spec, decimals: int = 1) -> pl.DataFrame:
    """Figures as the DfE publishes them: withheld ones `c`, a rate with nothing to divide by `z`, a figure
    not received `x`, whole counts whole and other figures to `decimals`; other columns as they are."""
    flags = withheld.select(pl.all().name.prefix("_withheld_"))
    out = []
    for column in withheld.columns:
        value = pl.col(column)
        whole = column in spec.counts and not frame.schema[column].is_float()
        number = value.cast(pl.Int64).cast(pl.String) if whole else value.round(decimals).cast(pl.String)
        zero_basis = spec.not_applicable_when_zero.get(column)
        missing = (
            pl.when(pl.col(zero_basis).fill_null(0) == 0).then(pl.lit(NOT_APPLICABLE)).otherwise(pl.lit(NOT_AVAILABLE))
            if zero_basis is not None and zero_basis in frame.columns
            else pl.lit(NOT_AVAILABLE)
        )
        shown = pl.when(pl.col(f"_withheld_{column}")).then(pl.lit(CONFIDENTIAL)).when(value.is_null()).then(missing)
        out.append(shown.otherwise(number).alias(column))
    return frame.hstack(flags).with_columns(out).drop(flags.columns)


def suppress_partitions(
    parts: Mapping[str, pl.DataFrame], total: pl.DataFrame, spec: Spec, threshold: int = DEFAULT_THRESHOLD
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Primary and secondary suppression of tables that each split the same whole in a different way (the
    Overview's localities and its social-care teams, both adding up to the authority's cards), checked as one:
    no table's figures with the total give away another's withheld cell. Returns each table's mask and the
    total's (`suppress` is for one split and its subtotals)."""
    sums = [[*((name, i) for i in range(frame.height)), ("_total", 0)] for name, frame in parts.items()]
    masks = suppress_linked({**parts, "_total": total}, sums, spec, threshold)
    total_mask = masks.pop("_total")
    return masks, total_mask


Row = tuple[str, int]  # (table name, row number in that table)


def suppress_linked(
    tables: Mapping[str, pl.DataFrame],
    sums: Sequence[Sequence[Row]],
    spec: Spec,
    threshold: int = DEFAULT_THRESHOLD,
) -> dict[str, pl.DataFrame]:
    """Primary and secondary suppression of tables published together whose rows are tied in ways of their own
    (a table by cohort and area beside the table by area and its splits by LA and distance), checked as one.
    Each of `sums` is rows whose counts add up, count by count (parts and their total, in any order); two rows
    holding the same children are a sum of two (either gives the other away). Returns each table's mask."""
    offsets, start = {}, 0
    for name, frame in tables.items():
        offsets[name] = start
        start += frame.height
    values: dict[Cell, int] = {
        (offsets[name] + i, column): int(value or 0)
        for name, frame in tables.items()
        for column in spec.counts
        for i, value in enumerate(frame[column].to_list())
    }
    hidden = {cell for cell, value in values.items() if is_small(value, threshold)}
    cells = [[(offsets[name] + i, count) for name, i in rows] for count in spec.counts for rows in sums]
    hidden = protect(values, hidden, cells)
    return {name: _mask(frame, offsets[name], hidden, spec) for name, frame in tables.items()}
