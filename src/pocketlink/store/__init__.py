"""State: one SQLite file, every change one transaction, and a change counter.

- ``Store`` (sqlite.py): loads every resource at start, serves reads from memory, writes
  each ``Transaction`` to SQLite before anything in memory changes.

A handler's change is acknowledged only after its transaction has committed, so a daemon
killed at any moment comes back with every acknowledged change (WAL mode: a commit is in
the file before ``COMMIT`` returns).
"""

from pocketlink.store.sqlite import Store, Transaction

__all__ = ["Store", "Transaction"]
