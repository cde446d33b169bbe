"""The SQLite store and its transactions."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from pocketlink.model.base import Resource, decode, encode

R = TypeVar("R", bound=Resource)

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    body TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('changes', 0);
"""


def _private_file(path: str) -> None:
    """The state is every account's: readable by its owner only (0600). SQLite gives the
    -wal and -shm files it makes the database file's mode; files an older pocketlink
    left readable to others are closed up too."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            continue


class Store:
    """Desired state. Reads come from memory; ``transaction()`` is the only way to write."""

    def __init__(self, path: Path | str, kinds: list[type[Resource]]) -> None:
        self.path = str(path)
        self._kinds = {cls.kind: cls for cls in kinds}
        _private_file(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._items: dict[str, dict[str, Resource]] = {kind: {} for kind in self._kinds}
        self._seq = 0
        self._seq_of: dict[str, int] = {}  # creation order, so describes list oldest first
        for id_, kind, body, seq in self._db.execute(
            "SELECT id, kind, body, seq FROM resources ORDER BY seq"
        ):
            cls = self._kinds.get(kind)
            if cls is None:
                raise RuntimeError(f"{self.path} holds a '{kind}' that this pocketlink "
                                   "does not know; it was written by a newer version")
            self._items[kind][id_] = decode(cls, json.loads(body))
            self._seq_of[id_] = seq
            self._seq = max(self._seq, seq)
        (self.changes,) = self._db.execute("SELECT value FROM meta WHERE key='changes'").fetchone()
        # Called after every commit: the reconciler's "look again".
        self.listeners: list[Callable[[], None]] = []

    def close(self) -> None:
        self._db.close()

    # --- reads --------------------------------------------------------------------------
    def get(self, cls: type[R], id_: str) -> R | None:
        return self._items[cls.kind].get(id_)  # type: ignore[return-value]

    def all(self, cls: type[R]) -> Iterator[R]:
        """Every resource of a kind, oldest first."""
        yield from self._items[cls.kind].values()  # type: ignore[misc]

    def summary(self) -> dict[str, dict[str, int]]:
        """How many resources of each kind every account holds."""
        table: dict[str, dict[str, int]] = {}
        for kind, items in self._items.items():
            for resource in items.values():
                row = table.setdefault(resource.account, {})
                row[kind] = row.get(kind, 0) + 1
        return table

    # --- writes -------------------------------------------------------------------------
    def transaction(self) -> Transaction:
        return Transaction(self)

    def _commit(self, puts: dict[str, Resource], deletes: dict[str, Resource]) -> None:
        rows = []
        for resource in puts.values():
            seq = self._seq_of.get(resource.id)
            if seq is None:
                self._seq += 1
                seq = self._seq_of[resource.id] = self._seq
            rows.append((resource.id, resource.kind, resource.account, resource.region,
                         json.dumps(encode(resource), separators=(",", ":")), seq))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if rows:
                db.executemany("INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?,?)", rows)
            if deletes:
                db.executemany("DELETE FROM resources WHERE id=?", [(i,) for i in deletes])
            db.execute("UPDATE meta SET value=value+1 WHERE key='changes'")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.changes += 1
        for resource in puts.values():
            self._items[resource.kind][resource.id] = resource
        for id_, resource in deletes.items():
            self._items[resource.kind].pop(id_, None)
            self._seq_of.pop(id_, None)
        for listener in self.listeners:
            listener()


class Vanished(LookupError):
    """A resource a transaction edits is gone: another change deleted it in between (a bug)."""


class Transaction:
    """One change: resources read for update are copies; nothing is seen until commit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._puts: dict[str, Resource] = {}
        self._deletes: dict[str, Resource] = {}

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None and (self._puts or self._deletes):
            self.store._commit(self._puts, self._deletes)

    def get(self, cls: type[R], id_: str) -> R | None:
        """The resource as this transaction sees it, as a copy it may change."""
        if id_ in self._deletes:
            return None
        if id_ in self._puts:
            return self._puts[id_]  # type: ignore[return-value]
        current = self.store.get(cls, id_)
        if current is None:
            return None
        mine = copy.deepcopy(current)
        self._puts[id_] = mine
        return mine

    def edit(self, cls: type[R], id_: str) -> R:
        """Like ``get``, for a resource the caller has just seen: its absence is a bug."""
        mine = self.get(cls, id_)
        if mine is None:
            raise Vanished(f"{cls.kind} {id_} vanished under a transaction")
        return mine

    def put(self, resource: Resource) -> None:
        self._deletes.pop(resource.id, None)
        self._puts[resource.id] = resource

    def delete(self, resource: Resource) -> None:
        self._puts.pop(resource.id, None)
        self._deletes[resource.id] = resource
