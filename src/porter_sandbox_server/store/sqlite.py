"""The server's records: sandboxes, volumes, log lines, snapshots and metric samples in one SQLite database.

One connection, used only from the event loop's thread. Statements are short
(primary-key lookups, indexed filters, batched inserts), and the database runs
in WAL mode with ``synchronous=NORMAL``, so a commit appends to the log file
without waiting for the disk: cheap enough to run on the loop. A crash can lose
the last few commits, never corrupt the database.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .metrics import MetricsTable
from .records import LogRow, SandboxFilter, SandboxRecord, VolumeRecord
from .snapshots import SnapshotTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandboxes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    image TEXT NOT NULL,
    tags TEXT NOT NULL,
    command TEXT,
    args TEXT,
    env TEXT NOT NULL,
    volume_mounts TEXT NOT NULL,
    memory_bytes INTEGER,
    cpu_millis INTEGER,
    ttl_seconds INTEGER,
    phase TEXT NOT NULL,
    exit_code INTEGER,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    termination_reason TEXT,
    ttl_deadline REAL,
    host TEXT NOT NULL DEFAULT '',
    internal_address TEXT
);
CREATE INDEX IF NOT EXISTS sandboxes_created ON sandboxes (created_at);
CREATE INDEX IF NOT EXISTS sandboxes_phase ON sandboxes (phase);
CREATE INDEX IF NOT EXISTS sandboxes_image ON sandboxes (image);
CREATE TABLE IF NOT EXISTS volumes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sandbox_id TEXT NOT NULL,
    ts REAL NOT NULL,
    line TEXT NOT NULL,
    level TEXT NOT NULL,
    exec_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_sandbox ON logs (sandbox_id, seq);
"""


def _where(where: SandboxFilter) -> tuple[str, list[Any]]:
    """The SQL ``WHERE`` clause (with its parameters) that selects matching sandboxes."""
    clauses: list[str] = []
    params: list[Any] = []
    if where.search:
        # substr instead of LIKE: the prefix may hold % or _.
        clauses.append("substr(name, 1, ?) = ?")
        params += [len(where.search), where.search]
    for key, value in where.tags:
        if value is None:
            clauses.append("EXISTS (SELECT 1 FROM json_each(sandboxes.tags) AS j WHERE j.key = ?)")
            params.append(key)
        else:
            clauses.append("EXISTS (SELECT 1 FROM json_each(sandboxes.tags) AS j WHERE j.key = ? AND j.value = ?)")
            params += [key, value]
    if where.phases:
        clauses.append(f"phase IN ({','.join('?' * len(where.phases))})")
        params += where.phases
    if where.image is not None:
        clauses.append("image = ?")
        params.append(where.image)
    if where.start is not None:
        clauses.append("created_at >= ?")
        params.append(where.start)
    if where.end is not None:
        clauses.append("created_at <= ?")
        params.append(where.end)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_SANDBOX_COLUMNS = (
    "id, name, image, tags, command, args, env, volume_mounts, memory_bytes, cpu_millis, ttl_seconds, "
    "phase, created_at, exit_code, started_at, finished_at, termination_reason, ttl_deadline, host, internal_address"
)
#: Columns added after the first release, with their definitions: a database made before gains them at open.
_ADDED_COLUMNS = {
    "sandboxes": {"host": "TEXT NOT NULL DEFAULT ''", "internal_address": "TEXT"},
}


def _sandbox_from_row(row: Sequence[Any]) -> SandboxRecord:
    return SandboxRecord(
        id=row[0],
        name=row[1],
        image=row[2],
        tags=json.loads(row[3]),
        command=json.loads(row[4]) if row[4] is not None else None,
        args=json.loads(row[5]) if row[5] is not None else None,
        env=json.loads(row[6]),
        volume_mounts=json.loads(row[7]),
        memory_bytes=row[8],
        cpu_millis=row[9],
        ttl_seconds=row[10],
        phase=row[11],
        created_at=row[12],
        exit_code=row[13],
        started_at=row[14],
        finished_at=row[15],
        termination_reason=row[16],
        ttl_deadline=row[17],
        host=row[18],
        internal_address=row[19],
    )


class NameTaken(Exception):
    """A sandbox or volume with this name exists (or, for sandboxes, ever existed)."""


class Store:
    """SQLite-backed records of sandboxes, volumes and logs."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()
        self.snapshots = SnapshotTable(self._db)
        self.metrics = MetricsTable(self._db)

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, definition in columns.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # Sandboxes

    def insert_sandbox(self, record: SandboxRecord) -> None:
        """Add a new sandbox; raise ``NameTaken`` when any sandbox ever had its name."""
        try:
            self._db.execute(
                f"INSERT INTO sandboxes ({_SANDBOX_COLUMNS}) VALUES ({','.join('?' * 20)})",
                (
                    record.id,
                    record.name,
                    record.image,
                    json.dumps(record.tags),
                    json.dumps(record.command) if record.command is not None else None,
                    json.dumps(record.args) if record.args is not None else None,
                    json.dumps(record.env),
                    json.dumps(record.volume_mounts),
                    record.memory_bytes,
                    record.cpu_millis,
                    record.ttl_seconds,
                    record.phase,
                    record.created_at,
                    record.exit_code,
                    record.started_at,
                    record.finished_at,
                    record.termination_reason,
                    record.ttl_deadline,
                    record.host,
                    record.internal_address,
                ),
            )
        except sqlite3.IntegrityError as error:
            raise NameTaken(record.name) from error

    def update_state(self, record: SandboxRecord) -> None:
        """Save the sandbox's phase, times, exit code, reason, TTL deadline and placement."""
        self._db.execute(
            "UPDATE sandboxes SET phase=?, exit_code=?, started_at=?, finished_at=?, termination_reason=?, "
            "ttl_deadline=?, host=?, internal_address=? WHERE id=?",
            (
                record.phase,
                record.exit_code,
                record.started_at,
                record.finished_at,
                record.termination_reason,
                record.ttl_deadline,
                record.host,
                record.internal_address,
                record.id,
            ),
        )

    def get_sandbox(self, sandbox_id: str) -> SandboxRecord | None:
        """The sandbox with this id, or ``None``."""
        row = self._db.execute(f"SELECT {_SANDBOX_COLUMNS} FROM sandboxes WHERE id=?", (sandbox_id,)).fetchone()
        return _sandbox_from_row(row) if row else None

    def sandbox_id_by_name(self, name: str) -> str | None:
        """The id of the sandbox that has (or had) this name, or ``None``."""
        row = self._db.execute("SELECT id FROM sandboxes WHERE name=?", (name,)).fetchone()
        return str(row[0]) if row else None

    def live_sandboxes(self) -> list[SandboxRecord]:
        """Every sandbox not in a terminal phase."""
        rows = self._db.execute(
            f"SELECT {_SANDBOX_COLUMNS} FROM sandboxes WHERE phase NOT IN ('succeeded', 'failed', 'terminated')"
        ).fetchall()
        return [_sandbox_from_row(row) for row in rows]

    def count_live(self) -> int:
        """How many sandboxes are in a non-terminal phase."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM sandboxes WHERE phase NOT IN ('succeeded', 'failed', 'terminated')"
        ).fetchone()
        return int(row[0])

    def list_sandboxes(self, where: SandboxFilter, offset: int, limit: int) -> tuple[list[SandboxRecord], int]:
        """One page of matching sandboxes, newest first, and how many match in all."""
        clause, params = _where(where)
        total = int(self._db.execute(f"SELECT COUNT(*) FROM sandboxes{clause}", params).fetchone()[0])
        rows = self._db.execute(
            f"SELECT {_SANDBOX_COLUMNS} FROM sandboxes{clause} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [_sandbox_from_row(row) for row in rows], total

    def filter_values(self) -> tuple[list[str], list[str]]:
        """The distinct ``key=value`` tags and images among all sandboxes."""
        tags = [
            f"{key}={value}"
            for key, value in self._db.execute(
                "SELECT DISTINCT j.key, j.value FROM sandboxes, json_each(sandboxes.tags) AS j ORDER BY 1, 2"
            )
        ]
        images = [row[0] for row in self._db.execute("SELECT DISTINCT image FROM sandboxes ORDER BY 1")]
        return tags, images

    def count_buckets(self, where: SandboxFilter, origin: float, width: float) -> dict[int, int]:
        """Matching sandboxes per bucket: bucket ``n`` holds creation times in ``origin + n*width``."""
        clause, params = _where(where)
        rows = self._db.execute(
            f"SELECT CAST((created_at - ?) / ? AS INTEGER) AS bucket, COUNT(*) FROM sandboxes{clause} GROUP BY bucket",
            [origin, width, *params],
        ).fetchall()
        return {int(bucket): int(count) for bucket, count in rows}

    # Volumes

    def insert_volume(self, record: VolumeRecord) -> None:
        """Add a volume; raise ``NameTaken`` when an existing volume has its name."""
        try:
            self._db.execute(
                "INSERT INTO volumes (id, name, created_at) VALUES (?, ?, ?)",
                (record.id, record.name, record.created_at),
            )
        except sqlite3.IntegrityError as error:
            raise NameTaken(record.name) from error

    def get_volume(self, volume_id: str) -> VolumeRecord | None:
        """The volume with this id, or ``None``."""
        row = self._db.execute("SELECT id, name, created_at FROM volumes WHERE id=?", (volume_id,)).fetchone()
        return VolumeRecord(*row) if row else None

    def volume_id_by_name(self, name: str) -> str | None:
        """The id of the existing volume with this name, or ``None``."""
        row = self._db.execute("SELECT id FROM volumes WHERE name=?", (name,)).fetchone()
        return str(row[0]) if row else None

    def list_volumes(self) -> list[VolumeRecord]:
        """Every existing volume, oldest first."""
        rows = self._db.execute("SELECT id, name, created_at FROM volumes ORDER BY created_at, id").fetchall()
        return [VolumeRecord(*row) for row in rows]

    def delete_volume(self, volume_id: str) -> None:
        """Forget the volume (its name becomes free)."""
        self._db.execute("DELETE FROM volumes WHERE id=?", (volume_id,))

    # Logs

    def insert_logs(self, rows: Iterable[LogRow]) -> None:
        """Append log lines in one transaction."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO logs (sandbox_id, ts, line, level, exec_id) VALUES (?, ?, ?, ?, ?)", rows)

    def last_error_line(self, sandbox_id: str) -> str | None:
        """The last line the sandbox's main process (or the server, about it) wrote on stderr, or ``None``."""
        row = self._db.execute(
            "SELECT line FROM logs WHERE sandbox_id=? AND exec_id='' AND level='error' ORDER BY seq DESC LIMIT 1",
            (sandbox_id,),
        ).fetchone()
        return str(row[0]) if row else None

    def read_logs(self, sandbox_id: str, since: float | None, limit: int | None) -> list[tuple[float, str, str, str]]:
        """The sandbox's lines after ``since``, oldest first; with ``limit``, only the newest that many."""
        clause = " AND ts > ?" if since is not None else ""
        params: list[Any] = [sandbox_id] if since is None else [sandbox_id, since]
        if limit is None:
            return self._db.execute(
                f"SELECT ts, line, level, exec_id FROM logs WHERE sandbox_id=?{clause} ORDER BY seq", params
            ).fetchall()
        rows = self._db.execute(
            f"SELECT ts, line, level, exec_id FROM logs WHERE sandbox_id=?{clause} ORDER BY seq DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        rows.reverse()
        return rows
