"""Retention: children whose last cohort episode ended before a cut-off leave the store with everything about them.

UK GDPR Article 5(1)(e) (storage limitation): personal data is kept no longer than its purpose needs. The
dashboard's longest look back is Ever 6 (a child counts for six years after their last social-care episode,
DfE pupil premium guidance), so a child whose every episode ended before the cut-off has no figure left to
appear in, and their rows go: marks, suspensions, allocation, episodes, the child, officers' actions,
whether their social worker was told of a suspension, confirmed matches and the rejected rows that carry their UPN or LA child ID. The audit log stays
(append-only by design: it is the record of who saw what, kept under its own schedule).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import Column, Table, delete, func, select
from sqlalchemy.engine import Connection, Engine

from vsdash.store.accounts import append_audit
from vsdash.store.rows import now
from vsdash.store.schema import (
    actions,
    actions_done,
    allocations,
    attendance,
    attendance_sent,
    attendance_weeks,
    children,
    cohort_episodes,
    load_log,
    rejected_rows,
    suspension_notices,
    suspensions,
    upn_aliases,
)
from vsdash.store.sent import count_days_again

CHUNK = 500  # values per IN list: well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535
RETENTION_EVENT = "retention"  # the audit log's event for a removal (vsdash.auth.RETENTION)
RETENTION_KIND = "retention"  # the load-log kind of a removal: it bumps the data version, so caches refresh
# Feeds whose rows carry an LA Child ID column (vsdash.feeds.COLUMNS): only their rejected rows are searched
# for one, so a 6-digit LA child ID cannot match a school's URN in a suspension or a GIAS row.
KINDS_WITH_CHILD_ID = ("children", "attendance")
# Tables whose rows go by the UPN the marks were sent under.
BY_UPN = (attendance, attendance_weeks, attendance_sent, suspensions)
# Tables whose rows go by the child's LA child ID, people's records first.
BY_CHILD = (actions_done, actions, upn_aliases, suspension_notices, allocations, cohort_episodes, children)


@dataclass(frozen=True)
class RetentionCounts:
    """What a removal takes (or took) from each table: counts only, never whose rows they were."""

    children: int = 0
    cohort_episodes: int = 0
    allocations: int = 0
    attendance: int = 0
    attendance_weeks: int = 0
    attendance_sent: int = 0
    suspensions: int = 0
    actions: int = 0
    actions_done: int = 0
    upn_aliases: int = 0
    suspension_notices: int = 0
    rejected_rows: int = 0
    shared_upns_kept: int = (
        0  # UPNs a removed child shares with a kept one: their marks stay (they are the kept child's)
    )

    def total(self) -> int:
        """Rows removed in all (what tells a second run from the first)."""
        return sum(v for k, v in asdict(self).items() if k != "shared_upns_kept")

    def summary(self) -> str:
        """One line per table, as the command prints it and the audit log keeps it."""
        return ", ".join(f"{k} {v}" for k, v in asdict(self).items())


@dataclass(frozen=True)
class _Plan:
    """Whose rows a removal takes: the children's LA child IDs and the UPNs their marks are stored under."""

    child_ids: list[str]
    upns: list[str]
    shared_upns: int
    rejected_ids: list[int]


class Retention:
    """Removing children past retention (mixed into `Store`)."""

    engine: Engine

    def retention_plan(self, cut_off: date) -> RetentionCounts:
        """What `remove_before(cut_off)` would remove, per table, changing nothing (the dry run)."""
        with self.engine.connect() as conn:
            plan = _plan(conn, cut_off)
            return _counts(conn, plan)

    def remove_before(self, cut_off: date, by: tuple[str, str] | None = None, note: str = "") -> RetentionCounts:
        """Remove, in one transaction, every child whose every cohort episode ended before the cut-off, with
        all their rows; the week summary loses their weeks and the data version moves on. With `by` (a user's
        name and role), the audit log records the counts, never whose rows they were, in the same transaction."""
        with self.engine.begin() as conn:
            plan = _plan(conn, cut_off)
            if not plan.child_ids:
                return RetentionCounts(shared_upns_kept=plan.shared_upns)
            # A week-summary row sums one UPN's marks in one week (`weeks.summarise` groups by UPN and week), so
            # taking every mark of a UPN takes exactly its summary rows: what is left equals the summary of the
            # marks that are left, with nothing to work out again.
            # So it is with what the loads keep of the marks sent per UPN (vsdash/store/sent.py); a school's
            # day may be left with no marks, so the days are made again.
            by_upn = {t.name: _delete(conn, t, t.c.upn, plan.upns) for t in BY_UPN}
            count_days_again(conn)
            by_child = {t.name: _delete(conn, t, t.c.la_child_id, plan.child_ids) for t in BY_CHILD}
            rejected = _delete(conn, rejected_rows, rejected_rows.c.id, plan.rejected_ids)
            counts = RetentionCounts(**by_upn, **by_child, rejected_rows=rejected, shared_upns_kept=plan.shared_upns)
            if by is not None:
                append_audit(conn, RETENTION_EVENT, *by, detail=f"cut-off {cut_off}{note}: removed {counts.summary()}")
            stamp = now()
            # Caches are keyed on the latest successful load (`Reading.data_version`): a load-log line moves it.
            conn.execute(
                load_log.insert().values(
                    file=f"retention: last episode ended before {cut_off.isoformat()}",
                    kind=RETENTION_KIND,
                    status="loaded",
                    message=f"removed {counts.summary()}",
                    rows_read=0,
                    rows_loaded=0,
                    rows_replaced=0,
                    rows_rejected=0,
                    started_at=stamp,
                    finished_at=stamp,
                )
            )
            return counts


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    """A long list of values in IN-list sized pieces."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _plan(conn: Connection, cut_off: date) -> _Plan:
    """Who goes: children with at least one episode, every one ended, the latest before the cut-off.

    A child with an open episode (no end date) is never taken, however old their other episodes; a child
    with no episode at all is not taken either (nothing says when they left). Marks and suspensions go by
    the UPNs the child held: the list's UPN and the UPNs confirmed as theirs, less any UPN a kept child
    also holds (one UPN on two children is an identity conflict a person resolves, not a reason to delete).
    """
    ep = cohort_episodes.c
    expired = set(
        conn.execute(
            select(ep.la_child_id)
            .group_by(ep.la_child_id)
            .having(func.count(ep.end_date) == func.count(), func.max(ep.end_date) < cut_off)
        ).scalars()
    )
    held: dict[str, set[str]] = {}  # LA child ID -> every UPN its rows may be stored under
    for child_id, upn in conn.execute(select(children.c.la_child_id, children.c.upn)):
        held.setdefault(child_id, set()).update([upn] if upn else [])
    for child_id, alias, upn in conn.execute(
        select(upn_aliases.c.la_child_id, upn_aliases.c.alias_upn, upn_aliases.c.upn)
    ):
        held.setdefault(child_id, set()).update(u for u in (alias, upn) if u)
    leaving = {u for c in expired for u in held.get(c, ())}
    staying = {u for c, upns in held.items() if c not in expired for u in upns}
    upns = sorted(leaving - staying)
    return _Plan(
        sorted(expired),
        upns,
        len(leaving & staying),
        _rejected_ids(conn, set(upns), expired, staying) if expired else [],
    )


def _rejected_ids(conn: Connection, upns: set[str], child_ids: set[str], kept_upns: set[str]) -> list[int]:
    """The rejected rows whose original line holds one of the UPNs, or (in a feed with an LA Child ID
    column) one of the LA child IDs, as a whole field: "B801200005001" in `B801200005001,123456,...`, never
    inside a longer value. Fields are read as CSV, as `vsdash.feeds` wrote them, and compared trimmed, UPNs
    ignoring case (the feeds read them so).

    A UPN's shape (13 characters, a check letter) cannot be mistaken for another field; an LA child ID can
    (a 6-digit ID is a URN's shape, a 3-digit one an LA number's), so a row that also names a kept child's
    UPN is that child's row and stays.
    """
    query = (
        select(rejected_rows.c.id, rejected_rows.c.raw, load_log.c.kind)
        .select_from(rejected_rows.outerjoin(load_log, rejected_rows.c.load_id == load_log.c.id))
        .where(rejected_rows.c.raw.is_not(None))
    )
    found = []
    for row_id, raw, kind in conn.execute(query):
        fields = [f.strip() for f in _fields(raw)]
        names = {f.upper() for f in fields}
        by_id = kind in KINDS_WITH_CHILD_ID and not names & kept_upns and any(f in child_ids for f in fields)
        if by_id or names & upns:
            found.append(int(row_id))
    return found


def _fields(raw: str) -> Iterable[str]:
    """A stored line's fields as CSV reads them (a line that is not CSV at all still splits on its commas)."""
    try:
        return [f for record in csv.reader(raw.splitlines()) for f in record]
    except csv.Error:
        return raw.split(",")


def _count(conn: Connection, table: Table, column: Column, values: list) -> int:
    """Rows of a table whose column holds one of the values."""
    return sum(
        int(conn.execute(select(func.count()).select_from(table).where(column.in_(part))).scalar() or 0)
        for part in _chunks(values)
    )


def _delete(conn: Connection, table: Table, column: Column, values: list) -> int:
    """Delete the rows whose column holds one of the values; how many went."""
    return sum(conn.execute(delete(table).where(column.in_(part))).rowcount for part in _chunks(values))


def _counts(conn: Connection, plan: _Plan) -> RetentionCounts:
    """What the plan would remove from each table."""
    if not plan.child_ids:
        return RetentionCounts(shared_upns_kept=plan.shared_upns)
    by_upn = {t.name: _count(conn, t, t.c.upn, plan.upns) for t in BY_UPN}
    by_child = {t.name: _count(conn, t, t.c.la_child_id, plan.child_ids) for t in BY_CHILD}
    return RetentionCounts(
        **by_upn, **by_child, rejected_rows=len(plan.rejected_ids), shared_upns_kept=plan.shared_upns
    )
