"""`python -m bench`: the benchmark's command line (run from the project folder)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bench
from bench.measure import FAILED
from bench.run import Params, run

RESULTS = Path(__file__).resolve().parent / "results.json"


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    p = argparse.ArgumentParser(prog="python -m bench", description=bench.__doc__.split("\n\n")[0])
    p.add_argument("--children", type=int, default=Params.children)
    p.add_argument(
        "--days", type=int, default=Params.days, help="school days in the backfill (one more is the day's feed)"
    )
    p.add_argument("--db", help="SQLAlchemy URL of an empty database (default: a fresh SQLite file in the work folder)")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--skip-pages", action="store_true", help="skip the Streamlit AppTest phase")
    p.add_argument(
        "--repeat", type=int, default=Params.repeat, help="runs per quick measurement (the median is reported)"
    )
    p.add_argument(
        "--cold-repeat",
        type=int,
        default=Params.cold_repeat,
        help="runs per cold start and full store read (slow at scale)",
    )
    p.add_argument("--seed", type=int, default=Params.seed)
    p.add_argument("--work", type=Path, help="keep the feeds, store and parquet here (default: a temp folder, removed)")
    p.add_argument("--wipe", action="store_true", help="drop vsdash's tables in a non-empty --db first")
    p.add_argument(
        "--reuse-store",
        action="store_true",
        help="skip generating and loading: measure reads and pages on the store a previous --work run left",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a target was missed or a measurement failed."""
    a = build_parser().parse_args(argv)
    params = Params(a.children, a.days, max(a.repeat, 1), max(a.cold_repeat, 1), a.seed, a.skip_pages, a.reuse_store)
    rows = run(params, a.out, a.db, a.work, a.wipe)
    return 1 if any(r.status in FAILED for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
