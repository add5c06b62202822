"""The SQL store: the one package that opens connections and writes SQL.

- `schema`: the tables and the engine;
- `loading`: feed files written by key, with rejects and the load log;
- `weekly`: the week summary kept true to the marks;
- `sent`: what the schools sent (identities per UPN, days per school), kept by each load;
- `reading`: the frames the metrics and pages work on;
- `records`: what people write (actions, confirmed matches);
- `accounts`: who may sign in, and the audit log;
- `rows`, `pg_bulk`, `sqlite_reader`: rows in and out through the drivers, fast.
"""

from __future__ import annotations

from vsdash.store.accounts import Account, Accounts
from vsdash.store.loading import LoadCounts, Loading
from vsdash.store.reading import Reading
from vsdash.store.records import ACTION_KINDS
from vsdash.store.retention import Retention
from vsdash.store.schema import attendance, main_table, make_engine, metadata, store_meta
from vsdash.store.sent import ensure_sent

__all__ = [
    "ACTION_KINDS",
    "Account",
    "LoadCounts",
    "Store",
    "attendance",
    "main_table",
    "make_engine",
    "metadata",
    "store_meta",
]


class Store(Loading, Reading, Accounts, Retention):
    """Owns the database: schema, feed writes, the week summary, people's records, accounts and the audit
    log, and every read."""

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if create:
            self.create_schema()

    def create_schema(self) -> None:
        """Create missing tables, and what a load keeps from the marks if the store has not made it yet
        (a store from before it); existing data is never touched."""
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            ensure_sent(conn)

    def drop_schema(self) -> None:
        """Remove every vsdash table (a test's fresh start on a shared server)."""
        metadata.drop_all(self.engine)

    def dispose(self) -> None:
        """Close pooled connections (tests, CLI exit), once a load's checkpoint is done."""
        self.wait_for_checkpoint()
        self.engine.dispose()
