"""The data points, in an SQLite file of their own (``metrics.db`` beside the state): a
second's sample is written as it is taken, so a restart loses at most the second under way.

One row is one data point as CloudWatch keeps it: a statistic set (sum, sample count,
minimum, maximum) for one metric (account, region, namespace, name, dimensions) over one
period starting at ``ts``. Points are kept at the resolution they came in (1 s from the
sampler, 1 s or 60 s from PutMetricData) for three hours, then rolled up to a minute; a
minute's for 15 days, then rolled up to an hour; an hour's for 455 days, as CloudWatch
keeps them. A query adds up the rows of each period it asks for, whatever their resolution.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    account TEXT NOT NULL, region TEXT NOT NULL, namespace TEXT NOT NULL,
    metric TEXT NOT NULL, dimensions TEXT NOT NULL, ts INTEGER NOT NULL,
    resolution INTEGER NOT NULL, sum REAL NOT NULL, count REAL NOT NULL,
    min REAL NOT NULL, max REAL NOT NULL, unit TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS points_metric
    ON points (account, region, namespace, metric, dimensions, ts);
CREATE INDEX IF NOT EXISTS points_age ON points (resolution, ts);
"""

# (resolution, how long it is kept, the resolution it is rolled up to then): CloudWatch's
# retention (3 hours of sub-minute points, 15 days of minutes; hours for 455 days).
RETENTION = ((1, 3 * 3600, 60), (60, 15 * 86400, 3600), (3600, 455 * 86400, None))


def dimension_key(dimensions: dict[str, str]) -> str:
    """A metric's dimensions as one string: the same set, whatever its order, is one metric."""
    return json.dumps(sorted(dimensions.items()), separators=(",", ":"))


@dataclass(frozen=True)
class Metric:
    account: str
    region: str
    namespace: str
    name: str
    dimensions: dict[str, str]

    @property
    def key(self) -> tuple:
        """Who it is, in memory: hashed often in a second's figures, so cheap to make."""
        key = self.__dict__.get("_key")
        if key is None:
            key = (self.account, self.region, self.namespace, self.name,
                   tuple(sorted(self.dimensions.items())))
            self.__dict__["_key"] = key
        return key

    @property
    def columns(self) -> tuple[str, str, str, str, str]:
        """Who it is, in the store's columns."""
        return (self.account, self.region, self.namespace, self.name,
                dimension_key(self.dimensions))

    def __hash__(self) -> int:  # the dimensions are a dict: hashed by their key
        return hash(self.key)


@dataclass(frozen=True)
class Point:
    """One data point: ``value`` alone, or a statistic set."""

    metric: Metric
    ts: int
    sum: float
    count: float = 1.0
    min: float | None = None
    max: float | None = None
    unit: str = "None"
    resolution: int = 1

    def row(self) -> tuple:
        low = self.sum if self.min is None else self.min
        high = self.sum if self.max is None else self.max
        return (*self.metric.columns, self.ts, self.resolution, self.sum, self.count, low, high,
                self.unit)


@dataclass(frozen=True)
class Bucket:
    """The points of one period, added up."""

    start: int
    sum: float
    count: float
    min: float
    max: float
    unit: str


class MetricStore:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))  # its owner's only
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def put(self, points: Iterable[Point]) -> None:
        rows = [point.row() for point in points]
        if rows:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def buckets(self, metric: Metric, start: int, end: int, period: int,
                unit: str | None = None) -> list[Bucket]:
        """The periods of ``period`` seconds from ``start`` (inclusive) to ``end``
        (exclusive) that hold points, oldest first; ``unit``: only points of that unit."""
        query = ("SELECT (ts - ?) / ?, SUM(sum), SUM(count), MIN(min), MAX(max), MIN(unit) "
                 "FROM points WHERE account = ? AND region = ? AND namespace = ? AND metric = ? "
                 "AND dimensions = ? AND ts >= ? AND ts < ?")
        args: list = [start, period, *metric.columns, start, end]
        if unit is not None:
            query += " AND unit = ?"
            args.append(unit)
        query += " GROUP BY 1 ORDER BY 1"
        return [Bucket(start + index * period, total, count, low, high, found_unit)
                for index, total, count, low, high, found_unit in self._db.execute(query, args)]

    def metrics(self, account: str, region: str, namespace: str | None = None,
                name: str | None = None, since: int | None = None) -> list[Metric]:
        """Every metric with points (since ``since``), in a stable order."""
        query = ("SELECT DISTINCT namespace, metric, dimensions FROM points "
                 "WHERE account = ? AND region = ?")
        args: list = [account, region]
        for column, value in (("namespace", namespace), ("metric", name)):
            if value is not None:
                query += f" AND {column} = ?"
                args.append(value)
        if since is not None:
            query += " AND ts >= ?"
            args.append(since)
        query += " ORDER BY namespace, metric, dimensions"
        return [Metric(account, region, found_namespace, found_name, dict(json.loads(dims)))
                for found_namespace, found_name, dims in self._db.execute(query, args)]

    def totals(self, namespace: str, name: str, since: int | None = None
               ) -> list[tuple[str, str, dict[str, str], float, int]]:
        """Per metric of every account: (account, region, dimensions, the sum of its
        points, the clock hours it has points in) since ``since``: what a bill counts."""
        query = ("SELECT account, region, dimensions, SUM(sum), COUNT(DISTINCT ts / 3600) "
                 "FROM points WHERE namespace = ? AND metric = ?")
        args: list = [namespace, name]
        if since is not None:
            query += " AND ts >= ?"
            args.append(since)
        query += " GROUP BY account, region, dimensions ORDER BY account, region, dimensions"
        return [(account, region, dict(json.loads(dims)), total, hours)
                for account, region, dims, total, hours in self._db.execute(query, args)]

    def first_point(self) -> int | None:
        (first,) = self._db.execute("SELECT MIN(ts) FROM points").fetchone()
        return first

    def roll_up(self, now: float | None = None) -> None:
        """Points past their resolution's retention become points of the next one (or go)."""
        now = time.time() if now is None else now
        with self._db:
            self._db.execute("BEGIN")
            for resolution, kept, into in RETENTION:
                cutoff = int(now) - kept
                if into is not None:
                    self._db.execute(
                        "INSERT INTO points SELECT account, region, namespace, metric, "
                        "dimensions, ts / ? * ?, ?, SUM(sum), SUM(count), MIN(min), MAX(max), "
                        "unit FROM points WHERE resolution = ? AND ts < ? GROUP BY account, "
                        "region, namespace, metric, dimensions, ts / ?, unit",
                        (into, into, into, resolution, cutoff, into))
                self._db.execute("DELETE FROM points WHERE resolution = ? AND ts < ?",
                                 (resolution, cutoff))
