"""The per-child-week summary: worked out by hand for one week, and kept true by the store on every load."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from sqlalchemy import select, update

from vsdash import weeks
from vsdash.config import load_config
from vsdash.frames import MARKS_SCHEMA, Frames
from vsdash.ingest import ingest_file
from vsdash.store import store_meta
from vsdash.store.schema import attendance, attendance_weeks

CFG = load_config()
A, B = "B801200005001", "Q801200005002"
MON = date(2025, 9, 8)


def day(n: int) -> date:
    return date(2025, 9, 8 + n)


# One week of A's: present Mon; unauthorised Tue; ill Wed; not a possible session Thu; unauthorised Fri.
WEEK = pl.DataFrame(
    [
        (A, 100001, day(0), "/", "\\"),
        (A, 100001, day(1), "N", "O"),
        (A, 100001, day(2), "I", "I"),
        (A, 100001, day(3), "X", "X"),
        (A, 100001, day(4), "O", "O"),
    ],
    schema=MARKS_SCHEMA,
    orient="row",
)


def test_a_week_by_hand():
    row = weeks.summarise(WEEK, CFG).row(0, named=True)
    assert (row["upn"], row["week_start"]) == (A, MON)
    assert (row["present_sessions"], row["aea_sessions"], row["authorised_sessions"], row["unauthorised_sessions"]) == (
        2,
        0,
        2,
        4,
    )
    assert row["days"] == 0b11111
    assert (row["school_date"], row["school_urn"]) == (day(4), 100001)
    # Runs: Tue, Wed and Fri were wholly absent after Mon (Thu X neither breaks nor extends the run).
    assert (row["last_attended"], row["absent_days_after"]) == (day(0), 3)
    # Unauthorised: Wed (illness) broke that run; Fri alone follows it.
    assert (row["last_not_unauthorised"], row["unauthorised_days_after"]) == (day(2), 1)
    assert row["part_time_days"] == 0


def test_a_week_cut_by_a_window():
    # From Wednesday: Mon and Tue count for the last mark and the school only.
    row = weeks.summarise(WEEK, CFG, start=day(2), as_of=day(4)).row(0, named=True)
    assert (row["present_sessions"], row["authorised_sessions"], row["unauthorised_sessions"]) == (0, 2, 2)
    assert (row["last_attended"], row["absent_days_after"]) == (None, 2)
    assert row["days"] == 0b11111
    # Up to Tuesday: nothing after it counts at all.
    row = weeks.summarise(WEEK, CFG, as_of=day(1)).row(0, named=True)
    assert (row["present_sessions"], row["unauthorised_sessions"], row["days"], row["school_date"]) == (
        2,
        2,
        0b11,
        day(1),
    )


def test_the_calendar_and_last_mark_come_from_the_day_bits():
    summary = weeks.summarise(
        pl.concat(
            [
                WEEK,
                WEEK.with_columns(upn=pl.lit(B), date=pl.col("date") + pl.duration(days=7)).filter(
                    pl.col("date") <= day(9)
                ),
            ]
        ),
        CFG,
    )
    assert weeks.calendar(summary).to_list() == [day(n) for n in (0, 1, 2, 3, 4, 7, 8, 9)]
    assert summary.sort("upn").select(weeks.last_mark_date()).to_series().to_list() == [day(4), day(9)]


def test_a_window_cuts_only_weeks_with_school_days_outside_it():
    days = pl.Series([day(n) for n in (0, 1, 2, 3, 4, 7, 8)])
    assert weeks.cut_weeks(days, day(0), day(8)) == []  # Monday start, last day of data
    assert weeks.cut_weeks(days, day(2), day(4)) == [MON]  # starts on the Wednesday
    assert weeks.cut_weeks(days, day(0), day(7)) == [day(7)]  # ends before the Tuesday's marks


def test_frames_without_day_rows_say_so():
    frames = Frames.build()
    with pytest.raises(ValueError, match="no day rows"):
        Frames(
            marks=None,
            children=frames.children,
            episodes=frames.episodes,
            schools=frames.schools,
            suspensions=frames.suspensions,
        ).days()


def csv(rows: list[tuple]) -> str:
    return "UPN,URN,Date,AM,PM\n" + "".join(f"{u},{urn},{d},{am},{pm}\n" for u, urn, d, am, pm in rows)


def stored_and_recomputed(store) -> tuple[list, list]:
    """The store's summary, and the summary worked out afresh from every stored mark."""
    order = ["upn", "week_start"]
    return store.weeks_frame().sort(order).rows(), weeks.summarise(store.marks(), CFG).sort(order).rows()


def test_the_store_keeps_the_summary_true_through_loads_and_corrections(store, write, cfg):
    ingest_file(store, write("mon.csv", csv([(A, 100001, day(0), "/", "\\"), (B, 100001, day(0), "N", "N")])), cfg)
    ingest_file(
        store,
        write(
            "tue.csv",
            csv([(A, 100001, day(1), "N", "N"), (B, 100001, day(1), "/", "\\"), (A, 100001, day(7), "/", "\\")]),
        ),
        cfg,
    )
    # A corrected file for one child, and a second school sending a D (dual registration) for the same day.
    ingest_file(store, write("fix.csv", csv([(A, 100001, day(1), "I", "I"), (A, 100002, day(1), "D", "D")])), cfg)
    stored, recomputed = stored_and_recomputed(store)
    assert stored == recomputed
    a_week = store.weeks_frame().filter((pl.col("upn") == A) & (pl.col("week_start") == MON)).row(0, named=True)
    assert (a_week["authorised_sessions"], a_week["unauthorised_sessions"], a_week["school_date"]) == (2, 0, day(1))
    assert store.weeks_frame().height == 3  # A twice (two weeks), B once


def test_the_fast_reads_give_what_plain_sql_gives(store, write, cfg):
    """The dashboard's large reads (SQLite: ADBC in a child process; PostgreSQL: ADBC's COPY) give the rows,
    types and order SQLAlchemy's own rows give: A and B fall either side of the child process's UPN split."""
    sent = [(A, 100001, day(0), "/", "\\"), (A, 100002, day(1), "N", ""), (B, 100001, day(0), "N", "O")]
    ingest_file(store, write("mon.csv", csv([*sent, (B, 100001, day(7), "/", "/")])), cfg)
    summary = select(*[attendance_weeks.c[c] for c in weeks.WEEKS_SCHEMA])
    order = ["upn", "week_start"]
    fast_weeks, fast_marks = store.weeks_frame(), store.marks()  # each a child process on SQLite
    assert_frame_equal(fast_weeks.sort(order), store.read(summary, weeks.WEEKS_SCHEMA).sort(order))
    assert fast_weeks.height == 3
    marks = select(*[attendance.c[c] for c in MARKS_SCHEMA]).order_by(attendance.c.upn, attendance.c.date)
    assert_frame_equal(fast_marks, store.read(marks, MARKS_SCHEMA))
    assert fast_marks["am"].to_list() == ["/", "N", "N", "/"] and fast_marks["pm"][1] is None


def test_a_summary_made_under_other_code_categories_is_made_again(store, write, cfg):
    ingest_file(store, write("mon.csv", csv([(A, 100001, day(0), "/", "\\"), (B, 100001, day(0), "N", "N")])), cfg)
    assert store.ensure_weeks(cfg) is False
    with store.engine.begin() as conn:
        conn.execute(update(store_meta).where(store_meta.c.key == "weeks").values(value="an older configuration"))
        conn.exec_driver_sql("DELETE FROM attendance_weeks WHERE upn = 'B801200005001'")
    assert store.ensure_weeks(cfg) is True
    stored, recomputed = stored_and_recomputed(store)
    assert stored == recomputed and len(stored) == 2


def test_a_load_touching_few_children_over_many_weeks(store, write, cfg):
    # A school's corrected term touches few children: their rows are re-read by UPN, not the whole span.
    ingest_file(
        store, write("all.csv", csv([(u, 100001, day(n), "/", "\\") for u in (A, B) for n in (0, 7, 14, 21)])), cfg
    )
    ingest_file(store, write("fix.csv", csv([(A, 100001, day(n), "O", "O") for n in (0, 21)])), cfg)
    stored, recomputed = stored_and_recomputed(store)
    assert stored == recomputed
    assert store.weeks_frame().filter(pl.col("upn") == A).sort("week_start")["unauthorised_sessions"].to_list() == [
        2,
        0,
        0,
        2,
    ]


def test_days_feeds_through_a_move_keep_the_summary_true(store, write, cfg):
    # Each day's feed adds to the stored week; a week that has had two schools is worked out from its days.
    for name, urn, n in (
        ("mon.csv", 100001, 0),
        ("tue.csv", 100002, 1),
        ("wed.csv", 100001, 2),
        ("thu.csv", 100002, 3),
    ):
        ingest_file(store, write(name, csv([(A, urn, day(n), "/", "\\"), (B, 100001, day(n), "N", "/")])), cfg)
    stored, recomputed = stored_and_recomputed(store)
    assert stored == recomputed
    a_week = store.weeks_frame().filter(pl.col("upn") == A).row(0, named=True)
    assert (a_week["schools"], a_week["school_date"], a_week["school_urn"], a_week["days"]) == (
        2,
        day(3),
        100002,
        0b1111,
    )


# ---- a new day added to the stored summary, without the stored day rows ---------------------------------

WEEK_DAYS = [day(n) for n in (0, 1, 2, 3, 4, 7, 8, 9)]  # two school weeks
ANY_CODE = [*sorted(CFG.code_category), None]
a_child_days = st.lists(
    st.tuples(
        st.sampled_from(WEEK_DAYS),
        st.sampled_from([100001, 100002, 100003]),  # a move, or a dual place on the same day
        st.sampled_from(ANY_CODE),
        st.sampled_from(["/", "D", "C2", "N", "X", None]),
    ),
    max_size=10,
    unique_by=lambda t: (t[0], t[1]),
)


def marks_of(children: list[list[tuple]]) -> pl.DataFrame:
    """Day rows of several children (a row with neither session is not a mark: the feeds reject it)."""
    rows = [(f"U{i}", urn, d, am, pm) for i, marks in enumerate(children) for d, urn, am, pm in marks if am or pm]
    return pl.DataFrame(rows, schema=MARKS_SCHEMA, orient="row")


@settings(max_examples=120, deadline=None)
@given(st.lists(a_child_days, max_size=6), st.data())
def test_new_days_added_to_the_stored_summary_are_the_summary_of_every_day(children, data):
    marks = marks_of(children)
    new = marks.filter(pl.Series([data.draw(st.booleans()) for _ in range(marks.height)], dtype=pl.Boolean))
    stored = marks.join(new, on=["upn", "date", "urn"], how="anti")
    rows, unsure = weeks.with_new_days(weeks.summarise(stored, CFG), new, CFG)
    expected = weeks.summarise(marks, CFG).join(rows.select("upn", "week_start"), on=["upn", "week_start"], how="semi")
    assert_frame_equal(rows.sort("upn", "week_start"), expected.sort("upn", "week_start"), check_dtypes=True)
    # Every child-week of the new days is worked out or handed back, and handed back only for two schools.
    touched = new.select("upn", week_start=pl.col("date").dt.truncate("1w")).unique()
    assert rows.height + unsure.height == touched.height
    several = weeks.summarise(stored, CFG).filter(pl.col("schools") > 1).select("upn", "week_start")
    several = pl.concat([several, weeks.summarise(new, CFG).filter(pl.col("schools") > 1).select("upn", "week_start")])
    assert unsure.join(several, on=["upn", "week_start"], how="anti").is_empty()
