"""failures.explain: every exception becomes one plain sentence saying what is wrong and what to do."""

from __future__ import annotations

import errno
import logging
import sqlite3

import psycopg
import pytest
import sqlalchemy.exc

from vsdash import failures
from vsdash.config import ConfigError
from vsdash.failures import explain, is_setup_error, is_transient
from vsdash.feeds import FeedError


def wrapped(driver_error: Exception) -> sqlalchemy.exc.OperationalError:
    """A driver error as SQLAlchemy hands it on, with the statement and parameters it was running."""
    return sqlalchemy.exc.OperationalError("INSERT INTO load_log VALUES (?)", ("A123",), driver_error)


@pytest.mark.parametrize(
    "exc, starts, transient, setup",
    [
        (wrapped(sqlite3.OperationalError("database is locked")), "the database is busy", True, False),
        (sqlite3.OperationalError("database is locked"), "the database is busy", True, False),
        (
            wrapped(sqlite3.OperationalError("attempt to write a readonly database")),
            "the database is read-only",
            False,
            False,
        ),
        (
            wrapped(sqlite3.OperationalError("disk I/O error")),
            "the database file could not be read or written",
            False,
            False,
        ),
        (
            wrapped(sqlite3.OperationalError("database or disk is full")),
            "the disk holding the database is full",
            False,
            False,
        ),
        (
            wrapped(sqlite3.OperationalError("unable to open database file")),
            "the database file cannot be opened",
            False,
            True,
        ),
        (
            wrapped(
                psycopg.OperationalError(
                    'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused'
                )
            ),
            "the database server cannot be reached",
            True,
            False,
        ),
        (psycopg.OperationalError("could not connect to server"), "the database server cannot be reached", True, False),
        (
            wrapped(psycopg.OperationalError('FATAL:  password authentication failed for user "vs"')),
            "the database server refused the sign-in",
            False,
            True,
        ),
        (
            wrapped(psycopg.OperationalError('FATAL:  database "vsdash" does not exist')),
            "the database named in the URL does not exist",
            False,
            True,
        ),
        (
            sqlalchemy.exc.ArgumentError("Could not parse SQLAlchemy URL from given URL string"),
            "the database URL is not one vsdash can use",
            False,
            True,
        ),
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/x.csv"),
            "the disk is full (writing /data/x.csv)",
            False,
            False,
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/mnt/ro/x.db"),
            "/mnt/ro/x.db is on a read-only disk",
            False,
            False,
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/in/a.csv"),
            "permission denied for /srv/in/a.csv",
            False,
            False,
        ),
        (
            FileNotFoundError(errno.ENOENT, "No such file or directory", "/no/such/dir"),
            "/no/such/dir does not exist",
            False,
            False,
        ),
        (
            NotADirectoryError(errno.ENOTDIR, "Not a directory", "/etc/hostname/x.db"),
            "part of the path /etc/hostname/x.db is a file",
            False,
            False,
        ),
        (
            FeedError("the gzip file is damaged: Compressed file ended before the end-of-stream marker was reached"),
            "the gzip file ends early, as if it is still being written",
            True,
            False,
        ),
        (FeedError("no recognisable header (found a, b)"), "no recognisable header (found a, b)", False, False),
        (ConfigError("authority.la_code: expected the 3-digit LA number"), "authority.la_code: expected", False, False),
        (MemoryError(), "the computer ran out of memory", False, False),
        (
            ValueError("could not convert '١٢٣' to int\nsecond line"),
            "an unexpected problem (ValueError: could not convert",
            False,
            False,
        ),
    ],
)
def test_each_failure_is_one_plain_sentence(exc, starts, transient, setup):
    text = explain(exc)
    assert text.startswith(starts)
    assert "\n" not in text and "Traceback" not in text and "[SQL:" not in text and "A123" not in text
    assert (is_transient(exc), is_setup_error(exc)) == (transient, setup)


def test_a_database_error_with_no_known_message_still_says_what_to_do():
    exc = sqlalchemy.exc.IntegrityError("INSERT ...", ("A123",), sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert explain(exc) == (
        "the database refused the operation (IntegrityError); try again, and if it happens "
        "again send the vsdash log to your support contact"
    )


def test_the_cause_of_a_wrapping_error_is_explained():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/var/x")
        except OSError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert explain(outer).startswith("the disk is full (writing /var/x)")


def test_an_unexpected_message_is_cut_to_one_short_line():
    text = explain(RuntimeError("x" * 500))
    assert len(text) < 300 and "..." in text


@pytest.fixture
def no_log_yet(monkeypatch):
    """vsdash's logger as a fresh process has it; the handlers a test adds are closed afterwards."""
    logger = logging.getLogger("vsdash")
    monkeypatch.setattr(logger, "handlers", [])
    yield
    for handler in logger.handlers:
        handler.close()


def test_the_log_goes_to_a_file_with_the_traceback(tmp_path, no_log_yet):
    path = failures.start_log(tmp_path / "logs" / "vsdash.log")
    assert path == tmp_path / "logs" / "vsdash.log"
    assert failures.start_log(tmp_path / "other.log") == path  # once per process
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("vsdash.test").exception("it failed")
    text = path.read_text()
    assert "it failed" in text and "Traceback" in text and "ValueError: boom" in text


def test_an_unwritable_log_folder_falls_back_to_the_temporary_folder(tmp_path, monkeypatch, no_log_yet):
    monkeypatch.setattr(failures.tempfile, "gettempdir", lambda: str(tmp_path))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert failures.start_log(blocker / "log" / "vsdash.log") == tmp_path / "vsdash.log"
