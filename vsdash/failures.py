"""What went wrong, in one plain sentence for a data manager; the technical detail goes to the log.

Every place that meets a failure (the command line, the watched inbox, the loads, the pages) asks `explain`
for the words, so the same problem reads the same everywhere. Database errors are recognised by the
module of their type and the driver's message, so nothing here imports SQLAlchemy (only the store does).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vsdash.config import PROJECT_ROOT

log = logging.getLogger(__name__)

LOG_FILE = PROJECT_ROOT / "var" / "log" / "vsdash.log"
# Modules whose exceptions come from a database: SQLAlchemy and the drivers underneath it.
DATABASE_MODULES = ("sqlalchemy", "sqlite3", "psycopg", "adbc_driver")


@dataclass(frozen=True)
class Known:
    """A recognised problem: a pattern in the driver's (or Python's) message, and what to tell the user."""

    pattern: str  # a regular expression searched in the lower-cased message
    message: str
    transient: bool = False  # it may pass by itself: try again later rather than fail for good
    setup: bool = False  # the configuration or the command line is wrong (exit 2)


DATABASE_PROBLEMS = (
    Known(
        r"database (table )?is locked|lock timeout|deadlock detected",
        "the database is busy: another program (a load, the inbox watcher or a database tool) is writing to it; "
        "wait for it to finish, then try again",
        transient=True,
    ),
    Known(
        r"attempt to write a readonly database",
        "the database is read-only; give vsdash write access to the database file and its folder, "
        "or point --db (or database.url) at one it can write",
    ),
    Known(r"database or disk is full", "the disk holding the database is full; free some space, then try again"),
    Known(
        r"disk i/o error",
        "the database file could not be read or written (disk I/O error); check the disk or network share "
        "it is on, then try again",
    ),
    Known(
        r"unable to open database file",
        "the database file cannot be opened; check that its folder exists and can be written (--db or database.url)",
        setup=True,
    ),
    Known(
        r"file is (encrypted or is )?not a database",
        "the database URL points at a file that is not an SQLite database; check --db or database.url",
        setup=True,
    ),
    Known(
        r"password authentication failed|no password supplied|role \".*\" does not exist",
        "the database server refused the sign-in; check the user name and password in the database URL",
        setup=True,
    ),
    Known(
        r"database \".*\" does not exist",
        "the database named in the URL does not exist on the server; create it or correct the name",
        setup=True,
    ),
    Known(
        r"could not connect|connection refused|could not translate host name|name or service not known|"
        r"no route to host|connection timed out|timeout expired|server closed the connection",
        "the database server cannot be reached; check that it is running and that --db (or database.url) "
        "names the right host and port",
        transient=True,
    ),
    Known(
        r"could not parse sqlalchemy url|can't load plugin",
        "the database URL is not one vsdash can use; write it like sqlite:///var/vsdash.db or "
        "postgresql+psycopg://user@host/database (--db or database.url)",
        setup=True,
    ),
)

# Python's gzip says this when a file ends before its last block: usually a copy still under way.
STILL_WRITING = Known(
    r"gzip.*(end-of-stream marker|ended before|truncated)",
    "the gzip file ends early, as if it is still being written (or was cut short when copied); "
    "wait for the copy to finish, or send the file again",
    transient=True,
)


def _where(exc: OSError) -> str:
    """The file an operating-system error is about, or a general phrase."""
    return str(exc.filename) if exc.filename else "a file or folder vsdash needed"


def _os_error(exc: OSError) -> str:
    """An operating-system failure by its errno: what is wrong with which file, and what to do."""
    where = _where(exc)
    denied = f"permission denied for {where}; ask for access to it, or choose another file or folder"
    by_errno = {
        errno.ENOSPC: f"the disk is full (writing {where}); free some space or choose another disk, then try again",
        errno.EDQUOT: f"the disk quota is used up (writing {where}); free some space, then try again",
        errno.EROFS: f"{where} is on a read-only disk; choose a folder that can be written",
        errno.EACCES: denied,
        errno.EPERM: denied,
        errno.ENOENT: f"{where} does not exist; check the name and the folder",
        errno.ENOTDIR: f"part of the path {where} is a file, not a folder; check the path",
        errno.EISDIR: f"{where} is a folder, not a file; name a file",
        errno.EEXIST: f"{where} already exists as a file where a folder is needed; check the path",
        errno.EIO: f"the disk could not read or write {where} (input/output error); check the disk or network "
        "share, then try again",
        errno.EMFILE: "too many files are open at once; close some programs, then try again",
        errno.ECONNREFUSED: "the server refused the connection; check that it is running and the host and port",
        errno.ETIMEDOUT: "the connection timed out; check the network and the host, then try again",
    }
    return by_errno.get(exc.errno or 0, f"{exc.strerror or exc} ({where}); check the path and try again")


def _known(exc: BaseException) -> Known | None:
    """The recognised problem behind a database error or a truncated gzip file, if any."""
    module, text = type(exc).__module__ or "", str(exc).lower()
    if module.startswith(DATABASE_MODULES):
        return next((k for k in DATABASE_PROBLEMS if re.search(k.pattern, text)), None)
    if module.startswith("vsdash") and re.search(STILL_WRITING.pattern, text):
        return STILL_WRITING
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from or during, outermost first."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _short(exc: BaseException) -> str:
    """The first line of an exception's text, cut to a readable length."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if len(text) <= 160 else text[:157] + "..."


def explain(exc: BaseException) -> str:
    """One plain sentence saying what went wrong and what to do, for any exception (never a traceback)."""
    for cause in _chain(exc):
        if known := _known(cause):
            return known.message
        if type(cause).__module__.startswith("vsdash"):
            return str(cause)  # vsdash's own errors (FeedError, ConfigError...) are written for people
        if isinstance(cause, OSError) and cause.errno:
            return _os_error(cause)
        if isinstance(cause, MemoryError):
            return "the computer ran out of memory; close other programs or load fewer files at once"
    name = type(exc).__name__
    if type(exc).__module__.startswith(DATABASE_MODULES):
        return (
            f"the database refused the operation ({name}); try again, and if it happens again send the "
            "vsdash log to your support contact"
        )
    detail = _short(exc)
    return (
        f"an unexpected problem ({name}{': ' + detail if detail else ''}); the details are in the vsdash log: "
        "please send it to your support contact"
    )


def is_transient(exc: BaseException) -> bool:
    """A failure that may pass by itself (a busy database, a file still being written): worth trying again."""
    return any(k.transient for k in map(_known, _chain(exc)) if k)


def is_setup_error(exc: BaseException) -> bool:
    """A failure caused by the configuration or the command line (exit 2), not by the operation."""
    return any(k.setup for k in map(_known, _chain(exc)) if k)


def start_log(path: Path | None = None) -> Path | None:
    """Send vsdash's log (with tracebacks) to a file once per process; returns where it goes.

    VSDASH_LOG names the file; otherwise var/log/vsdash.log, or the temporary folder when that cannot be
    written (a read-only install must still keep the detail somewhere).
    """
    root = logging.getLogger("vsdash")
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    wanted = Path(path or os.environ.get("VSDASH_LOG") or LOG_FILE)
    for candidate in (wanted, Path(tempfile.gettempdir()) / "vsdash.log"):
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(candidate, encoding="utf-8", delay=False)
        except OSError:
            continue
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        return candidate
    root.addHandler(logging.NullHandler())  # nowhere to write: stay silent rather than print tracebacks
    return None
