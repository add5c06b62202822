"""A load's commit on SQLite without the WAL checkpoint, which then runs in a thread of its own.

A day's feed at 30,000 children writes about 39,000 pages (each child's newest marks go into a page of their own:
the marks are keyed child first). SQLite's automatic checkpoint, run by the commit that passes its threshold, then
copies them into the database file before the commit returns: 0.6 s of a 1.3 s feed. SQLite lets a connection
turn it off (https://sqlite.org/c3ref/wal_autocheckpoint.html: a threshold of 0) and the application checkpoint
when it chooses (https://sqlite.org/wal.html, application-initiated checkpoints): here from a thread, straight
after the commit. The feed's rows are every reader's from the commit; the checkpoint only moves pages.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

LOG = logging.getLogger(__name__)


class Checkpoints:
    """The loads' transactions and their checkpoints (mixed into `Store`)."""

    engine: Engine
    _checkpoint: threading.Thread | None = None

    @contextmanager
    def load_transaction(self) -> Iterator[Connection]:
        """A load's transaction; on SQLite its commit leaves the checkpoint to a thread started after it."""
        if self.engine.dialect.name != "sqlite":
            with self.engine.begin() as conn:
                yield conn
            return
        self.wait_for_checkpoint()  # one at a time: the WAL is rewound only once a checkpoint has caught up
        with self.engine.connect() as conn:
            before = _auto_checkpoint(conn, 0)
            try:
                with conn.begin():
                    yield conn
            finally:
                _auto_checkpoint(conn, before)
        self._checkpoint = threading.Thread(target=self._checkpoint_now, name="vsdash-checkpoint")
        self._checkpoint.start()

    def wait_for_checkpoint(self) -> None:
        """Wait for the checkpoint a load started, if it is still running (the next load; closing the store)."""
        if self._checkpoint is not None:
            self._checkpoint.join()
            self._checkpoint = None

    def _checkpoint_now(self) -> None:
        """Copy the WAL's pages into the database file without waiting for readers (PASSIVE); one that fails
        leaves them for the next (they are safe in the WAL)."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except SQLAlchemyError as exc:
            LOG.warning("the database's checkpoint after a load is left for the next: %s", exc)


def _auto_checkpoint(conn: Connection, pages: int) -> int:
    """Set the connection's automatic checkpoint threshold (0: none), giving back what it was."""
    before = int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())
    conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={pages}")
    conn.commit()
    return before
