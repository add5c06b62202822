"""The one door to the data: every page, export and command asks here, so roles, limits and the audit log
apply once.

Each method checks the viewer's role itself, so a page reached by editing its URL still gets nothing it may
not show; child-level results are cut to the viewer's own children (their teams, schools or localities).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from vsdash import (
    aliases,
    auth,
    child_search,
    inbox,
    mapping,
    metrics,
    pack_files,
    privacy,
    quality,
    suspension_views,
    views,
)
from vsdash import out_of_area as out_of_area_mod
from vsdash import pack as pack_mod
from vsdash import schools as schools_mod
from vsdash import suspensions as suspensions_mod
from vsdash.auth import User
from vsdash.config import Config
from vsdash.filters import Filters
from vsdash.frames import as_date
from vsdash.glossary import UK_TIME_ZONE, counted
from vsdash.ingest import IngestResult, ingest_file
from vsdash.store import Store

NO_KEY = (
    'access.pseudonymise is on, but no key is set: add [vsdash] pseudonym_key = "a long random secret" '
    "to .streamlit/secrets.toml"
)


class AccessDenied(PermissionError):
    """The viewer asked for something their role, or their list of children, does not allow."""


@dataclass
class DataAccess:
    """A viewer's access to one store: what they may read, through the same functions everywhere."""

    store: Store
    cfg: Config
    user: User
    # Where the figures come from: the dashboard passes a cache shared by sessions; default reads the store.
    figures_source: Callable[[], views.Figures] | None = None
    # The data-quality figures of the same data version: the dashboard's shared cache; default worked out here.
    quality_source: Callable[[], quality.DataQuality] | None = None
    # What the viewer's session remembers between runs (st.session_state in the app): which child's opening
    # is already on the audit log, so redrawing the page is not a second look.
    memory: MutableMapping[Any, Any] = field(default_factory=dict)
    # Pseudonymised mode (access.pseudonymise): every child's identity as initials and keyed tokens.
    pseudonymiser: privacy.Pseudonymiser | None = None

    def __post_init__(self) -> None:
        if self.cfg.access.pseudonymise and self.pseudonymiser is None:
            raise ValueError(NO_KEY)

    @property
    def pseudonymised(self) -> bool:
        """Whether the viewer sees initials and tokens instead of names and identifiers."""
        return self.pseudonymiser is not None

    def _people(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A table that leaves the store directly (actions, the audit log), pseudonymised when the mode is on."""
        return privacy.pseudonymise_frame(frame, self.pseudonymiser) if self.pseudonymiser else frame

    def _real_id(self, la_child_id: str) -> str:
        """The stored LA child ID behind a pseudonymised one (the audit log and actions keep the real one)."""
        if self.pseudonymiser is None:
            return la_child_id
        real = self.pseudonymiser.original(la_child_id, "la_child_id")
        if real is None:  # a pseudonymiser that has not seen the list yet: tokenise it once, then look again
            self.pseudonymiser.tokens(self.store.children_frame()["la_child_id"], "la_child_id")
            real = self.pseudonymiser.original(la_child_id, "la_child_id")
        return real or la_child_id

    def _require_real_identities(self, what: str) -> None:
        """Pseudonymised mode is for demonstrations and analysis: nothing there writes to a child's record or
        needs a real UPN."""
        if self.pseudonymiser is not None:
            raise AccessDenied(f"pseudonymised mode shows no real identities, so it cannot {what}")

    @property
    def role(self) -> str:
        """The viewer's role."""
        return self.user.role

    def require_child_level(self, what: str) -> None:
        """Refuse child-level data to roles that may only see aggregates."""
        if not self.user.child_level:
            raise AccessDenied(f"the {self.role} role may not see {what}")

    def require_admin(self, what: str) -> None:
        """Loading data, confirming matches and reading the audit log change or reveal everything: admin only."""
        if self.role != "admin":
            raise AccessDenied(f"the {self.role} role may not {what}")

    def _audit(self, event: str, la_child_id: str | None = None, detail: str | None = None) -> None:
        """One entry on the audit log in the viewer's name."""
        self.store.audit(event, self.user.audit_name, self.role, la_child_id, detail)

    def _mine(self, per_child: pl.DataFrame) -> pl.DataFrame:
        """The rows of a per-child table that are the viewer's children (all of them when unlimited)."""
        scope = self.user.scope()
        return per_child if scope is None else per_child.filter(scope)

    def _my_ids(self, as_of: date | None = None) -> pl.Series:
        """The LA child IDs of the viewer's own children as at a date (the latest data's by default)."""
        window = metrics.window_for(self.cfg, as_of or self.as_at() or date.today())
        return self._mine(self._figures().at(window).children)["la_child_id"]

    def _my_listed(self, listed: pl.DataFrame) -> pl.DataFrame:
        """The rows of a frame keyed by LA child ID that are the viewer's own children (all when unlimited)."""
        if not self.user.limited:
            return listed
        return listed.filter(pl.col("la_child_id").is_in(self._my_ids().implode()))

    def _require_mine(self, la_child_id: str, as_of: date | None = None) -> None:
        """Refuse a child outside the viewer's teams, schools and localities (as at the date given)."""
        if self.user.limited and la_child_id not in self._my_ids(as_of):
            raise AccessDenied("this child is not in your teams, schools or localities")

    def data_version(self) -> int:
        """Changes after every successful load; caches key on it."""
        return self.store.data_version()

    def loaded_counts(self) -> dict[str, int]:
        """How much is loaded, per table (no child is identifiable from counts of whole tables)."""
        return self._quality().loaded_counts()

    def load_log(self) -> pl.DataFrame:
        """The load log: file names and counts only."""
        return self.store.load_log_frame()

    def rejected_rows(self, file: str | None = None) -> pl.DataFrame:
        """Rejected rows carry the original text (UPNs, names): child-level."""
        self.require_child_level("rejected rows")
        self._require_real_identities("show rejected rows")
        return self.store.rejected_frame(file)

    _read: views.Figures | None = field(default=None, init=False, repr=False)

    def _figures(self) -> views.Figures:
        """Every child's frames and per-window figures (the shared cache when there is one, else read once):
        private, because every child is in them; the methods below hand out what the viewer may see."""
        if self.figures_source is not None:
            return self.figures_source()
        if self._read is None:
            frames = self.store.frames(self.cfg, held=False)
            if self.pseudonymiser is not None:
                frames = privacy.pseudonymise(frames, self.pseudonymiser)
            self._read = views.Figures(frames, self.cfg)
        return self._read

    _checked: quality.DataQuality | None = field(default=None, init=False, repr=False)

    def _quality(self) -> quality.DataQuality:
        """This data version's freshness, matching and exceptions (the shared cache when there is one, else kept
        here): private like `_figures`, the methods below check the role before handing any out."""
        if self.quality_source is not None:
            return self.quality_source()
        if self._checked is None:
            self._checked = quality.DataQuality(self._figures, self.store, self.cfg)
        return self._checked

    def per_child(self, window: metrics.Window, cohort: str | None = None) -> pl.DataFrame:
        """One row per child with the window's figures: identifiable, so child-level roles only."""
        self.require_child_level("figures for individual children")
        return self._mine(metrics.per_child(self._figures().frames, window, self.cfg, cohort=cohort))

    # ---- views: aggregates for every role; child-level views for child-level roles ----

    def filter_options(self) -> views.FilterOptions:
        """Values for the filter bar (names of teams and schools; no child)."""
        return views.filter_options(self._figures())

    def overview(self, filters: Filters, forum: bool = False) -> views.Overview:
        """The performance-meeting page: aggregates only; in forum mode (always for the forum role) with small
        numbers withheld here, so no page or export can forget to."""
        if self.forum_mode(forum):
            return views.forum_overview(self._figures(), filters)
        return views.overview(self._figures(), filters)

    def triage_list(
        self, filters: Filters, teams: list[str] | None = None, schools: list[int] | None = None
    ) -> pl.DataFrame:
        """The officers' worklist: named children, so child-level roles only."""
        self.require_child_level("the triage list")
        actions = self._people(self.store.actions_frame())
        worklist = views.triage_list(self._figures(), filters, actions, teams, schools)
        return self._mine(worklist)

    def no_attendance_count(self, filters: Filters) -> int:
        """How many of the viewer's selected children have no attendance ever received (a count, no child)."""
        return views.no_attendance_count(self._figures(), filters, self.user.scope())

    def child_page(self, la_child_id: str, filters: Filters) -> views.ChildPage | None:
        """One child's page: child-level roles, the viewer's own children; each new look goes on the audit log."""
        self.require_child_level("a child's page")
        self._require_mine(la_child_id, filters.as_of)
        page = views.child_page(self._figures(), la_child_id, filters)
        if page is not None and self.memory.get("audit_child_opened") != la_child_id:
            self._audit(auth.CHILD_OPENED, self._real_id(la_child_id), "pseudonymised" if self.pseudonymised else None)
            self.memory["audit_child_opened"] = la_child_id
        return page

    def child_directory(self) -> pl.DataFrame:
        """Names and identifiers to find a child by: child-level roles, the viewer's own children."""
        self.require_child_level("the list of children")
        children = self._my_listed(self._figures().frames.children)
        return children.select("la_child_id", "upn", "first_name", "last_name", "dob").sort("last_name", "first_name")

    def find_children(self, query: str, limit: int = child_search.LIMIT) -> child_search.Matches:
        """The viewer's own children whose name, LA child ID or UPN start with the words typed (their initials
        and tokens in pseudonymised mode, as the page shows them): child-level roles only."""
        self.require_child_level("the list of children")
        children = self._my_listed(self._figures().search_index)
        return child_search.find(children, query, limit, self.user.limited)

    def actions(self, la_child_id: str) -> pl.DataFrame:
        """Actions recorded on a child: child-level roles, the viewer's own children."""
        self.require_child_level("actions on a child")
        self._require_mine(la_child_id)
        return self._people(self.store.actions_frame(self._real_id(la_child_id)))

    def record_action(self, la_child_id: str, action: str, note: str = "", follow_up: date | None = None) -> int:
        """An officer records what they did, in their own name; the forum role cannot."""
        self.require_child_level("actions on a child")
        self._require_real_identities("record actions")
        self._require_mine(la_child_id)
        action_id = self.store.add_action(la_child_id, action, self.user.name, note, follow_up)
        self._audit(auth.ACTION_RECORDED, la_child_id, action)
        return action_id

    def mark_follow_up_done(self, action_id: int) -> None:
        """An officer marks an action's follow-up done, in their own name, for one of their own children."""
        self.require_child_level("actions on a child")
        self._require_real_identities("mark follow-ups done")
        child = self.store.action_child(action_id)
        if child is None:
            raise AccessDenied("there is no such action")
        self._require_mine(child)
        self.store.mark_action_done(action_id, self.user.name)
        self._audit(auth.FOLLOW_UP_DONE, child, f"action {action_id}")

    def export(self, data: bytes, file_name: str, selection: str, child_rows: bool) -> bytes:
        """A download on its way out: child rows only to child-level roles, and every export on the audit log."""
        if child_rows:
            self.require_child_level("an export of named children")
        self._audit(auth.EXPORTED, detail=f"{file_name} ({selection})")
        return data

    def freshness(self) -> pl.DataFrame:
        """Per feed kind: when it last loaded and the latest date its data covers."""
        return self.store.feed_freshness()

    # ---- live data ----

    def preview_upload(self, name: str, data: bytes) -> inbox.Preview:
        """What an uploaded file would load, reject and replace, with nothing written."""
        self.require_admin("load data")
        with _uploaded(name, data) as path:
            return inbox.preview_file(self.store, path, self.cfg)

    def load_upload(self, name: str, data: bytes) -> IngestResult:
        """Load an uploaded file exactly as the command line and the inbox do."""
        self.require_admin("load data")
        with _uploaded(name, data) as path:
            result = ingest_file(self.store, path, self.cfg)
        if result.status == "loaded":
            self._audit(auth.LOADED, detail=f"upload {result.summary()}")
        return result

    def school_freshness(self) -> pl.DataFrame:
        """Last mark and silence per school (school-level counts only)."""
        return self._quality().freshness()

    def rejected_explained(self) -> pl.DataFrame:
        """Rejected rows with their feed and kind of problem: child-level (they hold UPNs)."""
        self.require_child_level("rejected rows")
        self._require_real_identities("show rejected rows")
        return self._quality().rejected()

    def matching(self) -> quality.Matching:
        """The list as sent against the attendance as sent, with confirmed matches: child-level."""
        self.require_child_level("matching of named children")
        self._require_real_identities("match children")
        return self._quality().matching()

    def confirmed_matches(self) -> pl.DataFrame:
        """UPN aliases people have confirmed: child-level."""
        self.require_child_level("confirmed matches")
        self._require_real_identities("show confirmed matches")
        return self.store.aliases_frame()

    def confirm_match(self, alias_upn: str, la_child_id: str) -> None:
        """The admin confirms, in their own name, that a UPN a school sends is this listed child; every later
        figure follows it."""
        self.require_admin("confirm matches")
        self._require_real_identities("confirm matches")
        listed = self.store.children_frame().filter(pl.col("la_child_id") == la_child_id)
        if listed.is_empty():
            raise ValueError(f"no child with LA Child ID {la_child_id!r} is on the list")
        self.store.save_alias(**aliases.confirmation(alias_upn, la_child_id, self.user.name, upn=listed["upn"][0]))
        self._checked = None  # the matching kept here no longer holds (the dashboard's cache key moves by itself)
        self._audit(auth.MATCH_CONFIRMED, la_child_id, f"UPN {alias_upn}")

    def withdraw_match(self, alias_upn: str) -> None:
        """Undo a confirmation made in error."""
        self.require_admin("withdraw matches")
        self._require_real_identities("withdraw matches")
        self.store.withdraw_alias(alias_upn)
        self._checked = None
        self._audit(auth.MATCH_WITHDRAWN, detail=f"UPN {alias_upn}")

    # ---- accounts and the audit log: the admin's ----

    def users(self) -> pl.DataFrame:
        """Who may sign in, with role and limits (never a password hash)."""
        self.require_admin("see the list of users")
        return self.store.users_frame()

    def audit_log(self) -> pl.DataFrame:
        """Every entry on the audit log, newest first."""
        self.require_admin("read the audit log")
        return self._people(self.store.audit_frame())

    def exceptions_report(self) -> list[quality.Section]:
        """The report a data manager sends to social care (named children, so child-level)."""
        self.require_child_level("the exceptions report")
        self._require_real_identities("make the exceptions report")
        return self._quality().report()

    def as_at(self) -> date | None:
        """The latest date the attendance covers."""
        days = self._figures().calendar
        return as_date(days.max()) if len(days) else None

    # ---- schools, forum and map ----

    def forum_mode(self, asked: bool = False) -> bool:
        """Forum output (small numbers withheld, no child anywhere): always for the forum role, and for any
        other role when they turn it on to see what a forum would."""
        return self.role == "forum" or asked

    def schools(self, filters: Filters, forum: bool = False) -> schools_mod.SchoolsTable:
        """The Schools page's tables (aggregates for every role), suppressed here in forum mode so no page
        or export can forget to."""
        figures = self._figures()
        window = figures.of(filters)
        table = schools_mod.schools_table(
            views.selected_children(figures, filters), figures.frames, window.rows, self.cfg
        )
        return schools_mod.for_forum(table) if self.forum_mode(forum) else table

    def school_detail(
        self, urn: int, filters: Filters, forum: bool = False, children: bool = False
    ) -> schools_mod.SchoolDetail | None:
        """One school opened on the Schools page: its trend and figures for every role (suppressed here in
        forum mode); with `children`, its named children, only to a child-level role outside forum mode, cut
        to the viewer's own and each new look on the audit log (a redraw of the same list is not one)."""
        forum = self.forum_mode(forum)
        if children:
            self.require_child_level("a school's children")
            if forum:
                raise AccessDenied("forum mode names no child")
        figures = self._figures()
        detail = views.school_detail(figures, urn, filters, forum)
        if detail is None or not children:
            return detail
        listed = schools_mod.on_roll(
            self._mine(views.selected_children(figures, filters)), figures.frames.children, urn
        )
        if self.memory.get("audit_school_children") != (urn, filters):
            mode = "; pseudonymised" if self.pseudonymised else ""
            self._audit(
                auth.SCHOOL_CHILDREN_LISTED, detail=f"URN {urn}: {counted(listed.height, 'child', 'children')}{mode}"
            )
            self.memory["audit_school_children"] = (urn, filters)
        return replace(detail, on_roll=listed)

    def out_of_area(self, filters: Filters, forum: bool = False) -> out_of_area_mod.OutOfArea:
        """The out-of-area view's tables (aggregates for every role), suppressed here in forum mode."""
        figures = self._figures()
        freshness = self._quality().freshness()
        tables = out_of_area_mod.view(
            views.selected_children(figures, filters), figures.frames.schools, freshness, self.cfg
        )
        return out_of_area_mod.for_forum(tables) if self.forum_mode(forum) else tables

    def school_map(self, filters: Filters, colour_by: str, forum: bool = False) -> mapping.MapData:
        """The map's schools and arcs, from the same (in forum mode suppressed) Schools table."""
        return mapping.map_data(self.schools(filters, forum), self._figures().frames.schools, self.cfg, colour_by)

    # ---- suspensions and moves ----

    def suspensions_page(self, filters: Filters) -> suspension_views.SuspensionsPage:
        """The Suspensions and exclusions page: rates for the selection; its lists name children, so child-level
        roles only, each officer's lists cut to their own children."""
        self.require_child_level("the suspensions page")
        notices = self._people(self.store.suspension_notices_frame())
        return suspension_views.suspensions_page(self._figures(), filters, notices, self.user.scope())

    def child_moves(self, la_child_id: str, filters: Filters) -> pl.DataFrame:
        """One child's school moves: child-level roles, the viewer's own children."""
        self.require_child_level("a child's school moves")
        self._require_mine(la_child_id, filters.as_of)
        return suspension_views.child_moves(self._figures(), la_child_id)

    def moves(self, filters: Filters) -> pl.DataFrame:
        """The selected children's school moves in the window (named children): child-level roles only."""
        self.require_child_level("school moves of named children")
        return suspension_views.moves_in_window(self._figures(), filters, self.user.scope())

    def suspension_rates(self, window: metrics.Window, by: str | None) -> pl.DataFrame:
        """`report suspensions`: the rates of every known child in the window, all together and by group (counts
        of children, no child named)."""
        children = self._mine(metrics.per_child(self._figures().frames, window, self.cfg))
        schools = dict(self._figures().frames.schools.select("urn", "name").iter_rows())
        return suspensions_mod.by_group(children, by, schools, self.cfg.cohorts)

    # ---- the meeting pack ----

    def meeting_pack(
        self, as_of: date, cohorts: Sequence[str] = (), forum: bool = False, made: datetime | None = None
    ) -> pack_mod.Pack:
        """The monthly meeting pack: aggregates only, for every role; in forum mode (always for the forum role)
        built from the forum's own tables, so it withholds exactly what the pages do."""
        unknown = [c for c in cohorts if c not in self.cfg.cohorts]
        if unknown:
            raise ValueError(f"there is no cohort {unknown[0]!r}: choose from {', '.join(self.cfg.cohorts)}")
        forum = self.forum_mode(forum)
        figures, everyone = self._figures(), Filters(as_of=as_of)
        overviews = [
            (self.cfg.cohorts[c] if c else pack_mod.ALL, self.overview(f, forum))
            for c, f in pack_mod.selections(as_of, list(cohorts))
        ]
        children = views.selected_children(figures, everyone)
        if cohorts:
            children = children.filter(pl.col("cohorts").list.set_intersection(list(cohorts)).list.len() > 0)
        moves = suspension_views.moves_in_window(figures, everyone)
        freshness, matching = self._quality().freshness(), self._quality().matching()  # counts only leave here
        area = out_of_area_mod.view(children, figures.frames.schools, freshness, self.cfg)
        parts = pack_mod.Parts(
            overviews=overviews,
            trends=self.overview(everyone, forum) if cohorts else overviews[0][1],
            children=children,
            moves=moves.join(children.select("upn").drop_nulls(), on="upn", how="semi"),
            out_of_area=out_of_area_mod.for_forum(area) if forum else area,
            quality_text=pack_mod.quality_line(matching, freshness, forum, self.cfg.forum.threshold),
        )
        return pack_mod.build(parts, self.cfg, list(cohorts), forum, made or datetime.now(ZoneInfo(UK_TIME_ZONE)))

    def meeting_pack_file(
        self, suffix: str, as_of: date, cohorts: Sequence[str] = (), forum: bool = False
    ) -> tuple[str, bytes]:
        """The pack as an .html, .pdf or .xlsx file (its name, its bytes), on the audit log as an export."""
        made = self.meeting_pack(as_of, cohorts, forum)
        data = pack_files.pack_bytes(made, suffix, self.cfg.pack.browser)
        name = pack_files.file_name(made, suffix.lower())
        return name, self.export(data, name, made.selection, child_rows=False)

    def set_suspension_notice(self, upn: str, urn: int, start_date: date, category: str, notified: bool) -> None:
        """An officer says, in their own name, whether the child's social worker has been told of a suspension
        (one of their own children); the change goes on the audit log."""
        self.require_child_level("suspensions of named children")
        self._require_real_identities("record who was told of a suspension")
        child = self._figures().frames.children.filter(pl.col("upn") == upn)["la_child_id"]
        if child.is_empty():
            raise AccessDenied("no listed child holds that UPN")
        self._require_mine(child[0])
        self.store.set_suspension_notice(upn, urn, start_date, category, child[0], notified, self.user.name)
        told = suspension_views.NOTIFIED_WORDS[notified].lower()
        self._audit(auth.SUSPENSION_NOTICE, child[0], f"{category} from {start_date:%d/%m/%Y} at URN {urn}: {told}")


@contextmanager
def _uploaded(name: str, data: bytes) -> Iterator[Path]:
    """An uploaded file on disk under its own name (the load log records the name), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vsdash-upload-") as folder:
        path = Path(folder) / (Path(name).name or "upload.csv")
        path.write_bytes(data)
        yield path
