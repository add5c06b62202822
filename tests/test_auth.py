"""Sign-in, roles, officers' own children and the audit log, on both engines, through the one door."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from vsdash import auth
from vsdash.access import AccessDenied, DataAccess
from vsdash.auth import User
from vsdash.config import PROJECT_ROOT
from vsdash.filters import Filters
from vsdash.identifiers import with_check_letter
from vsdash.ingest import holds_only_sample, ingest_file

PASSWORD = "a long enough password"
AVA, BEN = with_check_letter("893123425001"), with_check_letter("893123425002")
CHILDREN = f"""
LA Child ID,UPN,First Name,Last Name,DOB,Cohort,Start Date,Team,Locality,Social Worker
C1,{AVA},Ava,Price,2014-03-02,CLA,2025-01-01,North team,North,Sam Worker
C2,{BEN},Ben,Jones,2013-05-06,CIN,2025-01-01,South team,South,Kim Worker
"""
SCHOOLS = """
URN,LA (code),LA (name),EstablishmentName,PhaseOfEducation (name),Locality
123456,893,Shropshire,Hill School,Primary,North
234567,893,Shropshire,Vale School,Primary,South
"""
DAYS = ["2025-09-01", "2025-09-02", "2025-09-03"]
AS_OF = Filters(as_of=date(2025, 9, 3))


def attendance(upn: str, urn: int, absent: bool) -> str:
    """Three days for one pupil: all unauthorised absence (a triage signal) or all present."""
    am, pm = ("O", "O") if absent else ("/", "\\")
    return "".join(f"{upn},{urn},{d},{am},{pm}\n" for d in DAYS)


@pytest.fixture
def loaded(store, cfg, write):
    """Two children: Ava (North team, Hill School) and Ben (South team, Vale School), both absent."""
    ingest_file(store, write("schools.csv", SCHOOLS), cfg)
    ingest_file(store, write("children.csv", CHILDREN), cfg)
    ingest_file(
        store,
        write("attendance.csv", "UPN,URN,Date,AM,PM\n" + attendance(AVA, 123456, True) + attendance(BEN, 234567, True)),
        cfg,
    )
    return store


def door(store, cfg, role: str = "officer", **limits) -> DataAccess:
    return DataAccess(store, cfg, User("Pat Officer", role, **limits))


# ---- local sign-in ----------------------------------------------------------------------------------------


def test_the_right_password_signs_in_and_a_wrong_one_does_not(store, cfg):
    store.add_user("pat", "officer", password_hash=auth.hash_password(PASSWORD), teams=["North team"])
    user = auth.sign_in(store, cfg, " pat ", PASSWORD)
    assert (user.name, user.role, user.teams) == ("pat", "officer", ("North team",))
    for name, password in (("pat", PASSWORD + "x"), ("nobody", PASSWORD), ("", PASSWORD)):
        with pytest.raises(auth.SignInRefused, match="username or password is not right"):
            auth.sign_in(store, cfg, name, password)
    events = store.audit_frame()["event"].to_list()
    assert events == ["sign-in failed"] * 3 + ["signed in"]
    details = store.audit_frame()["detail"].to_list()
    assert details == ["unknown username ''", "unknown username 'nobody'", "wrong password", "local password"]
    assert not any(PASSWORD in d for d in details)  # what was typed is never kept


def test_repeated_failures_lock_the_account_until_the_lock_runs_out_or_a_reset(store, cfg):
    store.add_user("pat", "officer", password_hash=auth.hash_password(PASSWORD))
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for attempt in range(1, cfg.access.lockout_failures):
        with pytest.raises(auth.SignInRefused, match="not right"):
            auth.sign_in(store, cfg, "pat", "wrong password!", at=start)
        assert store.account("pat").failed_sign_ins == attempt
    with pytest.raises(auth.SignInRefused, match=r"locked .* after 09:15"):
        auth.sign_in(store, cfg, "pat", "wrong password!", at=start)
    # Locked: even the right password is refused until the lock runs out ...
    with pytest.raises(auth.SignInRefused, match="locked"):
        auth.sign_in(store, cfg, "pat", PASSWORD, at=start + timedelta(minutes=14))
    assert auth.sign_in(store, cfg, "pat", PASSWORD, at=start + timedelta(minutes=16)).name == "pat"
    assert store.account("pat").failed_sign_ins == 0
    # ... or an admin resets the password, which unlocks at once.
    for _ in range(cfg.access.lockout_failures):
        with pytest.raises(auth.SignInRefused):
            auth.sign_in(store, cfg, "pat", "wrong password!", at=start)
    store.set_password("pat", auth.hash_password("another long password"))
    assert auth.sign_in(store, cfg, "pat", "another long password", at=start).name == "pat"


def test_a_single_sign_on_only_user_has_no_password_to_guess(store, cfg):
    store.add_user("sam", "manager", email="sam@council.example")
    with pytest.raises(auth.SignInRefused, match="not right"):
        auth.sign_in(store, cfg, "sam", "")
    assert auth.single_sign_on_user(store, "Sam@Council.example ").name == "sam"
    assert auth.single_sign_on_user(store, "someone@else.example") is None
    assert auth.single_sign_on_user(store, None) is None


def test_sessions_expire_after_the_idle_time(cfg):
    seen = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    idle = timedelta(minutes=cfg.access.idle_minutes)
    assert not auth.idle_expired(seen, cfg, seen + idle)
    assert auth.idle_expired(seen, cfg, seen + idle + timedelta(seconds=1))
    assert not auth.idle_expired(None, cfg, seen)


def test_passwords_are_argon2_hashes_and_short_ones_are_refused():
    hashed = auth.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    with pytest.raises(ValueError, match="at least 10 characters"):
        auth.hash_password("short")


def test_names_and_emails_are_unique(store):
    store.add_user("pat", "officer", email="pat@council.example")
    with pytest.raises(ValueError, match="named 'pat' already exists"):
        store.add_user("pat", "admin")
    with pytest.raises(ValueError, match="already has the e-mail"):
        store.add_user("pat2", "admin", email="pat@council.example")
    assert "password_hash" not in store.users_frame().columns


# ---- roles and officers' own children, through the door -----------------------------------------------------


def test_the_forum_role_gets_aggregates_and_no_child(loaded, cfg):
    forum = door(loaded, cfg, "forum")
    assert forum.overview(AS_OF).children == 2
    for call in (
        lambda: forum.triage_list(AS_OF),
        lambda: forum.child_page("C1", AS_OF),
        forum.child_directory,
        lambda: forum.actions("C1"),
        forum.rejected_rows,
        forum.matching,
        lambda: forum.record_action("C1", "Note"),
        forum.users,
        forum.audit_log,
        lambda: forum.export(b"x", "triage.csv", "all", child_rows=True),
    ):
        with pytest.raises(AccessDenied):
            call()
    assert not hasattr(forum, "figures") and not hasattr(forum, "frames")  # no public way round the door


@pytest.mark.parametrize(
    ("limits", "mine"),
    [
        ({}, {"C1", "C2"}),
        ({"teams": ("North team",)}, {"C1"}),
        ({"schools": (234567,)}, {"C2"}),
        ({"localities": ("North",)}, {"C1"}),
        ({"teams": ("North team",), "schools": (234567,)}, {"C1", "C2"}),  # any of their teams, schools, localities
        ({"teams": ("East team",)}, set()),
    ],
)
def test_an_officer_sees_only_their_own_children(loaded, cfg, limits, mine):
    officer = door(loaded, cfg, **limits)
    assert set(officer.triage_list(AS_OF)["la_child_id"]) == mine
    assert set(officer.child_directory()["la_child_id"]) == mine
    for child in ("C1", "C2"):
        if child in mine:
            assert officer.child_page(child, AS_OF).identity.la_child_id == child
            officer.record_action(child, "Note", "called")
        else:
            with pytest.raises(AccessDenied, match="not in your teams"):
                officer.child_page(child, AS_OF)
            with pytest.raises(AccessDenied):
                officer.record_action(child, "Note")
            someone_elses = loaded.add_action(child, "Note", "Another Officer", follow_up=date(2025, 9, 1))
            with pytest.raises(AccessDenied, match="not in your teams"):
                officer.mark_follow_up_done(someone_elses)
            assert loaded.actions_frame(child)["done_at"].is_null().all()


def test_only_the_admin_reads_users_and_the_audit_log(loaded, cfg):
    for role in ("officer", "manager", "forum"):
        with pytest.raises(AccessDenied):
            door(loaded, cfg, role).audit_log()
    assert door(loaded, cfg, "admin").audit_log().height >= 0


# ---- the audit log ------------------------------------------------------------------------------------------


def test_every_look_at_a_child_export_and_action_is_on_the_audit_log(loaded, cfg):
    memory: dict = {}
    officer = DataAccess(loaded, cfg, User("Pat Officer", "officer"), memory=memory)
    officer.child_page("C1", AS_OF)
    officer.child_page("C1", Filters(as_of=date(2025, 9, 2)))  # the same page redrawn: not a second look
    officer.child_page("C2", AS_OF)
    officer.child_page("C1", AS_OF)  # back to the first child: a new look
    officer.record_action("C2", "Contacted school", "left a message")
    assert officer.export(b"data", "triage_2025-09-03.csv", "all children", child_rows=True) == b"data"
    log = loaded.audit_frame().sort("id")
    assert log.select("user_name", "role", "event", "la_child_id").rows() == [
        ("Pat Officer", "officer", "child page opened", "C1"),
        ("Pat Officer", "officer", "child page opened", "C2"),
        ("Pat Officer", "officer", "child page opened", "C1"),
        ("Pat Officer", "officer", "action recorded", "C2"),
        ("Pat Officer", "officer", "export", None),
    ]
    assert log["detail"][-1] == "triage_2025-09-03.csv (all children)"
    assert loaded.actions_frame("C2")["recorded_by"].to_list() == ["Pat Officer"]  # the signed-in name


def test_an_upload_is_on_the_audit_log(store, cfg):
    admin = door(store, cfg, "admin")
    admin.load_upload("schools.csv", SCHOOLS.lstrip().encode())
    entry = store.audit_frame().row(0, named=True)
    assert (entry["event"], entry["user_name"]) == ("file loaded", "Pat Officer")
    assert entry["detail"].startswith("upload schools.csv: schools: loaded 2")


# ---- open only for the bundled sample -------------------------------------------------------------------


def test_only_the_bundled_sample_may_be_shown_openly(store, cfg, write, sample_db):
    from vsdash.store import Store

    sample = Store(f"sqlite:///{sample_db}", create=False)
    try:
        assert holds_only_sample(sample)
    finally:
        sample.dispose()
    assert holds_only_sample(store)  # empty: nothing to hide
    ingest_file(store, write("schools.csv", SCHOOLS), cfg)
    assert not holds_only_sample(store)


# ---- the command line ----------------------------------------------------------------------------------


def vsdash(db: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vsdash", *args, "--db", db],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )


def test_user_commands_add_list_reset_and_remove(tmp_path):
    db = f"sqlite:///{tmp_path / 'users.db'}"
    added = vsdash(
        db,
        "user",
        "add",
        "pat",
        "--role",
        "officer",
        "--teams",
        "North team, South team",
        "--schools",
        "123456",
        stdin=PASSWORD + "\n",
    )
    assert (added.returncode, added.stdout.strip(), added.stderr) == (0, "added pat (officer)", "")
    listed = vsdash(db, "user", "list")
    assert listed.returncode == 0 and "pat,,officer" in listed.stdout and PASSWORD not in listed.stdout
    assert "argon2" not in listed.stdout
    for args, stdin, message in [
        (("user", "add", "pat", "--role", "admin"), PASSWORD, "a user named 'pat' already exists"),
        (("user", "add", "kim", "--role", "officer"), "short\n", "at least 10 characters; nothing was changed"),
        (("user", "add", "kim", "--role", "officer", "--schools", "12"), PASSWORD, "6-digit URN"),
        (("user", "add", "kim", "--role", "officer", "--sso-only"), "", "--sso-only needs --email"),
        (("user", "add", "kim", "--role", "officer", "--email", "not-an-address"), PASSWORD, "not an e-mail"),
        (("user", "remove", "nobody"), "", "no user named 'nobody'"),
        (("user", "reset", "nobody"), PASSWORD, "no user named 'nobody'"),
    ]:
        done = vsdash(db, *args, stdin=stdin)
        assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done
    assert vsdash(db, "user", "reset", "pat", stdin="a new long password\n").returncode == 0
    assert (
        vsdash(db, "user", "add", "kim", "--role", "manager", "--sso-only", "--email", "Kim@Council.example").returncode
        == 0
    )
    assert vsdash(db, "user", "remove", "pat").returncode == 0
    schools = tmp_path / "schools.csv"
    schools.write_text(SCHOOLS.lstrip())
    assert vsdash(db, "ingest", str(schools)).returncode == 0
    audit = vsdash(db, "audit")
    entries = [line.split(",") for line in audit.stdout.splitlines()[1:]]
    assert [e[3] for e in entries] == ["file loaded", "user removed", "user added", "password reset", "user added"]
    assert entries[0][1].endswith(" (command line)") and entries[0][5].startswith('"schools.csv: schools: loaded 2')


# ---- pseudonymised mode, through the door ------------------------------------------------------------------

KEY = "a random secret of enough length"


def pseudonymised(store, cfg, role: str = "officer") -> DataAccess:
    from vsdash.config import AccessRules
    from vsdash.privacy import Pseudonymiser

    on = replace(cfg, access=AccessRules(pseudonymise=True))
    return DataAccess(store, on, User("Pat Officer", role), pseudonymiser=Pseudonymiser(KEY))


def test_pseudonymised_mode_shows_initials_and_tokens_with_the_same_figures(loaded, cfg):
    real, masked = door(loaded, cfg), pseudonymised(loaded, cfg)
    worklist = masked.triage_list(AS_OF)
    assert sorted(worklist["child"]) == ["A. P.", "B. J."]
    assert all(i.startswith("PC-") for i in worklist["la_child_id"])
    assert sorted(worklist["attendance_pct"]) == sorted(real.triage_list(AS_OF)["attendance_pct"])
    token = worklist.filter(pl.col("child") == "A. P.")["la_child_id"][0]
    page = masked.child_page(token, AS_OF)
    assert (page.identity.name, page.identity.upn[:3]) == ("A. P.", "PU-")
    same = ("la_child_id", "upn", "social_worker")  # identities differ, figures not
    assert replace(page.figures, **dict.fromkeys(same)) == replace(
        real.child_page("C1", AS_OF).figures, **dict.fromkeys(same)
    )
    text = " ".join(str(v) for v in [*worklist.rows(), *masked.child_directory().rows()])
    for identity in ("Ava", "Price", "Jones", AVA, BEN, "C1", "C2", "Sam Worker"):
        assert identity not in text
    opened = loaded.audit_frame(event=auth.CHILD_OPENED).sort("id").select("la_child_id", "detail").rows()
    assert opened == [("C1", "pseudonymised"), ("C1", None)]  # the real child, each way it was seen
    for call in (
        lambda: masked.record_action(token, "Note"),
        masked.matching,
        masked.rejected_explained,
        masked.confirmed_matches,
        lambda: masked.rejected_rows(),
    ):
        with pytest.raises(AccessDenied, match="pseudonymised mode"):
            call()


def test_pseudonymised_mode_without_a_key_refuses_to_open(loaded, cfg):
    from vsdash.config import AccessRules

    with pytest.raises(ValueError, match=r"add \[vsdash\] pseudonym_key"):
        DataAccess(loaded, replace(cfg, access=AccessRules(pseudonymise=True)), User("Pat", "officer"))
