"""The one door to the data: every page, export and command asks here, so roles and suppression apply once."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from vsdash.config import Config
from vsdash.store import Store

ROLES = ("admin", "officer", "manager", "forum")
# Roles that may see an identifiable child; the forum role sees only suppressed aggregates.
CHILD_LEVEL_ROLES = frozenset({"admin", "officer", "manager"})


class AccessDenied(PermissionError):
    """The role asked for something it may not see."""


@dataclass
class DataAccess:
    """A viewer's access to one store: what they may read, through the same functions everywhere."""

    store: Store
    cfg: Config
    role: str = "admin"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; roles are {', '.join(ROLES)}")

    def require_child_level(self, what: str) -> None:
        """Refuse child-level data to roles that may only see aggregates."""
        if self.role not in CHILD_LEVEL_ROLES:
            raise AccessDenied(f"the {self.role} role may not see {what}")

    def data_version(self) -> int:
        """Changes after every successful load; caches key on it."""
        return self.store.data_version()

    def table_counts(self) -> dict[str, int]:
        """How much is loaded, per table (no child is identifiable from counts of whole tables)."""
        return self.store.table_counts()

    def load_log(self) -> pl.DataFrame:
        """The load log: file names and counts only."""
        return self.store.load_log_frame()

    def rejected_rows(self, file: str | None = None) -> pl.DataFrame:
        """Rejected rows carry the original text (UPNs, names): child-level."""
        self.require_child_level("rejected rows")
        return self.store.rejected_frame(file)
