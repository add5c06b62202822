"""Who may sign in, and the audit log of who did what (mixed into `Store`; the rules are in vsdash/auth.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from vsdash.frames import AUDIT_SCHEMA, USERS_SCHEMA
from vsdash.store.rows import now, read
from vsdash.store.schema import audit_log, users


@dataclass(frozen=True)
class Account:
    """One stored user as the sign-in rules need it (the hash never leaves the store except here)."""

    name: str
    email: str | None
    role: str
    teams: tuple[str, ...]
    schools: tuple[int, ...]
    localities: tuple[str, ...]
    password_hash: str | None
    failed_sign_ins: int
    locked_until: datetime | None


def _account(row: Any) -> Account:
    """A users row as an Account, its JSON lists as tuples."""
    return Account(
        row.name,
        row.email,
        row.role,
        tuple(json.loads(row.teams)),
        tuple(json.loads(row.schools)),
        tuple(json.loads(row.localities)),
        row.password_hash,
        row.failed_sign_ins,
        row.locked_until,
    )


def append_audit(
    conn: Connection,
    event: str,
    user_name: str | None,
    role: str | None,
    la_child_id: str | None = None,
    detail: str | None = None,
) -> None:
    """One audit entry inside the caller's transaction (a change and its record stand or fall together)."""
    conn.execute(
        audit_log.insert().values(
            at=now(), user_name=user_name, role=role, event=event, la_child_id=la_child_id, detail=detail
        )
    )


class Accounts:
    """The store's users and audit log."""

    engine: Engine

    def add_user(
        self,
        name: str,
        role: str,
        *,
        email: str | None = None,
        password_hash: str | None = None,
        teams: Sequence[str] = (),
        schools: Sequence[int] = (),
        localities: Sequence[str] = (),
    ) -> None:
        """Keep a new user; a name or e-mail already taken is refused."""
        stamp = now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    users.insert().values(
                        name=name,
                        email=email,
                        role=role,
                        teams=json.dumps(list(teams)),
                        schools=json.dumps(list(schools)),
                        localities=json.dumps(list(localities)),
                        password_hash=password_hash,
                        failed_sign_ins=0,
                        created_at=stamp,
                        changed_at=stamp,
                    )
                )
        except IntegrityError:
            taken = self.account(name) is not None
            raise ValueError(
                f"a user named {name!r} already exists" if taken else f"another user already has the e-mail {email}"
            ) from None

    def account(self, name: str | None = None, email: str | None = None) -> Account | None:
        """One user, by name or by e-mail (as stored: lower case)."""
        where = users.c.name == name if name is not None else users.c.email == email
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(where)).first()
        return _account(row) if row else None

    def has_users(self) -> bool:
        """Whether anyone can sign in: with no users, only the bundled sample is shown (and then openly)."""
        with self.engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(users)).scalar_one())

    def users_frame(self) -> pl.DataFrame:
        """Every user without their password hash, for the admin's list."""
        query = select(
            *(c for c in users.c if c.name != "password_hash"), users.c.password_hash.is_not(None).label("has_password")
        ).order_by(users.c.name)
        return read(self.engine, query, USERS_SCHEMA)

    def remove_user(self, name: str) -> bool:
        """Remove a user; False when there was none of that name."""
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(users).where(users.c.name == name)).rowcount)

    def set_password(self, name: str, password_hash: str) -> bool:
        """A new password hash, unlocking the account; False when there is no such user."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(password_hash=password_hash, failed_sign_ins=0, locked_until=None, changed_at=now())
            )
            return bool(changed.rowcount)

    def note_failed_sign_in(self, name: str, lock_after: int, lock_until: datetime) -> int:
        """Count a wrong password in one statement (two sessions cannot both miss a count); the count reaching
        `lock_after` locks the account until `lock_until`. Returns the new count."""
        count = users.c.failed_sign_ins + 1
        with self.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(
                    failed_sign_ins=count,
                    locked_until=case((count >= lock_after, lock_until), else_=users.c.locked_until),
                )
            )
            return int(conn.execute(select(users.c.failed_sign_ins).where(users.c.name == name)).scalar_one())

    def note_sign_in(self, name: str) -> None:
        """A successful sign-in clears the count of failures and any lock that has run out."""
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.name == name).values(failed_sign_ins=0, locked_until=None))

    # ---- the audit log: written, read, never changed -------------------------------------------------------

    def audit(
        self,
        event: str,
        user_name: str | None,
        role: str | None,
        la_child_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Append one entry to the audit log."""
        with self.engine.begin() as conn:
            append_audit(conn, event, user_name, role, la_child_id, detail)

    def audit_frame(self, event: str | None = None, la_child_id: str | None = None) -> pl.DataFrame:
        """The audit log, newest first (optionally one kind of event, or one child's entries)."""
        query = select(audit_log).order_by(audit_log.c.id.desc())
        if event is not None:
            query = query.where(audit_log.c.event == event)
        if la_child_id is not None:
            query = query.where(audit_log.c.la_child_id == la_child_id)
        return read(self.engine, query, AUDIT_SCHEMA)
