"""Metric samples: each live sandbox's CPU, memory and network rates at each sampling, kept for a bounded time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    seq INTEGER PRIMARY KEY,
    sandbox_id TEXT NOT NULL,
    ts REAL NOT NULL,
    cpu_cores REAL NOT NULL,
    memory_bytes INTEGER NOT NULL,
    rx_rate REAL,
    tx_rate REAL
);
CREATE INDEX IF NOT EXISTS metrics_sandbox ON metrics (sandbox_id, ts);
"""

#: A sample as stored: (sandbox_id, ts, cpu_cores, memory_bytes, rx bytes/s or None, tx bytes/s or None).
MetricRow = tuple[str, float, float, int, float | None, float | None]

#: The columns a metric is read from.
COLUMNS = ("cpu_cores", "memory_bytes", "rx_rate", "tx_rate")


class MetricsTable:
    """The ``metrics`` table of the store's database."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        db.executescript(_SCHEMA)

    def insert(self, rows: Iterable[MetricRow]) -> None:
        """Add one sampling's rows in one transaction."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO metrics (sandbox_id, ts, cpu_cores, memory_bytes, rx_rate, tx_rate) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def prune(self, before: float, keep_rows: int) -> None:
        """Delete the samples older than ``before``, and the oldest beyond the newest ``keep_rows``.

        Rows are added in time order, so both are a range of the oldest rows:
        deleting them costs what is deleted, not a scan of the table.
        """
        with self._db:
            self._db.execute("BEGIN")
            first_kept = self._db.execute("SELECT seq FROM metrics WHERE ts >= ? ORDER BY seq LIMIT 1", (before,))
            row = first_kept.fetchone()
            if row is None:
                self._db.execute("DELETE FROM metrics WHERE ts < ?", (before,))
            else:
                self._db.execute("DELETE FROM metrics WHERE seq < ?", (row[0],))
            self._db.execute("DELETE FROM metrics WHERE seq <= (SELECT MAX(seq) FROM metrics) - ?", (keep_rows,))

    def values(self, sandbox_id: str, column: str, start: float, end: float) -> list[float]:
        """The non-null values of ``column`` sampled for the sandbox in ``[start, end]``, oldest first."""
        if column not in COLUMNS:
            raise ValueError(f"no metric column {column!r}")
        rows = self._db.execute(
            f"SELECT {column} FROM metrics WHERE sandbox_id=? AND ts BETWEEN ? AND ? AND {column} IS NOT NULL ORDER BY ts",
            (sandbox_id, start, end),
        ).fetchall()
        return [float(row[0]) for row in rows]

    def series(self, sandbox_id: str, column: str, start: float, end: float, points: int) -> list[tuple[float, float]]:
        """``(timestamp, value)`` of ``column`` in ``[start, end]``, oldest first, averaged down to at most ``points``."""
        if column not in COLUMNS:
            raise ValueError(f"no metric column {column!r}")
        where = f"sandbox_id=? AND ts BETWEEN ? AND ? AND {column} IS NOT NULL"
        params = (sandbox_id, start, end)
        count = int(self._db.execute(f"SELECT COUNT(*) FROM metrics WHERE {where}", params).fetchone()[0])
        if count <= points:
            rows = self._db.execute(f"SELECT ts, {column} FROM metrics WHERE {where} ORDER BY ts", params).fetchall()
        else:
            width = (end - start) / points
            rows = self._db.execute(
                f"SELECT MIN(ts), AVG({column}) FROM metrics WHERE {where} "
                "GROUP BY CAST((ts - ?) / ? AS INTEGER) ORDER BY 1",
                (*params, start, width),
            ).fetchall()
        return [(float(ts), float(value)) for ts, value in rows]
