"""Snapshot records: what was captured of which sandbox, and where its capture is."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sandbox_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    image TEXT NOT NULL,
    created_at REAL NOT NULL,
    ready_at REAL,
    failure_reason TEXT,
    size_bytes INTEGER
);
CREATE INDEX IF NOT EXISTS snapshots_sandbox ON snapshots (sandbox_id);
"""
_COLUMNS = "id, sandbox_id, mode, status, image, created_at, ready_at, failure_reason, size_bytes"


@dataclass
class SnapshotRecord:
    """One snapshot; times are seconds since the epoch."""

    id: str
    sandbox_id: str
    #: ``filesystem`` or ``full``.
    mode: str
    #: ``pending``, ``ready`` or ``failed``.
    status: str
    #: The image of the sandbox it was taken of: what sandboxes started from it report.
    image: str
    created_at: float
    ready_at: float | None = None
    failure_reason: str | None = None
    size_bytes: int | None = None


def _record(row: Sequence[Any]) -> SnapshotRecord:
    return SnapshotRecord(*row)


class SnapshotTable:
    """The ``snapshots`` table of the store's database."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        db.executescript(_SCHEMA)

    def insert(self, record: SnapshotRecord) -> None:
        """Add a new snapshot."""
        self._db.execute(
            f"INSERT INTO snapshots ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.sandbox_id,
                record.mode,
                record.status,
                record.image,
                record.created_at,
                record.ready_at,
                record.failure_reason,
                record.size_bytes,
            ),
        )

    def update(self, record: SnapshotRecord) -> None:
        """Save the snapshot's status, time ready, failure reason and size."""
        self._db.execute(
            "UPDATE snapshots SET status=?, ready_at=?, failure_reason=?, size_bytes=? WHERE id=?",
            (record.status, record.ready_at, record.failure_reason, record.size_bytes, record.id),
        )

    def get(self, snapshot_id: str) -> SnapshotRecord | None:
        """The snapshot with this id, or ``None``."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM snapshots WHERE id=?", (snapshot_id,)).fetchone()
        return _record(row) if row else None

    def list(self, sandbox_id: str | None = None, status: str | None = None) -> list[SnapshotRecord]:
        """Snapshots, newest first; only those of ``sandbox_id`` and in ``status`` when given."""
        clauses, params = [], []
        if sandbox_id is not None:
            clauses.append("sandbox_id=?")
            params.append(sandbox_id)
        if status is not None:
            clauses.append("status=?")
            params.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM snapshots{where} ORDER BY created_at DESC, seq DESC", params
        ).fetchall()
        return [_record(row) for row in rows]

    def delete(self, snapshot_id: str) -> None:
        """Forget the snapshot."""
        self._db.execute("DELETE FROM snapshots WHERE id=?", (snapshot_id,))
