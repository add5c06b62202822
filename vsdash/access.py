"""The one door to the data: every page, export and command asks here, so roles and suppression apply once."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from vsdash import aliases, inbox, metrics, quality, views
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.frames import Frames, as_date
from vsdash.ingest import IngestResult, ingest_file
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
    # Where the figures come from: the dashboard passes a cache shared by sessions; default reads the store.
    figures_source: Callable[[], views.Figures] | None = None

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

    _figures: views.Figures | None = field(default=None, init=False, repr=False)

    def figures(self) -> views.Figures:
        """The data version's frames and per-window figures: the shared cache when there is one, else read once."""
        if self.figures_source is not None:
            return self.figures_source()
        if self._figures is None:
            self._figures = views.Figures(self.store.frames(self.cfg, held=False), self.cfg)
        return self._figures

    def frames(self) -> Frames:
        """Every record and the week summary (day rows read on demand)."""
        return self.figures().frames

    def per_child(self, window: metrics.Window, cohort: str | None = None) -> pl.DataFrame:
        """One row per child with the window's figures: identifiable, so child-level roles only."""
        self.require_child_level("figures for individual children")
        return metrics.per_child(self.frames(), window, self.cfg, cohort=cohort)

    # ---- views: aggregates for every role; child-level views for child-level roles ----

    def filter_options(self) -> views.FilterOptions:
        """Values for the filter bar (names of teams and schools; no child)."""
        return views.filter_options(self.figures())

    def overview(self, filters: Filters) -> views.Overview:
        """The performance-meeting page: aggregates only."""
        return views.overview(self.figures(), filters)

    def triage_list(self, filters: Filters, today: date, teams: list[str] | None = None,
                    schools: list[int] | None = None) -> pl.DataFrame:
        """The officers' worklist: named children, so child-level roles only."""
        self.require_child_level("the triage list")
        return views.triage_list(self.figures(), filters, self.store.actions_frame(), today, teams, schools)

    def child_page(self, la_child_id: str, filters: Filters) -> views.ChildPage | None:
        """One child's page: child-level roles only."""
        self.require_child_level("a child's page")
        return views.child_page(self.figures(), la_child_id, filters)

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

    # ---- live data (issue 5) ----

    def require_admin(self, what: str) -> None:
        """Loading data changes every figure: only the admin role may."""
        if self.role != "admin":
            raise AccessDenied(f"the {self.role} role may not {what}")

    def preview_upload(self, name: str, data: bytes) -> inbox.Preview:
        """What an uploaded file would load, reject and replace, with nothing written."""
        self.require_admin("load data")
        with _uploaded(name, data) as path:
            return inbox.preview_file(self.store, path, self.cfg)

    def load_upload(self, name: str, data: bytes) -> IngestResult:
        """Load an uploaded file exactly as the command line and the inbox do."""
        self.require_admin("load data")
        with _uploaded(name, data) as path:
            return ingest_file(self.store, path, self.cfg)

    def school_freshness(self) -> pl.DataFrame:
        """Last mark and silence per school (school-level counts only)."""
        return quality.school_freshness(self.figures().day_frames, self.cfg)

    def rejected_explained(self) -> pl.DataFrame:
        """Rejected rows with their feed and kind of problem: child-level (they hold UPNs)."""
        self.require_child_level("rejected rows")
        return quality.explain_rejects(self.store.rejected_frame(), self.store.load_log_frame())

    def matching(self) -> quality.Matching:
        """The list as sent against the attendance as sent, with confirmed matches: child-level."""
        self.require_child_level("matching of named children")
        return quality.match_children(self.store.children_frame(), self.store.sent_identities(),
                                      self.store.aliases_frame())

    def confirmed_matches(self) -> pl.DataFrame:
        """UPN aliases people have confirmed: child-level."""
        self.require_child_level("confirmed matches")
        return self.store.aliases_frame()

    def confirm_match(self, alias_upn: str, la_child_id: str, confirmed_by: str) -> None:
        """A person confirms that a UPN a school sends is this listed child; every later figure follows it."""
        self.require_child_level("confirmed matches")
        listed = self.store.children_frame().filter(pl.col("la_child_id") == la_child_id)
        if listed.is_empty():
            raise ValueError(f"no child with LA Child ID {la_child_id!r} is on the list")
        self.store.save_alias(**aliases.confirmation(alias_upn, la_child_id, confirmed_by, upn=listed["upn"][0]))

    def withdraw_match(self, alias_upn: str) -> None:
        """Undo a confirmation made in error."""
        self.require_child_level("confirmed matches")
        self.store.withdraw_alias(alias_upn)

    def exceptions_report(self, matching: quality.Matching | None = None) -> list[quality.Section]:
        """The report a data manager sends to social care (named children, so child-level); pass the matching
        already worked out to avoid doing it twice."""
        marks = self.figures().day_frames.days()  # the day frames hold every day row: this is them
        return quality.exceptions_report(matching or self.matching(), self.rejected_explained(),
                                         quality.school_disagreements(marks), self.confirmed_matches())

    def as_at(self) -> date | None:
        """The latest date the attendance covers."""
        days = self.figures().calendar
        return as_date(days.max()) if len(days) else None


@contextmanager
def _uploaded(name: str, data: bytes) -> Iterator[Path]:
    """An uploaded file on disk under its own name (the load log records the name), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vsdash-upload-") as folder:
        path = Path(folder) / (Path(name).name or "upload.csv")
        path.write_bytes(data)
        yield path
