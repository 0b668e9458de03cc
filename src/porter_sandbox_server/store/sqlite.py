"""The server's records: sandboxes, volumes, log lines, snapshots and metric samples in one SQLite database.

One connection, used only from the event loop's thread. Statements are short
(primary-key lookups, indexed filters, batched inserts), and the database runs
in WAL mode with ``synchronous=NORMAL``, so a commit appends to the log file
without waiting for the disk: cheap enough to run on the loop. A crash can lose
the last few commits, never corrupt the database.

Checkpoints (copying the log into the database, and waiting for the disk
twice) are what does wait: SQLite runs one inside the commit that finds the
log over 1000 pages, stalling the loop for as long as the disk takes to take
4 MB. So a thread of its own (``_Checkpointer``, on a connection of its own)
copies the log every ``CHECKPOINT_INTERVAL`` seconds without holding up
anyone; what is left for the commit's own checkpoint is then a few pages.
That one is still needed: only a checkpoint that copied every page, met by
the next writer, starts the log over, and a thread copying while the loop
writes never catches up with it, so the log would grow without end.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from .metrics import MetricsTable
from .records import LogPage, LogRow, LogUsage, SandboxFilter, SandboxRecord, VolumeRecord
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
CREATE TABLE IF NOT EXISTS log_drops (
    sandbox_id TEXT PRIMARY KEY,
    lines INTEGER NOT NULL,
    marker_seq INTEGER NOT NULL
);
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


class StoreFull(Exception):
    """The disk under the database is full: nothing of this write was recorded."""


#: SQLite's result code for a full disk (``sqlite3.SQLITE_FULL`` from Python 3.11 on).
_SQLITE_FULL = 13


def _is_full(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code == _SQLITE_FULL or "database or disk is full" in str(error)


_F = TypeVar("_F", bound=Callable[..., Any])


def _writes(method: _F) -> _F:
    """A method that writes: SQLite's "disk is full" becomes ``StoreFull`` (the statement left nothing)."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if _is_full(error):
                raise StoreFull(str(error)) from error
            raise

    return cast(_F, wrapper)


#: How often the write-ahead log is copied into the database, in seconds.
CHECKPOINT_INTERVAL = 0.25

logger = logging.getLogger("porter_sandbox_server")


class _Checkpointer(threading.Thread):
    """Copies the write-ahead log into the database now and then, off the event loop."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="store-checkpoint", daemon=True)
        self._path = path
        self._stopping = threading.Event()
        self._failing = False

    def run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping.wait(CHECKPOINT_INTERVAL):
                try:
                    # PASSIVE: copies what it can without waiting for (or holding up) anyone.
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self._failing = False
                except sqlite3.Error as error:
                    if not self._failing:
                        logger.warning("checkpointing the database failed (tried again): %s", error)
                    self._failing = True
        finally:
            db.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)


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
        self._checkpointer = _Checkpointer(path)
        self._checkpointer.start()

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, definition in columns.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        """Close the database (the last connection to close checkpoints what is left)."""
        self._checkpointer.stop()
        self._db.close()

    # Sandboxes

    @_writes
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

    @_writes
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

    @_writes
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

    @_writes
    def delete_volume(self, volume_id: str) -> None:
        """Forget the volume (its name becomes free)."""
        self._db.execute("DELETE FROM volumes WHERE id=?", (volume_id,))

    # Logs

    @_writes
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

    def log_usage(self, sandbox_id: str) -> LogUsage:
        """How many lines and bytes of text the sandbox's log holds, and its newest line's time."""
        lines, size, newest = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(length(CAST(line AS BLOB))), 0), MAX(ts) FROM logs WHERE sandbox_id=?",
            (sandbox_id,),
        ).fetchone()
        return LogUsage(lines=int(lines), bytes=int(size), newest=newest)

    def oldest_logs(self, sandbox_id: str, lines: int, size: int) -> tuple[int, int, int, float] | None:
        """The oldest lines to drop so that at least ``lines`` lines and ``size`` bytes go.

        Answers ``(seq of the last of them, how many, their bytes, its time)``,
        or ``None`` when the log holds less than that.
        """
        count = dropped = 0
        cursor = self._db.execute(
            "SELECT seq, length(CAST(line AS BLOB)), ts FROM logs WHERE sandbox_id=? ORDER BY seq", (sandbox_id,)
        )
        try:
            for seq, line_size, ts in cursor:
                count += 1
                dropped += int(line_size)
                if count >= lines and dropped >= size:
                    return int(seq), count, dropped, float(ts)
        finally:
            cursor.close()
        return None

    @_writes
    def drop_logs(self, sandbox_id: str, last_seq: int, dropped_lines: int, note: Callable[[int], str]) -> int:
        """Drop the sandbox's lines up to ``last_seq``; in their place, one line (``note(total dropped)``).

        Answers how many lines were ever dropped from this log (the earlier
        note, dropped with the rest, is not counted). All in one transaction.
        """
        with self._db:
            self._db.execute("BEGIN")
            row = self._db.execute(
                "SELECT lines, marker_seq FROM log_drops WHERE sandbox_id=?", (sandbox_id,)
            ).fetchone()
            total = dropped_lines
            if row is not None:
                total += int(row[0]) - (1 if int(row[1]) <= last_seq else 0)
            ts = self._db.execute("SELECT ts FROM logs WHERE seq=?", (last_seq,)).fetchone()[0]
            self._db.execute("DELETE FROM logs WHERE sandbox_id=? AND seq<=?", (sandbox_id, last_seq))
            # The note takes the place (and the number) of the last line dropped: it reads first.
            self._db.execute(
                "INSERT INTO logs (seq, sandbox_id, ts, line, level, exec_id) VALUES (?, ?, ?, ?, 'warning', '')",
                (last_seq, sandbox_id, ts, note(total)),
            )
            self._db.execute(
                "INSERT INTO log_drops (sandbox_id, lines, marker_seq) VALUES (?, ?, ?) "
                "ON CONFLICT (sandbox_id) DO UPDATE SET lines=excluded.lines, marker_seq=excluded.marker_seq",
                (sandbox_id, total, last_seq),
            )
        return total

    def read_logs(self, sandbox_id: str, since: float | None, limit: int | None, page: int, max_bytes: int) -> LogPage:
        """A bounded page of the sandbox's lines written after ``since``, oldest first.

        With ``limit``: the newest ``limit`` lines. Without: the oldest ``page``
        lines (the next page starts after the last one's time). Either way the
        lines hold at most ``max_bytes`` of text; ``truncated`` says whether
        matching lines were left out.
        """
        clause = " AND ts > ?" if since is not None else ""
        params: list[Any] = [sandbox_id] if since is None else [sandbox_id, since]
        newest = limit is not None
        count = limit if limit is not None else page
        order = "DESC" if newest else ""
        cursor = self._db.execute(
            f"SELECT ts, line, level, exec_id FROM logs WHERE sandbox_id=?{clause} ORDER BY seq {order} LIMIT ?",
            [*params, count + 1],
        )
        rows: list[tuple[float, str, str, str]] = []
        size = 0
        truncated = False
        try:
            for row in cursor:
                line = row[1]
                size += len(line) if line.isascii() else len(line.encode("utf-8", "replace"))
                if len(rows) == count or (size > max_bytes and rows):
                    truncated = True
                    break
                rows.append(row)
        finally:
            cursor.close()
        if newest:
            rows.reverse()
        return LogPage(rows=rows, truncated=truncated)
