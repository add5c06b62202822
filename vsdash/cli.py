"""`python -m vsdash`: the same functions the dashboard uses, with files in and out."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Sequence

import polars as pl

from vsdash import metrics
from vsdash.access import DataAccess
from vsdash.config import Config, ConfigError, load_config
from vsdash.export import write_table
from vsdash.feeds import KINDS
from vsdash.inbox import SETTLE_SECONDS, Inbox, progress_line
from vsdash.ingest import feed_files, ingest_files
from vsdash.store import Store


def _date(text: str) -> date:
    """argparse type for YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _open(args: argparse.Namespace) -> tuple[Config, Store]:
    """Configuration and store for a command; --db wins over the configuration."""
    cfg = load_config(args.config)
    return cfg, Store(args.db or cfg.database_url)


def cmd_init(args: argparse.Namespace) -> int:
    """Create the schema."""
    _cfg, store = _open(args)
    print(f"schema ready at {store.engine.url.render_as_string(hide_password=True)}")
    return 0


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
        failed += result.status == "failed"
    return 1 if failed else 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Load every file dropped into a folder as it arrives; --once empties the folder and exits."""
    cfg, store = _open(args)
    inbox = Inbox(Path(args.folder), store, cfg, settle=args.settle)
    if args.once:
        results = inbox.run_once()
        return 1 if any(r.status == "failed" for r in results) else 0
    try:
        inbox.watch()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_loads(args: argparse.Namespace) -> int:
    """Print the load log as CSV."""
    _cfg, store = _open(args)
    frame = store.load_log_frame().drop("id")
    sys.stdout.write(frame.write_csv())
    return 0


def cmd_rejected(args: argparse.Namespace) -> int:
    """Print rejected rows as CSV."""
    _cfg, store = _open(args)
    frame = store.rejected_frame(args.file).select("file", "line", "column", "reason", "raw", "outcome")
    sys.stdout.write(frame.write_csv())
    return 0


# The per-child export's columns, in order (issue 3).
METRICS_COLUMNS = [
    "upn", "la_child_id", "possible_sessions", "present_sessions", "aea_sessions", "authorised_sessions",
    "unauthorised_sessions", "attendance_pct", "persistent_absence", "severe_absence", "suspensions",
    "suspension_sessions", "permanent_exclusions", "school_urn", "out_of_area",
]


def cmd_metrics(args: argparse.Namespace) -> int:
    """Per-child figures for a window, as CSV on stdout or a CSV/XLSX file."""
    cfg, store = _open(args)
    if args.cohort and args.cohort not in cfg.cohorts:
        print(f"unknown cohort {args.cohort!r}; use one of {', '.join(cfg.cohorts)}", file=sys.stderr)
        return 2
    if args.start and args.start > args.as_of:
        print(f"--from {args.start} is after --as-of {args.as_of}", file=sys.stderr)
        return 2
    window = metrics.window_for(cfg, args.as_of, args.start)
    access = DataAccess(store, cfg, role="admin")  # the command line is run by the data's administrator
    table = access.per_child(window, cohort=args.cohort).select(METRICS_COLUMNS).with_columns(
        pl.col("attendance_pct").round(1)
    ).sort("la_child_id")
    about = [f"{cfg.authority_name}: attendance per child",
             f"cohort {args.cohort or 'all children'}, from {window.start} to {window.as_of}"]
    if args.out:
        write_table(table, Path(args.out), about)
        print(f"wrote {table.height} children to {args.out}")
    else:
        sys.stdout.write(table.write_csv())
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Write the synthetic sample authority's feed files."""
    from vsdash.sample import generate

    cfg = load_config(args.config)
    summary = generate(Path(args.out), children=args.children, seed=args.seed, start=args.start, days=args.days,
                       compress=args.gzip, config=cfg)
    print(f"wrote {len(summary.files)} files for {summary.children:,} children, {summary.school_days} school days "
          f"({summary.first_day} to {summary.last_day}), {summary.attendance_rows:,} attendance rows to {args.out} "
          f"in {summary.seconds:.1f} s")
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
    p.add_argument("--settle", type=float, default=SETTLE_SECONDS,
                   help=f"seconds a file must stay unchanged before it loads (default {SETTLE_SECONDS:g})")
    p.set_defaults(func=cmd_watch)

    sub.add_parser("loads", parents=[common], help="print the load log as CSV").set_defaults(func=cmd_loads)

    p = sub.add_parser("rejected", parents=[common], help="print rejected rows as CSV")
    p.add_argument("--file", help="only the rows of this file name")
    p.set_defaults(func=cmd_rejected)

    p = sub.add_parser("metrics", parents=[common], help="per-child attendance figures as CSV or XLSX")
    p.add_argument("--as-of", type=_date, required=True, dest="as_of", help="YYYY-MM-DD")
    p.add_argument("--from", type=_date, dest="start", help="window start (default: 1 September before --as-of)")
    p.add_argument("--cohort", help="only children in this cohort as at --as-of (e.g. CP)")
    p.add_argument("--out", help="FILE.csv or FILE.xlsx (default: CSV on standard output)")
    p.set_defaults(func=cmd_metrics)

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
    """Run one command; configuration mistakes print one clear line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
