"""Cohort membership as at a date, derived cohorts (CWSW, EVER6), and the any-time-in-window option."""

from __future__ import annotations

from datetime import date

import pytest

from vsdash import cohorts
from vsdash.config import load_config
from vsdash.frames import Frames

CFG = load_config()
AS_OF = date(2024, 10, 31)
START = date(2024, 9, 1)


def held(episodes: list[dict], as_of: date = AS_OF, **kwargs) -> set[tuple[str, str]]:
    frame = Frames.build(episodes=episodes).episodes
    return set(cohorts.membership(frame, as_of, CFG, **kwargs).iter_rows())


def ep(cohort: str, start: str, end: str | None = None, child: str = "C1") -> dict:
    return {"la_child_id": child, "cohort": cohort, "start_date": start, "end_date": end}


@pytest.mark.parametrize(
    "episode, in_cohort",
    [
        (ep("CLA", "2024-01-01"), True),  # open
        (ep("CLA", "2024-10-31"), True),  # starts on the as-at date
        (ep("CLA", "2024-11-01"), False),  # starts after it
        (ep("CLA", "2024-01-01", "2024-10-31"), True),  # ends on the as-at date: still in care that day
        (ep("CLA", "2024-01-01", "2024-10-30"), False),  # ended the day before
        (ep("PLAC", "2023-05-01"), True),
    ],
)
def test_as_at(episode, in_cohort):
    assert ((episode["la_child_id"], episode["cohort"]) in held([episode])) is in_cohort


def test_children_with_a_social_worker_are_cin_or_cp():
    out = held(
        [ep("CIN", "2024-01-01", child="A"), ep("CP", "2024-01-01", child="B"), ep("CLA", "2024-01-01", child="C")]
    )
    assert {c for c, k in out if k == "CWSW"} == {"A", "B"}


@pytest.mark.parametrize(
    "episodes, ever6",
    [
        ([ep("CP", "2020-01-01", "2022-06-30")], True),  # plan ended 2 years ago, nothing now
        ([ep("CLA", "2015-01-01", "2018-10-30")], False),  # ended more than 6 years before 31 Oct 2024
        ([ep("CIN", "2015-01-01", "2018-10-31")], True),  # ended exactly 6 years before: within
        ([ep("CP", "2020-01-01", "2022-06-30"), ep("CIN", "2024-01-01")], False),  # on a CIN plan now
        ([ep("EVER6", "2023-09-01")], True),  # explicit episode
        ([ep("PLAC", "2020-01-01", "2022-06-30")], False),  # PLAC is not a social-care plan
        ([ep("CP", "2024-01-01", "2024-10-31")], False),  # plan still covers the as-at date
    ],
)
def test_ever6(episodes, ever6):
    assert (("C1", "EVER6") in held(episodes)) is ever6


def test_several_cohorts_at_once():
    out = held([ep("CLA", "2024-01-01"), ep("CP", "2024-02-01")])
    assert out == {("C1", "CLA"), ("C1", "CP"), ("C1", "CWSW")}


def test_any_time_in_window():
    # CP ends 15 October, nothing after: CP at some time in the window and EVER6 from 16 October.
    episodes = [ep("CP", "2024-03-01", "2024-10-15")]
    assert held(episodes) == {("C1", "EVER6")}
    assert held(episodes, start=START, any_time_in_window=True) == {("C1", "CP"), ("C1", "CWSW"), ("C1", "EVER6")}


def test_any_time_step_down_without_a_gap_is_not_ever6():
    # CP ends 15 October and CIN starts the next day: never without a plan, so never EVER6.
    episodes = [ep("CP", "2024-03-01", "2024-10-15"), ep("CIN", "2024-10-16")]
    assert ("C1", "EVER6") not in held(episodes, start=START, any_time_in_window=True)


def test_any_time_gap_inside_the_window_is_ever6():
    # CLA at the start and at the end, but a week out of care in October (ended 7 Oct, back 14 Oct).
    episodes = [ep("CLA", "2024-01-01", "2024-10-07"), ep("CLA", "2024-10-14")]
    assert ("C1", "EVER6") not in held(episodes)
    assert ("C1", "EVER6") in held(episodes, start=START, any_time_in_window=True)


def test_any_time_needs_a_start():
    with pytest.raises(ValueError):
        held([], any_time_in_window=True)


def test_no_episodes():
    assert held([]) == set()


def test_history_is_dated_and_ordered():
    frame = Frames.build(
        episodes=[ep("CIN", "2024-06-01"), ep("CP", "2024-01-01", "2024-05-31"), ep("CLA", "2024-01-01", child="C2")]
    ).episodes
    out = cohorts.history(frame, "C1", CFG)
    assert out["cohort"].to_list() == ["CP", "CIN"]
    assert out["open"].to_list() == [False, True]
    assert out["label"].to_list() == ["Child protection plan", "Children in need"]


def test_years_before_leap_day():
    assert cohorts.years_before(date(2024, 2, 29), 6) == date(2018, 2, 28)
    assert cohorts.years_before(date(2024, 10, 31), 6) == date(2018, 10, 31)
