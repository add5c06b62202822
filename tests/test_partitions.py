"""The marks and the week summary partitioned by academic year on PostgreSQL: spans worked out by hand,
partitions made as loads reach a year, a year's read touching one partition, and older stores kept."""

import dataclasses
from datetime import date

import polars as pl
import pytest
from sqlalchemy import text

from tests.conftest import postgres_url_or_skip
from vsdash.ingest import ingest_file
from vsdash.store import Store
from vsdash.store.partitions import academic_years, ensure_partitions, uncovered
from vsdash.store.schema import attendance

A = "B801200005001"
B = "Q801200005002"

# Three academic years: 2024/25 (July), 2025/26 (September and a day in August 2026), 2026/27.
MARKS = f"""
UPN,URN,Date,AM,PM
{A},123456,2025-07-15,/,\\
{B},123456,2025-07-15,N,N
{A},123456,2025-09-02,/,\\
{B},123456,2025-09-02,I,I
{A},123456,2026-08-28,/,\\
{A},123456,2026-09-07,/,\\
"""


def test_academic_years_run_from_the_year_start_to_the_next(cfg):
    # 1 September by default: 15/07/2025 is in 2024/25, 07/09/2026 in 2026/27.
    assert academic_years(date(2025, 7, 15), date(2026, 9, 7), cfg) == [
        (date(2024, 9, 1), date(2025, 9, 1)),
        (date(2025, 9, 1), date(2026, 9, 1)),
        (date(2026, 9, 1), date(2027, 9, 1)),
    ]
    assert academic_years(date(2025, 9, 1), date(2025, 9, 1), cfg) == [(date(2025, 9, 1), date(2026, 9, 1))]


def test_uncovered_leaves_only_the_gaps():
    year = (date(2025, 8, 1), date(2026, 8, 1))
    assert uncovered(year, []) == [year]
    assert uncovered(year, [(date(2025, 9, 1), date(2026, 9, 1))]) == [(date(2025, 8, 1), date(2025, 9, 1))]
    assert uncovered(year, [(date(2024, 9, 1), date(2025, 9, 1))]) == [(date(2025, 9, 1), date(2026, 8, 1))]
    assert uncovered(year, [(date(2024, 9, 1), date(2027, 9, 1))]) == []
    # A partition inside the year splits what is left in two.
    assert uncovered(year, [(date(2025, 10, 1), date(2025, 11, 1))]) == [
        (date(2025, 8, 1), date(2025, 10, 1)),
        (date(2025, 11, 1), date(2026, 8, 1)),
    ]


@pytest.fixture
def pg_store():
    """A fresh PostgreSQL store in the current (partitioned) shape."""
    s = Store(postgres_url_or_skip(), create=False)
    s.drop_schema()
    s.create_schema()
    yield s
    s.drop_schema()
    s.create_schema()
    s.dispose()


def partitions(store: Store, table: str) -> dict[str, int]:
    """Each partition of `table` with the rows it holds."""
    with store.engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"
            ),
            {"t": table},
        ).scalars()
        return {n: conn.execute(text(f'SELECT count(*) FROM ONLY "{n}"')).scalar_one() for n in names}


def test_loads_make_a_partition_per_academic_year(pg_store, write, cfg):
    result = ingest_file(pg_store, write("attendance.csv", MARKS), cfg)
    assert result.counts.rows_loaded == 6
    assert partitions(pg_store, "attendance") == {
        "attendance_20240901": 2,
        "attendance_20250901": 3,
        "attendance_20260901": 1,
    }
    # Weeks start on Mondays: the week of 07/09/2026 starts 07/09/2026; of 28/08/2026, 24/08/2026 (2025/26).
    assert partitions(pg_store, "attendance_weeks") == {
        "attendance_weeks_20240901": 2,
        "attendance_weeks_20250901": 3,
        "attendance_weeks_20260901": 1,
    }
    # Loading the same rows again (a corrected file) makes no new partition and changes no count.
    ingest_file(pg_store, write("attendance_again.csv", MARKS.replace("N,N", "I,I")), cfg)
    assert sum(partitions(pg_store, "attendance").values()) == 6
    assert pg_store.marks(date(2025, 7, 1), date(2025, 7, 31)).height == 2


def test_a_years_read_touches_one_partition(pg_store, write, cfg):
    ingest_file(pg_store, write("attendance.csv", MARKS), cfg)
    query = text("EXPLAIN SELECT count(*) FROM attendance WHERE date >= :low AND date < :high")
    with pg_store.engine.connect() as conn:
        plan = "\n".join(conn.execute(query, {"low": date(2025, 9, 1), "high": date(2026, 9, 1)}).scalars())
    assert "attendance_20250901" in plan
    assert "attendance_20240901" not in plan and "attendance_20260901" not in plan


def test_the_summary_made_anew_gets_its_partitions_again(pg_store, write, cfg):
    ingest_file(pg_store, write("attendance.csv", MARKS), cfg)
    other_codes = dataclasses.replace(cfg, code_category={**cfg.code_category, "N": "authorised"})
    assert pg_store.ensure_weeks(other_codes)  # another code table: the summary is rebuilt
    assert sum(partitions(pg_store, "attendance_weeks").values()) == 6


def test_another_year_start_fills_the_gaps_without_overlap(pg_store, cfg):
    august = dataclasses.replace(cfg, year_start_month=8, year_start_day=1)
    with pg_store.engine.begin() as conn:
        assert ensure_partitions(conn, attendance, pl.Series([date(2025, 9, 2), date(2025, 9, 2)]), cfg) == 1
        # 01/08/2025 to 01/08/2026 under the new start: the part before 01/09/2025 is the only gap.
        assert ensure_partitions(conn, attendance, pl.Series([date(2025, 8, 4), date(2025, 9, 2)]), august) == 1
        assert ensure_partitions(conn, attendance, pl.Series([date(2025, 8, 4), date(2025, 9, 2)]), august) == 0
    assert set(partitions(pg_store, "attendance")) == {"attendance_20250801", "attendance_20250901"}


def test_a_store_made_before_partitioning_is_kept_as_it_is(pg_store, write, cfg):
    with pg_store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE attendance")
        conn.exec_driver_sql(
            "CREATE TABLE attendance (upn VARCHAR(13), date DATE, urn INTEGER, am VARCHAR(2), pm VARCHAR(2), "
            "la_child_id VARCHAR(40), load_id INTEGER, PRIMARY KEY (upn, date, urn))"
        )
    assert ingest_file(pg_store, write("attendance.csv", MARKS), cfg).counts.rows_loaded == 6
    assert partitions(pg_store, "attendance") == {}
