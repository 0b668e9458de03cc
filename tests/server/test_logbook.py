"""The log book on a real store: retention, bounded pages that ``since`` pages through, a full disk.

Time is a ``ManualClock`` that never moves unless told, so every line of a
test is written at the same instant: the book must still give each its own
timestamp, or paging by ``since`` would lose or repeat lines.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_runtime import ManualClock

from porter_sandbox_server.core.logs import HARD_LIMIT, PAGE_LINES, LogBook, LogRetention
from porter_sandbox_server.http.answers import timestamp
from porter_sandbox_server.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "records.db")
    yield opened
    opened.close()


def lines_of(book: LogBook, sandbox_id: str) -> list[str]:
    """Every line of the sandbox's log, oldest first, read page by page as a client would."""
    seen: list[str] = []
    since: float | None = None
    while True:
        page = book.read(sandbox_id, since, None)
        seen += [line for _ts, line, _level, _exec in page.rows]
        if not page.truncated:
            return seen
        # What a client sends back: the last line's timestamp as the API writes it.
        since = timestamp(page.rows[-1][0]).timestamp()


def test_a_log_keeps_its_newest_lines_and_says_how_many_older_ones_went(store: Store) -> None:
    book = LogBook(store, ManualClock(), LogRetention(max_lines=100, max_bytes=10**6))
    for n in range(1, 251):
        book.append("sb-a", "", "stdout", f"line {n}")
    book.append("sb-b", "", "stdout", "another sandbox's line")
    book.flush()
    lines = lines_of(book, "sb-a")
    assert len(lines) <= 100
    assert lines[-1] == "line 250"
    note, first_kept = lines[0], lines[1]
    dropped = int(first_kept.split()[1]) - 1
    assert note.startswith(f"[porter-sandbox: {dropped} older lines were dropped")
    assert lines[1:] == [f"line {n}" for n in range(dropped + 1, 251)]
    page = book.read("sb-a", None, 1)
    assert [row[1] for row in page.rows] == ["line 250"] and page.truncated
    assert book.read("sb-a", None, None).rows[0][2] == "warning"
    # Dropping again counts every line dropped so far, once (the older note is not a line of the sandbox's).
    for n in range(251, 501):
        book.append("sb-a", "", "stdout", f"line {n}")
    book.flush()
    lines = lines_of(book, "sb-a")
    dropped = int(lines[1].split()[1]) - 1
    assert lines[0].startswith(f"[porter-sandbox: {dropped} older lines were dropped")
    assert lines[1:] == [f"line {n}" for n in range(dropped + 1, 501)]
    assert lines_of(book, "sb-b") == ["another sandbox's line"]


def test_a_log_keeps_at_most_its_bytes(store: Store) -> None:
    book = LogBook(store, ManualClock(), LogRetention(max_lines=10**6, max_bytes=100_000))
    for n in range(1000):
        book.append("sb-a", "", "stdout", f"{n:04d}" + "é" * 500)  # 1004 bytes of UTF-8 each
    book.flush()
    usage = store.log_usage("sb-a")
    assert usage.bytes <= 100_000
    lines = lines_of(book, "sb-a")
    assert "older lines were dropped" in lines[0] and lines[-1].startswith("0999")


def test_pages_without_a_limit_go_oldest_first_and_since_pages_through_every_line_once(store: Store) -> None:
    book = LogBook(store, ManualClock(), LogRetention(max_lines=10**6, max_bytes=10**9))
    total = 2 * PAGE_LINES + 7
    for n in range(total):
        book.append("sb-a", "ex-1" if n % 2 else "", "stderr" if n % 3 else "stdout", f"line {n}")
    first = book.read("sb-a", None, None)
    assert len(first.rows) == PAGE_LINES and first.truncated
    assert first.rows[0][1] == "line 0"
    assert lines_of(book, "sb-a") == [f"line {n}" for n in range(total)]
    stamps = [row[0] for row in store.read_logs("sb-a", None, None, total, 10**9).rows]
    assert stamps == sorted(set(stamps)), "every line has its own, increasing time"


def test_a_page_holds_at_most_its_bytes(store: Store) -> None:
    book = LogBook(store, ManualClock(), LogRetention(max_lines=10**6, max_bytes=10**9))
    line = "x" * 60_000
    for _ in range(300):  # 18 MB of text
        book.append("sb-a", "", "stdout", line)
    newest = book.read("sb-a", None, 300)
    assert newest.truncated and 0 < len(newest.rows) < 300
    assert sum(len(row[1]) for row in newest.rows) <= 8 * 1024 * 1024
    assert len(lines_of(book, "sb-a")) == 300


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB filesystem of its own (a tmpfs), so that a test can fill it; skips where mounting is not allowed."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {made.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a file into ``directory`` until its disk is full; answer the file (delete it to free the disk)."""
    filler = directory / "filler"
    with open(filler, "wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_keeps_lines_waiting_then_writes_them_and_what_was_lost(small_disk: Path) -> None:
    store = Store(small_disk / "records.db")
    clock = ManualClock()
    try:
        book = LogBook(store, clock, LogRetention())
        book.append("sb-a", "", "stdout", "before")
        book.flush()
        filler = fill(small_disk)
        book.append("sb-a", "", "stdout", "while full 0")
        book.flush()  # refused: nothing raised, the line waits
        for n in range(1, HARD_LIMIT + 50):
            book.append("sb-a", "", "stdout", f"while full {n}")
        book.flush()  # refused again; what memory could not hold is counted
        assert book.accepting(), "a full disk must not hold sandboxes' output back forever"
        assert [row[1] for row in book.read("sb-a", None, None).rows] == ["before"]  # reads still work
        os.unlink(filler)
        clock.advance(5)  # the retry
        book.flush()
        lines = lines_of(book, "sb-a")
        assert lines[0] == "before"
        assert lines[1:-1] == [f"while full {n}" for n in range(HARD_LIMIT)]
        assert lines[-1].startswith("[porter-sandbox: 50 lines of output were lost here: the disk")
    finally:
        store.close()
