"""Who is looking: local users' passwords, single sign-on, lockout, idle expiry and when the app may stay open.

No Streamlit here: `vsdash.ui` asks these rules at the boundary and hands `DataAccess` the `User` they name.
Passwords are hashed with argon2 (RFC 9106) by argon2-cffi's maintained defaults, never by hand.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vsdash.config import ROLES, Config
from vsdash.store import Account, Store
from vsdash.store.retention import RETENTION_EVENT

# Roles that may see an identifiable child; the forum role sees only suppressed aggregates.
CHILD_LEVEL_ROLES = frozenset({"admin", "officer", "manager"})
MIN_PASSWORD_CHARS = 10  # NCSC password guidance: length over complexity
WRONG = "The username or password is not right. Check them and try again."

# What the audit log records (its `event` column), in the words an admin reads.
SIGNED_IN, SIGN_IN_FAILED, SIGNED_OUT = "signed in", "sign-in failed", "signed out"
CHILD_OPENED, EXPORTED = "child page opened", "export"
SCHOOL_CHILDREN_LISTED = "school's children listed"  # a school opened with its named children
LOADED, MATCH_CONFIRMED, MATCH_WITHDRAWN = "file loaded", "match confirmed", "match withdrawn"
ACTION_RECORDED = "action recorded"
FOLLOW_UP_DONE = "follow-up done"
SUSPENSION_NOTICE = "suspension notice set"  # whether a suspension's social worker was told
USER_ADDED, USER_REMOVED, PASSWORD_RESET = "user added", "user removed", "password reset"
RETENTION = RETENTION_EVENT  # written by the store, inside the removal's own transaction

_HASHER = PasswordHasher()
# Checked against when the user does not exist, so a wrong name takes as long as a wrong password.
_NOBODY = _HASHER.hash("no such user: this hash only takes the time a real check takes")


class SignInRefused(Exception):
    """Sign-in failed; the message is the one line the sign-in form shows."""


@dataclass(frozen=True)
class User:
    """A signed-in person (or the command line, or the open sample's visitor) and what limits their children."""

    name: str
    role: str
    email: str | None = None
    teams: tuple[str, ...] = ()
    schools: tuple[int, ...] = ()
    localities: tuple[str, ...] = ()
    open_sample: bool = False  # nobody signed in: the bundled synthetic sample is shown openly
    previewing: bool = False  # an admin seeing the app as this role

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; the roles are {', '.join(ROLES)}")

    @property
    def child_level(self) -> bool:
        """Whether this person may see identifiable children."""
        return self.role in CHILD_LEVEL_ROLES

    @property
    def limited(self) -> bool:
        """Whether only some children (their teams, schools or localities) are theirs."""
        return bool(self.teams or self.schools or self.localities)

    def scope(self) -> pl.Expr | None:
        """Which rows of a per-child table are this person's: any of their teams, schools or localities."""
        if not self.limited:
            return None
        return (
            pl.col("team").is_in(list(self.teams))
            | pl.col("school_urn").is_in(list(self.schools))
            | pl.col("locality").is_in(list(self.localities))
        ).fill_null(False)

    @property
    def audit_name(self) -> str:
        """The name the audit log records."""
        return "visitor (open sample)" if self.open_sample else self.name


def command_line_user() -> User:
    """The command line is run by whoever holds the database's credentials: the data's administrator."""
    return User(f"{getpass.getuser()} (command line)", "admin")


OPEN_SAMPLE_VISITOR = User("visitor", "admin", open_sample=True)


def user_of(account: Account) -> User:
    """The stored account as the person the rest of vsdash serves."""
    return User(account.name, account.role, account.email, account.teams, account.schools, account.localities)


# ---- passwords ------------------------------------------------------------------------------------------


def check_new_password(password: str) -> None:
    """Refuse a password too short to be safe (the one rule NCSC guidance asks for)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    """A new password's argon2 hash (the only form the store keeps)."""
    check_new_password(password)
    return _HASHER.hash(password)


def _matches(password_hash: str | None, password: str) -> bool:
    """Whether the password is the one hashed (the same work is done when there is no hash)."""
    try:
        return _HASHER.verify(password_hash or _NOBODY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back times without their zone: they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def sign_in(store: Store, cfg: Config, name: str, password: str, at: datetime | None = None) -> User:
    """Check a local user's password, counting failures and locking the account after too many."""
    at = at or datetime.now(UTC)
    name = name.strip()
    account = store.account(name=name) if name else None
    locked_until = _utc(account.locked_until) if account else None
    if account is not None and locked_until is not None and locked_until > at:
        store.audit(SIGN_IN_FAILED, account.name, account.role, detail="account locked")
        raise SignInRefused(_locked(locked_until))
    if account is None or not _matches(account.password_hash, password):
        detail = "wrong password" if account else f"unknown username {name[:100]!r}"
        store.audit(SIGN_IN_FAILED, account.name if account else None, account.role if account else None, detail=detail)
        if account is not None and account.password_hash is not None:
            until = at + timedelta(minutes=cfg.access.lockout_minutes)
            if (
                store.note_failed_sign_in(account.name, cfg.access.lockout_failures, until)
                >= cfg.access.lockout_failures
            ):
                raise SignInRefused(_locked(until))
        raise SignInRefused(WRONG)
    store.note_sign_in(account.name)
    if _HASHER.check_needs_rehash(account.password_hash or ""):
        store.set_password(account.name, _HASHER.hash(password))
    store.audit(SIGNED_IN, account.name, account.role, detail="local password")
    return user_of(account)


def _locked(until: datetime) -> str:
    """What a locked-out person reads: when to try again, and who can help sooner."""
    return (
        f"This account is locked after too many wrong passwords. Try again after {until:%H:%M} UTC, "
        "or ask an admin to reset the password."
    )


def single_sign_on_user(store: Store, email: str | None) -> User | None:
    """The vsdash user whose e-mail the identity provider vouched for; None when no user has it."""
    if not email:
        return None
    account = store.account(email=email.strip().lower())
    return user_of(account) if account else None


def idle_expired(last_seen: datetime | None, cfg: Config, at: datetime | None = None) -> bool:
    """A session unused for longer than the configured idle time must sign in again."""
    at = at or datetime.now(UTC)
    return last_seen is not None and at - last_seen > timedelta(minutes=cfg.access.idle_minutes)
