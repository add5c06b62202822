"""Retention on hand-made feeds, loaded as an authority loads them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from vsdash import aliases, auth
from vsdash import weeks as weeks_mod
from vsdash.cli import main, months_before
from vsdash.identifiers import with_check_letter
from vsdash.ingest import ingest_file
from vsdash.store import Store

TODAY = date.today()
CUT_OFF = months_before(TODAY, 72)
MONDAY = weeks_mod.monday(TODAY) - timedelta(weeks=1)  # last week: every day of it is in the past
WEEK = [MONDAY + timedelta(days=d) for d in range(5)]

OLD, RECENT, MIXED = "100234", "1002345", "100299"  # RECENT holds OLD inside a longer value
UPN_OLD, UPN_RECENT, UPN_MIXED = (with_check_letter(f"80120000{n:04d}") for n in (501, 502, 503))
ALIAS_OLD = with_check_letter("801200009999")  # a school's UPN confirmed as OLD's
URN = "123456"


def _years_ago(years: int, days: int = 0) -> str:
    """A date some years (and days) before today, as a feed writes it."""
    return (months_before(TODAY, 12 * years) - timedelta(days=days)).isoformat()


def load(store: Store, write, cfg) -> None:
    """Three children: OLD left care 7 years ago, RECENT 5 years ago, MIXED has an 8-year-old episode and an
    open one; marks, suspensions, an action, a confirmed match and rejected rows for each."""
    dob = _years_ago(12)
    children = write(
        "children.csv",
        "\n".join(
            [
                "LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date,End Date,Social Worker,Team,Locality",
                f"{OLD},{UPN_OLD},Jo,Bloggs,{dob},CIN,{_years_ago(9)},{_years_ago(7)},Sam Lee,North,North",
                f"{OLD},{UPN_OLD},Jo,Bloggs,{dob},CP,{_years_ago(8)},{_years_ago(7, 30)},Sam Lee,North,North",
                f"{OLD},{UPN_OLD},Jo,Bloggs,{dob},NOPE,{_years_ago(9)},,Sam Lee,North,North",  # rejected: OLD's
                f"{RECENT},{UPN_RECENT},Ann,Smith,{dob},CP,{_years_ago(6)},{_years_ago(5)},Sam Lee,North,North",
                f"{RECENT},{UPN_RECENT},Ann,Smith,{dob},NOPE,{_years_ago(6)},,Sam Lee,North,North",  # rejected: RECENT's
                f"{MIXED},{UPN_MIXED},Ed,Jones,{dob},CLA,{_years_ago(10)},{_years_ago(8)},Kim Ray,South,South",
                f"{MIXED},{UPN_MIXED},Ed,Jones,{dob},CIN,{_years_ago(1)},,Kim Ray,South,South",
            ]
        )
        + "\n",
    )
    marks = ["UPN,URN,Date,AM,PM"]
    for day in WEEK:
        marks += [f"{u},{URN},{day},/,{'N' if u == UPN_OLD else '/'}" for u in (UPN_OLD, UPN_RECENT, UPN_MIXED)]
        marks.append(f"{ALIAS_OLD},{URN},{day},/,/")
    marks += [
        f"{UPN_OLD},{URN},{WEEK[0]},ZZ,/",  # rejected: OLD's UPN as a whole field
        f"{UPN_RECENT},{URN},{WEEK[0]},ZZ,/",  # rejected: RECENT's
        f"{UPN_OLD}X,{URN},{WEEK[1]},/,/",  # rejected: OLD's UPN inside a longer value
        f"{UPN_MIXED},{OLD},{WEEK[1]},ZZ,/",
    ]  # rejected: MIXED's, at a URN equal to OLD's ID
    attendance = write("attendance.csv", "\n".join(marks) + "\n")
    suspensions = write(
        "suspensions.csv",
        "\n".join(
            [
                "UPN,URN,Start Date,Sessions,Category,Reason",
                f"{UPN_OLD},{URN},{WEEK[1]},2,suspension,PP",
                f"{UPN_RECENT},{URN},{WEEK[2]},2,suspension,PP",
                f" {UPN_OLD.lower()} ,{URN},{WEEK[2]},2,nope,PP",  # rejected: OLD's UPN, spaced and lower case
            ]
        )
        + "\n",
    )
    for path in (children, attendance, suspensions):
        assert ingest_file(store, path, cfg).status == "loaded"
    for child in (OLD, RECENT, MIXED):
        store.add_action(child, "Note", "officer", note="rang the school", follow_up=WEEK[4])
    old_action = store.actions_frame(OLD)["id"][0]
    store.mark_action_done(old_action, "officer")  # the follow-up's "done" goes with the action
    store.save_alias(**aliases.confirmation(ALIAS_OLD, OLD, "officer", UPN_OLD))
    for upn, child, day in ((UPN_OLD, OLD, WEEK[1]), (UPN_RECENT, RECENT, WEEK[2])):  # the social worker was told
        store.set_suspension_notice(upn, int(URN), day, "suspension", child, True, "officer")


def snapshot(store: Store) -> dict[str, int]:
    """Rows per table, the audit log and load log aside (they change on purpose)."""
    return {k: v for k, v in store.table_counts().items() if k not in ("audit_log", "load_log")}


EXPECTED = {
    "children": 1,
    "cohort_episodes": 2,
    "allocations": 1,
    "attendance": 10,
    "attendance_weeks": 2,
    "attendance_sent": 2,  # UPN_OLD and ALIAS_OLD at one school, sent without an LA Child ID
    "suspensions": 1,
    "actions": 1,
    "actions_done": 1,
    "upn_aliases": 1,
    "suspension_notices": 1,
    "rejected_rows": 3,
    "shared_upns_kept": 0,
}


def test_a_child_past_retention_goes_with_everything_about_them(store, write, cfg):
    load(store, write, cfg)
    before, version = snapshot(store), store.data_version()
    planned = store.retention_plan(CUT_OFF)
    assert snapshot(store) == before  # the dry run changes nothing
    removed = store.remove_before(CUT_OFF)
    assert removed == planned
    assert {k: getattr(removed, k) for k in EXPECTED} == EXPECTED
    after = snapshot(store)
    assert {k: before[k] - after[k] for k in before if before[k] != after[k]} == {
        k: v for k, v in EXPECTED.items() if v and k != "shared_upns_kept"
    }

    assert store.children_frame()["la_child_id"].sort().to_list() == [RECENT, MIXED]
    assert set(store.episodes()["la_child_id"]) == {RECENT, MIXED}
    assert set(store.marks()["upn"]) == {UPN_RECENT, UPN_MIXED}
    assert set(store.suspensions_frame()["upn"]) == {UPN_RECENT}
    assert set(store.actions_frame()["la_child_id"]) == {RECENT, MIXED}
    assert store.aliases_frame().is_empty()
    assert store.suspension_notices_frame()["la_child_id"].to_list() == [RECENT]
    raws = store.rejected_frame()["raw"].drop_nulls().to_list()
    assert not any(UPN_OLD in r.split(",") or OLD in r.split(",")[:1] for r in raws)
    assert f"{RECENT},{UPN_RECENT},Ann,Smith" in " ".join(raws)  # RECENT's rejected row stays
    assert any(r.startswith(f"{UPN_OLD}X,") for r in raws)  # OLD's UPN inside a longer value: not OLD
    assert f"{UPN_MIXED},{OLD},{WEEK[1]},ZZ,/" in raws  # OLD's ID as a URN in a kept child's row
    assert store.data_version() > version  # dashboard caches refresh

    # The week summary stays true: what is left is the summary of the marks that are left.
    kept = store.weeks_frame().sort("upn", "week_start")
    assert kept.height == 2
    assert kept.to_dicts() == weeks_mod.summarise(store.marks(), cfg).sort("upn", "week_start").to_dicts()

    again = store.remove_before(CUT_OFF)
    assert again.total() == 0 and store.retention_plan(CUT_OFF).total() == 0 and snapshot(store) == after


def test_nothing_goes_before_its_time(store, write, cfg):
    load(store, write, cfg)
    before = snapshot(store)
    # Eight years: OLD's last episode (7 years ago) is within it; MIXED's old one alone would be past it.
    assert store.retention_plan(months_before(TODAY, 96)).total() == 0
    assert store.remove_before(months_before(TODAY, 96)).total() == 0
    assert snapshot(store) == before
    # Four years: RECENT (ended 5 years ago) goes too; MIXED's open episode keeps them at any age.
    assert store.retention_plan(months_before(TODAY, 48)).children == 2
    store.remove_before(months_before(TODAY, 48))
    assert store.children_frame()["la_child_id"].to_list() == [MIXED]


def test_a_upn_a_kept_child_shares_keeps_its_marks(store, write, cfg):
    load(store, write, cfg)
    shared = write(
        "shared.csv",
        "LA Child ID,UPN,Cohort,Start Date\n"  # one UPN on two children: flagged, loaded
        f"200001,{UPN_OLD},CLA,{_years_ago(1)}\n",
    )
    assert ingest_file(store, shared, cfg).status == "loaded"
    removed = store.remove_before(CUT_OFF)
    assert (removed.children, removed.shared_upns_kept) == (1, 1)
    assert removed.attendance == 5 and removed.suspensions == 0  # only the alias's marks went
    assert UPN_OLD in set(store.marks()["upn"]) and ALIAS_OLD not in set(store.marks()["upn"])


# ---- the command -------------------------------------------------------------------------------------------


@pytest.fixture
def loaded(tmp_path, write, cfg) -> str:
    """An SQLite store holding the three children, by URL."""
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    store = Store(url)
    load(store, write, cfg)
    store.dispose()
    return url


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_command_dry_run_then_removal_then_audit(capsys, loaded):
    store = Store(loaded)
    before = snapshot(store)
    code, out, err = run(capsys, "retention", "--older-than", "6y", "--dry-run", "--db", loaded)
    assert (code, err) == (0, "")
    counts = (
        "children 1, cohort_episodes 2, allocations 1, attendance 10, attendance_weeks 2, attendance_sent 2, "
        "suspensions 1, "
        "actions 1, actions_done 1, upn_aliases 1, suspension_notices 1, rejected_rows 3, shared_upns_kept 0"
    )
    assert out.strip() == f"dry run: last episode ended before {CUT_OFF}: would remove {counts}"
    assert snapshot(store) == before and store.audit_frame(event="retention").is_empty()

    code, out, err = run(capsys, "retention", "--older-than", "72m", "--db", loaded)
    assert (code, err, out.strip()) == (0, "", f"last episode ended before {CUT_OFF}: removed {counts}")
    entries = store.audit_frame(event="retention")
    assert entries.height == 1
    entry = entries.row(0, named=True)
    assert (entry["user_name"], entry["role"]) == (auth.command_line_user().name, "admin")
    assert entry["la_child_id"] is None and counts in entry["detail"]
    assert not any(secret in entry["detail"] for secret in (OLD, UPN_OLD, ALIAS_OLD, "Jo", "Bloggs"))

    code, out, _ = run(capsys, "retention", "--older-than", "6y", "--db", loaded)
    assert code == 0 and "removed children 0," in out
    store.dispose()


@pytest.mark.parametrize(
    "period, message",
    [
        ("6", "--older-than '6': give years or months, such as 6y or 72m"),
        ("six years", "--older-than 'six years': give years or months, such as 6y or 72m"),
        ("6w", "--older-than '6w': give years or months, such as 6y or 72m"),
        ("-6y", "--older-than '-6y': give years or months, such as 6y or 72m"),
        ("0y", "--older-than '0y': give years or months, such as 6y or 72m"),
        ("5y", "--older-than 5y: Ever 6 counts a child for 6 years after their last episode"),
        ("71m", "--older-than 71m: Ever 6 counts a child for 6 years after their last episode"),
    ],
)
def test_a_bad_period_is_one_line_and_exit_2(capsys, loaded, period, message):
    before = snapshot(Store(loaded))
    code, out, err = run(capsys, "retention", f"--older-than={period}", "--db", loaded)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1
    assert snapshot(Store(loaded)) == before


def test_force_allows_less_than_ever6(capsys, loaded):
    code, out, _ = run(capsys, "retention", "--older-than", "4y", "--force", "--db", loaded)
    assert code == 0 and "removed children 2," in out


def test_months_before():
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 2, 29), 72) == date(2018, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_the_dashboards_frames_afterwards_hold_only_the_kept_children(store, write, cfg):
    load(store, write, cfg)
    store.remove_before(CUT_OFF)
    frames = store.frames(cfg, held=False)
    assert frames.weeks is not None
    assert set(frames.weeks["upn"]) == {UPN_RECENT, UPN_MIXED}
    assert set(frames.days()["upn"]) == {UPN_RECENT, UPN_MIXED}
