"""What people write: officers' actions, confirmed UPN matches and whether a suspension's social worker was
told, never touched by a feed load."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from vsdash.frames import ACTIONS_SCHEMA, ALIASES_SCHEMA, NOTICES_SCHEMA
from vsdash.store.rows import inserted_id, now, read
from vsdash.store.schema import actions, actions_done, suspension_notices, upn_aliases

ACTION_KINDS = ("Contacted school", "Contacted social worker", "Contacted carer", "Note")


class Records:
    """The store's records of what people did (mixed into `Store`)."""

    engine: Engine

    def add_action(
        self, la_child_id: str, action: str, recorded_by: str, note: str = "", follow_up: date | None = None
    ) -> int:
        """Record what an officer did; who and when are kept with it."""
        if action not in ACTION_KINDS:
            raise ValueError(f"action must be one of {', '.join(ACTION_KINDS)}")
        if not recorded_by.strip():
            raise ValueError("say who recorded the action")
        with self.engine.begin() as conn:
            result = conn.execute(
                actions.insert().values(
                    la_child_id=la_child_id,
                    action=action,
                    note=note.strip() or None,
                    follow_up=follow_up,
                    recorded_by=recorded_by.strip(),
                    recorded_at=now(),
                )
            )
            return inserted_id(result)

    def mark_action_done(self, action_id: int, done_by: str) -> str:
        """Mark an action's follow-up done, once (marking it again keeps the first); returns the action's child."""
        with self.engine.begin() as conn:
            child = conn.execute(select(actions.c.la_child_id).where(actions.c.id == action_id)).scalar()
            if child is None:
                raise ValueError(f"there is no action {action_id}")
            if conn.execute(select(actions_done.c.action_id).where(actions_done.c.action_id == action_id)).first():
                return child
            conn.execute(
                actions_done.insert().values(action_id=action_id, la_child_id=child, done_by=done_by, done_at=now())
            )
            return child

    def action_child(self, action_id: int) -> str | None:
        """Whose action this is (the door checks the child is the viewer's before marking it done)."""
        with self.engine.connect() as conn:
            return conn.execute(select(actions.c.la_child_id).where(actions.c.id == action_id)).scalar()

    def actions_frame(self, la_child_id: str | None = None) -> pl.DataFrame:
        """Recorded actions, newest first (one child's, or everyone's), with who marked each done and when."""
        query = (
            select(
                actions.c.id,
                actions.c.la_child_id,
                actions.c.action,
                actions.c.note,
                actions.c.follow_up,
                actions.c.recorded_by,
                actions.c.recorded_at,
                actions_done.c.done_by,
                actions_done.c.done_at,
            )
            .outerjoin(actions_done, actions_done.c.action_id == actions.c.id)
            .order_by(actions.c.recorded_at.desc(), actions.c.id.desc())
        )
        if la_child_id is not None:
            query = query.where(actions.c.la_child_id == la_child_id)
        return read(self.engine, query, ACTIONS_SCHEMA)

    def save_alias(self, alias_upn: str, la_child_id: str, confirmed_by: str, upn: str | None) -> None:
        """Keep a confirmed match (checked by `aliases.confirmation`); confirming again replaces it."""
        with self.engine.begin() as conn:
            conn.execute(delete(upn_aliases).where(upn_aliases.c.alias_upn == alias_upn))
            conn.execute(
                upn_aliases.insert().values(
                    alias_upn=alias_upn, upn=upn, la_child_id=la_child_id, confirmed_by=confirmed_by, confirmed_at=now()
                )
            )

    def withdraw_alias(self, alias_upn: str) -> None:
        """Undo a confirmation made in error."""
        with self.engine.begin() as conn:
            conn.execute(delete(upn_aliases).where(upn_aliases.c.alias_upn == alias_upn.strip().upper()))

    def alias_state(self) -> tuple[int, str]:
        """How many matches are confirmed and the latest confirmation: figures cached under another state are stale."""
        with self.engine.connect() as conn:
            count, latest = conn.execute(select(func.count(), func.max(upn_aliases.c.confirmed_at))).one()
        return int(count), str(latest)

    def aliases_frame(self) -> pl.DataFrame:
        """Every confirmed match, newest first."""
        query = select(*[upn_aliases.c[k] for k in ALIASES_SCHEMA]).order_by(upn_aliases.c.confirmed_at.desc())
        return read(self.engine, query, ALIASES_SCHEMA)

    def set_suspension_notice(
        self, upn: str, urn: int, start_date: date, category: str, la_child_id: str, notified: bool, set_by: str
    ) -> None:
        """Say whether the child's social worker has been told of this suspension; setting it again replaces it
        (who and when are the latest person's)."""
        if not set_by.strip():
            raise ValueError("say who set the notification status")
        key = {"upn": upn, "urn": urn, "start_date": start_date, "category": category}
        with self.engine.begin() as conn:
            conn.execute(delete(suspension_notices).where(*(suspension_notices.c[k] == v for k, v in key.items())))
            conn.execute(
                suspension_notices.insert().values(
                    **key, la_child_id=la_child_id, notified=notified, set_by=set_by.strip(), set_at=now()
                )
            )

    def suspension_notices_frame(self) -> pl.DataFrame:
        """Every notification status set, by the suspension's key."""
        query = select(*[suspension_notices.c[k] for k in NOTICES_SCHEMA])
        return read(self.engine, query, NOTICES_SCHEMA)
