"""`python -m vsdash`: the same functions the dashboard uses, with files in and out."""

from __future__ import annotations

import argparse
import calendar
import contextlib
import getpass
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from vsdash import auth, export, failures, metrics, pack_files, privacy, suspension_views
from vsdash import schools as schools_mod
from vsdash import suspensions as suspensions_mod
from vsdash.access import DataAccess
from vsdash.config import ROLES, Config, ConfigError, load_config
from vsdash.feeds import KINDS
from vsdash.filters import Filters
from vsdash.glossary import headed
from vsdash.inbox import SETTLE_SECONDS, Inbox, progress_line
from vsdash.ingest import feed_files, ingest_files
from vsdash.store import Store

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A command given something it cannot use (an argument, a path): one line, exit 2."""


def _date(text: str) -> date:
    """argparse type for YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _open(args: argparse.Namespace, cfg: Config | None = None) -> tuple[Config, Store]:
    """Configuration and store for a command; --db wins over the configuration."""
    cfg = cfg or load_config(args.config)
    return cfg, Store(args.db or cfg.database_url)


def cmd_init(args: argparse.Namespace) -> int:
    """Create the schema."""
    _cfg, store = _open(args)
    print(f"schema ready at {store.engine.url.render_as_string(hide_password=True)}")
    return 0


def _audit(store: Store, event: str, detail: str) -> None:
    """One audit entry in the name of whoever runs the command (the data's administrator)."""
    who = auth.command_line_user()
    store.audit(event, who.name, who.role, detail=detail)


def expand_paths(items: Sequence[str]) -> list[Path]:
    """Files as given; a folder stands for the feed files inside it, in load order."""
    out: list[Path] = []
    for item in items:
        path = Path(item)
        out.extend(feed_files(path) if path.is_dir() else [path])
    return out


def cmd_ingest(args: argparse.Namespace) -> int:
    """Load files; exit non-zero when any file could not be read at all."""
    cfg, store = _open(args)
    failed = 0

    def progress(n: int, total: int, name: str) -> None:
        print(progress_line(n, total, name), file=sys.stderr, flush=True)

    for result in ingest_files(store, expand_paths(args.files), cfg, args.kind, progress):
        print(result.summary(), flush=True)
        if result.status == "loaded":  # what changed the data (a failure is on the load log, when it can be)
            _audit(store, auth.LOADED, result.summary())
        failed += result.status == "failed"
    return 1 if failed else 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Load every file dropped into a folder as it arrives; --once empties the folder and exits."""
    cfg, store = _open(args)
    inbox = Inbox(Path(args.folder), store, cfg, settle=args.settle)
    if args.once:
        results = inbox.run_once()
        return 1 if any(r.status == "failed" for r in results) else 0
    with contextlib.suppress(KeyboardInterrupt):
        inbox.watch()
    return 0


def cmd_loads(args: argparse.Namespace) -> int:
    """Print the load log as CSV."""
    _cfg, store = _open(args)
    sys.stdout.write(export.csv_text(store.load_log_frame().drop("id")))
    return 0


def cmd_rejected(args: argparse.Namespace) -> int:
    """Print rejected rows as CSV."""
    _cfg, store = _open(args)
    frame = store.rejected_frame(args.file).select("file", "line", "column", "reason", "raw", "outcome")
    sys.stdout.write(export.csv_text(frame))
    return 0


# The per-child export's columns, in order (issue 3).
METRICS_COLUMNS = [
    "upn",
    "la_child_id",
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
    "attendance_pct",
    "persistent_absence",
    "severe_absence",
    "suspensions",
    "suspension_sessions",
    "permanent_exclusions",
    "school_urn",
    "out_of_area",
]


def output_path(out: str, default_name: str) -> Path:
    """Where --out writes: a .csv or .xlsx file in a folder that exists, or an existing folder (the file is
    then named by the selection and as-at date). Checked before any work, so a typo costs nothing."""
    path = Path(out)
    if path.is_dir():
        return path / default_name
    return _file_to_write(out, export.SUFFIXES, "a .csv or .xlsx file, or an existing folder")


def _file_to_write(out: str, suffixes: Sequence[str], wanted: str) -> Path:
    """--out as a file of a kind the command writes, in a folder that exists."""
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise UsageError(f"--out {out}: name {wanted}")
    if not path.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {path.parent} does not exist; create it first or choose another")
    return path


def cmd_metrics(args: argparse.Namespace) -> int:
    """Per-child figures for a window, as CSV on stdout or a CSV/XLSX file."""
    if args.start and args.start > args.as_of:
        raise UsageError(f"--from {args.start} is after --as-of {args.as_of}")
    cfg = load_config(args.config)
    if args.cohort and args.cohort not in cfg.cohorts:
        raise UsageError(f"unknown cohort {args.cohort!r}; use one of {', '.join(cfg.cohorts)}")
    window = metrics.window_for(cfg, args.as_of, args.start)
    selection = export.selection_parts(Filters(as_of=window.as_of, start=window.start, cohort=args.cohort))
    out = output_path(args.out, export.file_name("attendance_per_child", selection, ".csv")) if args.out else None
    _, store = _open(args, cfg)
    key = privacy.key_from_file() if cfg.access.pseudonymise else None
    access = DataAccess(store, cfg, auth.command_line_user(), pseudonymiser=privacy.Pseudonymiser(key) if key else None)
    table = (
        access.per_child(window, cohort=args.cohort)
        .select(METRICS_COLUMNS)
        .with_columns(pl.col("attendance_pct").round(1))
        .sort("la_child_id")
    )
    about = [
        f"{cfg.authority_name}: attendance per child",
        f"cohort {args.cohort or 'all children'}, from {window.start} to {window.as_of}",
    ]
    if out:
        export.write_table(table, out, about)
        print(f"wrote {table.height} children to {out}")
    else:
        sys.stdout.write(export.csv_text(table))
    return 0


def cmd_report_schools(args: argparse.Namespace) -> int:
    """The Schools page's table as CSV or XLSX; --forum applies exactly the page's suppression (the door's)."""
    cfg = load_config(args.config)
    if args.cohort and args.cohort not in cfg.cohorts:
        raise UsageError(f"unknown cohort {args.cohort!r}; use one of {', '.join(cfg.cohorts)}")
    filters = Filters(as_of=args.as_of, cohort=args.cohort)
    name = "schools_forum" if args.forum else "schools"
    out = output_path(args.out, export.file_name(name, export.selection_parts(filters), ".csv"))
    _, store = _open(args, cfg)
    access = DataAccess(store, cfg, auth.command_line_user())
    table = access.schools(filters, forum=args.forum)
    shown = schools_mod.shown_schools(table, schools_mod.SchoolChoice())
    about = [
        f"{cfg.authority_name}: schools",
        f"cohort {args.cohort or 'all children'}, as at {args.as_of:%d/%m/%Y}",
        f"forum mode: counts from 1 to {cfg.forum.threshold - 1} withheld as c" if args.forum else "all figures",
    ]
    headed_table = headed(shown)
    xlsx = out.suffix.lower() == ".xlsx"
    data = export.xlsx_bytes(headed_table, about, sheet=name) if xlsx else export.csv_bytes(headed_table)
    # Through the door, as the page's downloads go: no child rows, and the export on the audit log.
    out.write_bytes(access.export(data, out.name, "; ".join(about), child_rows=False))
    print(f"wrote {shown.height} schools to {out}")
    return 0


def _add_report_schools(report: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """`report schools`: the Schools table to a file."""
    p = report.add_parser("schools", parents=[common], help="the Schools page's table as CSV or XLSX")
    p.add_argument("--as-of", type=_date, required=True, dest="as_of", help="YYYY-MM-DD")
    p.add_argument("--cohort", help="only children in this cohort as at --as-of (e.g. CLA)")
    p.add_argument("--forum", action="store_true", help="forum mode: small numbers withheld as c, as on the page")
    p.add_argument("--out", required=True, help="FILE.csv or FILE.xlsx, or a folder (the file named by the selection)")
    p.set_defaults(func=cmd_report_schools)


def cmd_pack(args: argparse.Namespace) -> int:
    """The monthly meeting pack as HTML, PDF or XLSX; --forum applies exactly the forum mode's suppression."""
    cfg = load_config(args.config)
    out = _file_to_write(args.out, pack_files.SUFFIXES, f"a file ending in {', '.join(pack_files.SUFFIXES)}")
    cohorts = args.cohort or []
    unknown = [c for c in cohorts if c not in cfg.cohorts]
    if unknown:
        raise UsageError(f"unknown cohort {unknown[0]!r}; use one of {', '.join(cfg.cohorts)}")
    _, store = _open(args, cfg)
    try:
        _name, data = _door(store, cfg).meeting_pack_file(out.suffix, args.as_of, cohorts, forum=args.forum)
    except pack_files.PackError as exc:
        raise UsageError(str(exc)) from None
    export.write_whole(out, data)
    print(f"wrote the {'forum ' if args.forum else ''}meeting pack as at {args.as_of:%d/%m/%Y} to {out}")
    return 0


def _add_pack(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """`pack`: the monthly meeting pack to a file."""
    p = sub.add_parser("pack", parents=[common], help="the monthly meeting pack as HTML, PDF or XLSX")
    p.add_argument("--as-of", type=_date, required=True, dest="as_of", help="YYYY-MM-DD")
    p.add_argument(
        "--cohort", action="append", metavar="COHORT", help="a cohort to report on (repeat for more; default: all)"
    )
    p.add_argument("--forum", action="store_true", help="a forum pack: small numbers withheld as c, as forum mode")
    p.add_argument("--out", required=True, help="FILE.html, FILE.pdf or FILE.xlsx")
    p.set_defaults(func=cmd_pack)


# ---- reports ----------------------------------------------------------------------------------------------

# `report moves`' columns: the moves list without names (the per-child export's habit: identifiers only).
MOVES_REPORT_COLUMNS = [c for c in suspension_views.MOVES_COLUMNS if c != "child"]


def _report_date(text: str | None, option: str) -> date | None:
    """A report's date option, or one line saying what is wrong with it (exit 2)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD, such as 2026-02-13") from None


def _report_window(args: argparse.Namespace, cfg: Config) -> metrics.Window:
    """The report's window from --as-of and --from (the academic year's start by default)."""
    as_of = _report_date(args.as_of, "--as-of")
    start = _report_date(args.start, "--from")
    assert as_of is not None  # argparse requires --as-of
    if start and start > as_of:
        raise UsageError(f"--from {start} is after --as-of {as_of}")
    return metrics.window_for(cfg, as_of, start)


def _door(store: Store, cfg: Config) -> DataAccess:
    """The command line's door to the data: the administrator's, pseudonymised when the configuration says so."""
    key = privacy.key_from_file() if cfg.access.pseudonymise else None
    return DataAccess(store, cfg, auth.command_line_user(), pseudonymiser=privacy.Pseudonymiser(key) if key else None)


def _write_report(table: pl.DataFrame, out: Path, about: list[str], what: str) -> None:
    """Write a report by its suffix and say so."""
    export.write_table(table, out, about)
    print(f"wrote {table.height} {what} to {out}")


def cmd_report_suspensions(args: argparse.Namespace) -> int:
    """Suspension and exclusion rates for every known child in a window, all together (`All`) and by group."""
    cfg = load_config(args.config)
    window = _report_window(args, cfg)
    out = output_path(args.out, "suspensions.csv")
    _, store = _open(args, cfg)
    rates = _door(store, cfg).suspension_rates(window, args.by)
    table = rates.with_columns(pl.col("suspension_rate", "one_or_more_rate", "permanent_exclusion_rate").round(2))
    about = [
        f"{cfg.authority_name}: suspensions and permanent exclusions",
        f"{'by ' + args.by + ', ' if args.by else ''}from {window.start} to {window.as_of}",
    ]
    _write_report(table.select(suspensions_mod.REPORT_COLUMNS), out, about, "rows")
    return 0


def cmd_report_moves(args: argparse.Namespace) -> int:
    """The school moves of every listed child in a window, with the suspension before each."""
    cfg = load_config(args.config)
    window = _report_window(args, cfg)
    out = output_path(args.out, "moves.csv")
    _, store = _open(args, cfg)
    filters = Filters(as_of=window.as_of, start=window.start)
    table = _door(store, cfg).moves(filters).select(MOVES_REPORT_COLUMNS).sort("move_date", "la_child_id")
    about = [f"{cfg.authority_name}: school moves", f"from {window.start} to {window.as_of}"]
    _write_report(table, out, about, "moves")
    return 0


def _add_report_suspensions(reports: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """`report suspensions` and `report moves`."""
    for name, what, func in [
        ("suspensions", "suspension and exclusion rates, all children and by group", cmd_report_suspensions),
        ("moves", "the school moves in the window", cmd_report_moves),
    ]:
        p = reports.add_parser(name, parents=[common], help=f"{what}, as CSV or XLSX")
        p.add_argument("--as-of", required=True, dest="as_of", metavar="DATE", help="YYYY-MM-DD")
        p.add_argument(
            "--from", dest="start", metavar="DATE", help="window start (default: 1 September before --as-of)"
        )
        if name == "suspensions":
            p.add_argument(
                "--by", choices=list(suspensions_mod.GROUPINGS), help="a row per cohort, school, locality or team"
            )
        p.add_argument("--out", required=True, help="FILE.csv or FILE.xlsx, or a folder")
        p.set_defaults(func=func)


# ---- users ------------------------------------------------------------------------------------------------

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@'-]{0,99}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _listed(text: str | None, what: str, numbers: bool = False) -> list:
    """A comma-separated option as a list (URNs as whole numbers)."""
    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    if numbers:
        if bad := [t for t in items if not re.fullmatch(r"[0-9]{6}", t)]:
            raise UsageError(f"--{what} {bad[0]!r}: a school is named by its 6-digit URN, such as 123456")
        return [int(t) for t in items]
    return items


def _new_password(name: str) -> str:
    """The password: asked for twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("The same password again: ") != password:
            raise UsageError("the two passwords differ; nothing was changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        auth.check_new_password(password)
    except ValueError as exc:
        raise UsageError(f"{exc}; nothing was changed") from None
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add a user who signs in with a password, or (--sso-only) through the organisation's identity provider."""
    if not USER_NAME.fullmatch(args.name):
        raise UsageError(f"username {args.name!r}: use letters, digits, spaces and . _ @ ' - (up to 100 characters)")
    email = args.email.strip().lower() if args.email else None
    if email is not None and not EMAIL.fullmatch(email):
        raise UsageError(f"--email {args.email!r} is not an e-mail address")
    if args.sso_only and email is None:
        raise UsageError("--sso-only needs --email: single sign-on finds the user by the e-mail the provider gives")
    limits = {
        "teams": _listed(args.teams, "teams"),
        "schools": _listed(args.schools, "schools", numbers=True),
        "localities": _listed(args.localities, "localities"),
    }
    _cfg, store = _open(args)
    if store.account(name=args.name) is not None:
        raise UsageError(f"a user named {args.name!r} already exists; `user reset {args.name}` sets a new password")
    password_hash = None if args.sso_only else auth.hash_password(_new_password(args.name))
    try:
        store.add_user(args.name, args.role, email=email, password_hash=password_hash, **limits)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _audit(store, auth.USER_ADDED, f"{args.name} as {args.role}")
    print(f"added {args.name} ({args.role})")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """Print the users as CSV (no password hashes)."""
    _cfg, store = _open(args)
    sys.stdout.write(export.csv_text(store.users_frame()))
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    """Remove a user: they cannot sign in again (their entries on the audit log stay)."""
    _cfg, store = _open(args)
    if not store.remove_user(args.name):
        raise UsageError(f"no user named {args.name!r}; `user list` shows them")
    _audit(store, auth.USER_REMOVED, args.name)
    print(f"removed {args.name}")
    return 0


def cmd_user_reset(args: argparse.Namespace) -> int:
    """Set a new password, which also unlocks the account."""
    _cfg, store = _open(args)
    if store.account(name=args.name) is None:
        raise UsageError(f"no user named {args.name!r}; `user list` shows them")
    store.set_password(args.name, auth.hash_password(_new_password(args.name)))
    _audit(store, auth.PASSWORD_RESET, args.name)
    print(f"new password set for {args.name}; the account is unlocked")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Print the audit log as CSV, newest first."""
    _cfg, store = _open(args)
    sys.stdout.write(export.csv_text(store.audit_frame(event=args.event, la_child_id=args.child).drop("id")))
    return 0


# ---- retention --------------------------------------------------------------------------------------------

AGE = re.compile(r"([0-9]{1,3})([ym])")


def months_before(day: date, months: int) -> date:
    """The same calendar day `months` months earlier, the month's last day when it has no such day (as
    `cohorts.years_before` does for 29 February)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def retention_months(text: str, cfg: Config, force: bool) -> int:
    """--older-than as months: `6y` or `72m`; below Ever 6's look-back only with --force."""
    found = AGE.fullmatch(text.strip().lower())
    if found is None or int(found.group(1)) == 0:
        raise UsageError(f"--older-than {text!r}: give years or months, such as 6y or 72m")
    months = int(found.group(1)) * (12 if found.group(2) == "y" else 1)
    floor = cfg.thresholds.ever6_years
    if months < floor * 12 and not force:
        raise UsageError(
            f"--older-than {text}: Ever 6 counts a child for {floor} years after their last episode "
            f"(thresholds.ever6_years), so a shorter period removes children the figures still count; "
            f"use {floor}y or more, or add --force"
        )
    return months


def cmd_retention(args: argparse.Namespace) -> int:
    """Remove children whose every cohort episode ended before the cut-off, with everything about them; a
    dry run prints the same counts and changes nothing."""
    cfg = load_config(args.config)
    cut_off = months_before(date.today(), retention_months(args.older_than, cfg, args.force))
    _, store = _open(args, cfg)
    if args.dry_run:
        counts = store.retention_plan(cut_off)
        print(f"dry run: last episode ended before {cut_off}: would remove {counts.summary()}")
        return 0
    who = auth.command_line_user()
    counts = store.remove_before(cut_off, by=(who.name, who.role), note=f" (older than {args.older_than})")
    print(f"last episode ended before {cut_off}: removed {counts.summary()}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Write the synthetic sample authority's feed files."""
    from vsdash.sample import generate

    cfg = load_config(args.config)
    summary = generate(
        Path(args.out),
        children=args.children,
        seed=args.seed,
        start=args.start,
        days=args.days,
        compress=args.gzip,
        config=cfg,
    )
    print(
        f"wrote {len(summary.files)} files for {summary.children:,} children, {summary.school_days} school days "
        f"({summary.first_day} to {summary.last_day}), {summary.attendance_rows:,} attendance rows to {args.out} "
        f"in {summary.seconds:.1f} s"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar; every command takes --db and --config."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="SQLAlchemy database URL (default: the configuration's database.url)")
    common.add_argument("--config", help="configuration file (default: VSDASH_CONFIG or config/vsdash.yaml)")
    parser = argparse.ArgumentParser(prog="python -m vsdash", description="vsdash: virtual school attendance")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", parents=[common], help="create the database schema").set_defaults(func=cmd_init)

    p = sub.add_parser("ingest", parents=[common], help="load feed files (CSV, CSV.GZ or XLSX) or folders")
    p.add_argument("files", nargs="+")
    p.add_argument("--kind", choices=KINDS, help="the feed kind, when the header is not enough")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("watch", parents=[common], help="load feed files dropped into an inbox folder as they arrive")
    p.add_argument("folder", help="the inbox; files move to FOLDER/processed or FOLDER/failed (with NAME.reason.txt)")
    p.add_argument("--once", action="store_true", help="load what is there now, then exit")
    p.add_argument(
        "--settle",
        type=float,
        default=SETTLE_SECONDS,
        help=f"seconds a file must stay unchanged before it loads (default {SETTLE_SECONDS:g})",
    )
    p.set_defaults(func=cmd_watch)

    sub.add_parser("loads", parents=[common], help="print the load log as CSV").set_defaults(func=cmd_loads)

    p = sub.add_parser("rejected", parents=[common], help="print rejected rows as CSV")
    p.add_argument("--file", help="only the rows of this file name")
    p.set_defaults(func=cmd_rejected)

    p = sub.add_parser("metrics", parents=[common], help="per-child attendance figures as CSV or XLSX")
    p.add_argument("--as-of", type=_date, required=True, dest="as_of", help="YYYY-MM-DD")
    p.add_argument("--from", type=_date, dest="start", help="window start (default: 1 September before --as-of)")
    p.add_argument("--cohort", help="only children in this cohort as at --as-of (e.g. CP)")
    p.add_argument(
        "--out",
        help="FILE.csv or FILE.xlsx, or a folder to write a CSV named by the cohort and dates "
        "(default: CSV on standard output)",
    )
    p.set_defaults(func=cmd_metrics)

    reports = sub.add_parser("report", help="the dashboard's tables and reports as CSV or XLSX files").add_subparsers(
        dest="report_command", required=True
    )
    _add_report_schools(reports, common)
    _add_report_suspensions(reports, common)

    p = sub.add_parser("user", help="manage who may sign in")
    users = p.add_subparsers(dest="user_command", required=True)
    p = users.add_parser(
        "add", parents=[common], help="add a user (the password is asked for, or read from standard input)"
    )
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--email", help="the e-mail single sign-on vouches for")
    p.add_argument("--sso-only", action="store_true", help="no password: signs in only through single sign-on")
    p.add_argument("--teams", help="comma-separated: only these social-care teams' children")
    p.add_argument("--schools", help="comma-separated URNs: only these schools' children")
    p.add_argument("--localities", help="comma-separated: only these localities' children")
    p.set_defaults(func=cmd_user_add)
    users.add_parser("list", parents=[common], help="print the users as CSV").set_defaults(func=cmd_user_list)
    p = users.add_parser("remove", parents=[common], help="remove a user")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_remove)
    p = users.add_parser("reset", parents=[common], help="set a new password and unlock the account")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_reset)

    p = sub.add_parser("audit", parents=[common], help="print the audit log as CSV")
    p.add_argument("--event", help="only this kind of entry, e.g. 'child page opened'")
    p.add_argument("--child", help="only the entries about this LA child ID")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser(
        "retention",
        parents=[common],
        help="remove children whose last cohort episode ended longer ago than a period, with all their rows",
    )
    p.add_argument(
        "--older-than",
        required=True,
        dest="older_than",
        metavar="PERIOD",
        help="years or months, such as 6y (Ever 6's look-back, the least allowed without --force) or 72m",
    )
    p.add_argument("--dry-run", action="store_true", dest="dry_run", help="print what would go; change nothing")
    p.add_argument("--force", action="store_true", help="allow a period shorter than thresholds.ever6_years")
    p.set_defaults(func=cmd_retention)

    _add_pack(sub, common)

    p = sub.add_parser("sample", parents=[common], help="write the synthetic sample authority's feed files")
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--children", type=int, default=2500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=_date, help="first school day (default 2025-09-03)")
    p.add_argument("--days", type=int, help="school days to cover (default: to mid-February; 190 = a full year)")
    p.add_argument("--gzip", action="store_true", help="gzip the attendance files")
    p.set_defaults(func=cmd_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Whatever goes wrong is one line on standard error, never a traceback (that goes to
    the log): exit 2 for a mistake in the command or the configuration, 1 for a failed operation, 130 for Ctrl+C."""
    args = build_parser().parse_args(argv)
    log_file = failures.start_log()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ConfigError, UsageError) as exc:
        print(f"{'configuration error: ' if isinstance(exc, ConfigError) else ''}{exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `vsdash loads | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        log.exception("vsdash %s stopped", args.command)
        where = f"details in {log_file}" if log_file else "details could not be logged"
        print(f"vsdash {args.command} stopped: {failures.explain(exc)} ({where})", file=sys.stderr)
        return 2 if failures.is_setup_error(exc) else 1
