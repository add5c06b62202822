"""The one door to the data: every page, export and command asks here, so roles and suppression apply once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

import polars as pl

from vsdash import metrics, views
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.frames import Frames
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
    # Where the frames come from: the dashboard passes a cache shared by sessions; default reads the store.
    frames_source: Callable[[], Frames] | None = None

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

    def frames(self) -> Frames:
        """Every mark and record, from the shared cache when there is one."""
        return self.frames_source() if self.frames_source else self.store.frames()

    def per_child(self, window: metrics.Window, cohort: str | None = None) -> pl.DataFrame:
        """One row per child with the window's figures: identifiable, so child-level roles only."""
        self.require_child_level("figures for individual children")
        return metrics.per_child(self.frames(), window, self.cfg, cohort=cohort)

    # ---- views: aggregates for every role; child-level views for child-level roles ----

    def filter_options(self) -> views.FilterOptions:
        """Values for the filter bar (names of teams and schools; no child)."""
        return views.filter_options(self.frames(), self.cfg)

    def overview(self, filters: Filters) -> views.Overview:
        """The performance-meeting page: aggregates only."""
        return views.overview(self.frames(), self.cfg, filters)

    def triage_list(self, filters: Filters, today: date, teams: list[str] | None = None,
                    schools: list[int] | None = None) -> pl.DataFrame:
        """The officers' worklist: named children, so child-level roles only."""
        self.require_child_level("the triage list")
        return views.triage_list(self.frames(), self.cfg, filters, self.store.actions_frame(), today, teams, schools)

    def child_page(self, la_child_id: str, filters: Filters) -> views.ChildPage | None:
        """One child's page: child-level roles only."""
        self.require_child_level("a child's page")
        return views.child_page(self.frames(), self.cfg, la_child_id, filters)

    def child_directory(self) -> pl.DataFrame:
        """Names and identifiers to find a child by: child-level roles only."""
        self.require_child_level("the list of children")
        return self.frames().children.select("la_child_id", "upn", "first_name", "last_name", "dob").sort("last_name", "first_name")

    def actions(self, la_child_id: str) -> pl.DataFrame:
        """Actions recorded on a child: child-level roles only."""
        self.require_child_level("actions on a child")
        return self.store.actions_frame(la_child_id)

    def record_action(self, la_child_id: str, action: str, recorded_by: str, note: str = "",
                      follow_up: date | None = None) -> int:
        """Officers record what they did; the forum role cannot."""
        self.require_child_level("actions on a child")
        return self.store.add_action(la_child_id, action, recorded_by, note, follow_up)

    def freshness(self) -> pl.DataFrame:
        """Per feed kind: when it last loaded and the latest date its data covers."""
        return self.store.feed_freshness()
