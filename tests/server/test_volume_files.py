"""The volume files logic on temporary directories: safe paths, listings, ranges, atomic writes, moves.

Each test builds a small tree in ``tmp_path`` (``volume`` is the volume's
directory, ``other`` another volume beside it) and plants what a hostile
sandbox could: symbolic links out of the volume, fifos, swapped directories.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from porter_sandbox_server import errors
from porter_sandbox_server.http.ranges import parse_range
from porter_sandbox_server.volumes import hostdir as volume_files
from porter_sandbox_server.volumes.base import FileEntry
from porter_sandbox_server.volumes.hostdir import list_files, move, open_file, write_file


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    root = tmp_path / "volume"
    root.mkdir()
    return root


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    """Where uploads wait (the server's, outside every volume)."""
    root = tmp_path / "staging"
    root.mkdir()
    return root


@pytest.fixture
def other(tmp_path: Path) -> Path:
    """Another volume's directory, holding a secret no request on ``volume`` may reach."""
    root = tmp_path / "other"
    root.mkdir()
    (root / "secret.txt").write_text("other volume's secret")
    return root


def read_all(root: Path, path: str) -> bytes:
    with open_file(root, path) as opened:
        return opened.read(0, opened.size + 1)


def names(entries: list[FileEntry]) -> list[str]:
    return [entry.name for entry in entries]


def count(entries: list[FileEntry]) -> int:
    return sum(1 + count(entry.entries) for entry in entries)


def find(entries: list[FileEntry], *path: str) -> FileEntry:
    entry = next(e for e in entries if e.name == path[0])
    return find(entry.entries, *path[1:]) if len(path) > 1 else entry


def temp_files(*roots: Path) -> list[str]:
    return [str(p) for root in roots for p in root.rglob(f"{volume_files.TEMP_PREFIX}*")]


# --- paths -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("", ()),
        ("/", ()),
        ("a/b", ("a", "b")),
        ("/a/b", ("a", "b")),
        ("//a/./b/", ("a", "b")),
        ("/etc/passwd", ("etc", "passwd")),
    ],
)
def test_paths_are_relative_to_the_volume_root_with_or_without_a_leading_slash(
    path: str, parts: tuple[str, ...]
) -> None:
    assert volume_files.split_path(path) == parts


@pytest.mark.parametrize("path", ["..", "../other/secret.txt", "/../..", "a/../../b", "a/..", "a\x00b"])
def test_dot_dot_and_nul_are_refused(path: str) -> None:
    with pytest.raises(errors.BadRequest):
        volume_files.split_path(path)


def test_an_absolute_path_names_a_file_inside_the_volume(volume: Path) -> None:
    (volume / "etc").mkdir()
    (volume / "etc" / "passwd").write_text("the volume's own passwd")
    assert read_all(volume, "/etc/passwd") == b"the volume's own passwd"
    with pytest.raises(errors.NotFound):
        read_all(volume, "/etc/hostname")


# --- listing -------------------------------------------------------------------------------------


def test_listing_is_nested_directories_first_then_files_each_by_name(volume: Path) -> None:
    for directory in ["b", "a", "a/z", "a/y"]:
        (volume / directory).mkdir()
    for file in ["c.txt", "B.txt", "a/x.txt", "a/y/deep.bin", "0.txt"]:
        (volume / file).write_bytes(b"12345")
    listing = list_files(volume)
    assert listing.path == "/"
    assert listing.truncated is False
    assert names(listing.entries) == ["a", "b", "0.txt", "B.txt", "c.txt"]
    a = find(listing.entries, "a")
    assert a.is_directory and a.size_bytes == 0 and a.truncated is False
    assert names(a.entries) == ["y", "z", "x.txt"]
    assert names(find(listing.entries, "a", "y").entries) == ["deep.bin"]
    deep = find(listing.entries, "a", "y", "deep.bin")
    assert not deep.is_directory and deep.size_bytes == 5
    assert deep.modified_at.timestamp() == pytest.approx((volume / "a/y/deep.bin").stat().st_mtime)
    assert find(listing.entries, "b").entries == []


def test_listing_a_subdirectory_with_or_without_a_leading_slash(volume: Path) -> None:
    (volume / "a" / "b").mkdir(parents=True)
    (volume / "a" / "b" / "f").write_text("x")
    for path in ["a", "/a", "/a/"]:
        listing = list_files(volume, path)
        assert listing.path == "/a"
        assert names(listing.entries) == ["b"]
        assert names(listing.entries[0].entries) == ["f"]


def test_the_walk_is_breadth_first_up_to_the_budget_and_marks_what_it_left_out(volume: Path) -> None:
    # Three levels: d0..d2 at the top, each with 3 subdirectories, each with 3 files (39 entries in all).
    for i in range(3):
        for j in range(3):
            sub = volume / f"d{i}" / f"s{j}"
            sub.mkdir(parents=True)
            for k in range(3):
                (sub / f"f{k}").write_text("x")
    (volume / "top.txt").write_text("x")
    whole = list_files(volume)
    assert count(whole.entries) == 40 and whole.truncated is False

    listing = list_files(volume, max_entries=10)
    assert count(listing.entries) == 10
    assert listing.truncated is True
    # Breadth-first: the first level (4 entries) whole, then second-level entries until the budget of 10
    # runs out (d0's and d1's); no third-level entry at all.
    assert names(listing.entries) == ["d0", "d1", "d2", "top.txt"]
    assert names(find(listing.entries, "d0").entries) == ["s0", "s1", "s2"]
    assert find(listing.entries, "d0").truncated is False
    assert names(find(listing.entries, "d1").entries) == ["s0", "s1", "s2"]
    assert find(listing.entries, "d2").entries == [] and find(listing.entries, "d2").truncated is True
    for child in ["s0", "s1", "s2"]:
        left_out = find(listing.entries, "d0", child)
        assert left_out.entries == [] and left_out.truncated is True


def test_a_directory_cut_part_way_keeps_its_first_entries_in_order(volume: Path) -> None:
    for i in range(50):
        (volume / f"f{i:02d}").write_text("x")
    (volume / "zdir").mkdir()
    listing = list_files(volume, max_entries=5)
    assert names(listing.entries) == ["zdir", "f00", "f01", "f02", "f03"]
    assert listing.truncated is True
    assert find(listing.entries, "zdir").truncated is False  # it is empty: nothing was left out


def test_empty_directories_reached_after_the_budget_are_not_marked_truncated(volume: Path) -> None:
    (volume / "empty").mkdir()
    (volume / "full").mkdir()
    (volume / "full" / "f").write_text("x")
    listing = list_files(volume, max_entries=2)
    assert find(listing.entries, "empty").truncated is False
    assert find(listing.entries, "full").truncated is True
    assert listing.truncated is True


def test_listings_leave_out_symlinks_and_fifos(volume: Path, other: Path) -> None:
    (volume / "real.txt").write_text("x")
    (volume / "etc").symlink_to("/etc")
    (volume / "other").symlink_to(other)
    (volume / "inside").symlink_to("real.txt")
    os.mkfifo(volume / "pipe")
    assert names(list_files(volume).entries) == ["real.txt"]


def test_an_upload_in_flight_waits_outside_the_volume_and_a_restart_clears_what_was_left(
    volume: Path, staging: Path
) -> None:
    with volume_files.begin_write(volume, "new.txt", staging) as pending:
        pending.write(b"half an upload")
        assert temp_files(volume) == [] and len(temp_files(staging)) == 1
        assert names(list_files(volume).entries) == []
        left = Path(temp_files(staging)[0])
        left.with_name(left.name + "-of-a-killed-server").write_bytes(b"x")
        pending.commit()
    assert (volume / "new.txt").read_bytes() == b"half an upload"
    assert len(temp_files(staging)) == 1
    volume_files.clear_staging(staging)
    assert temp_files(staging) == [] and staging.is_dir()


def test_listing_refuses_a_symlinked_directory_missing_paths_and_files(volume: Path, other: Path) -> None:
    (volume / "other").symlink_to(other)
    (volume / "real").mkdir()
    (volume / "real" / "etc").symlink_to("/etc")
    (volume / "file.txt").write_text("x")
    for path in ["other", "/other", "real/etc", "/real/etc/ssl"]:
        with pytest.raises(errors.BadRequest, match="symbolic link"):
            list_files(volume, path)
    with pytest.raises(errors.NotFound):
        list_files(volume, "missing")
    with pytest.raises(errors.BadRequest, match="is a file"):
        list_files(volume, "file.txt")
    with pytest.raises(errors.BadRequest):
        list_files(volume, "../other")


def test_search_answers_matching_entries_and_the_directories_leading_to_them(volume: Path) -> None:
    (volume / "src" / "pkg").mkdir(parents=True)
    (volume / "docs").mkdir()
    (volume / "reports").mkdir()
    (volume / "src" / "pkg" / "report.py").write_text("x")
    (volume / "src" / "main.py").write_text("x")
    (volume / "docs" / "Quarterly-REPORT.md").write_text("x")
    (volume / "notes.txt").write_text("x")
    listing = list_files(volume, search="report")
    assert listing.truncated is False
    assert names(listing.entries) == ["docs", "reports", "src"]
    assert names(find(listing.entries, "docs").entries) == ["Quarterly-REPORT.md"]
    assert find(listing.entries, "reports").entries == []  # matches by its own name
    assert names(find(listing.entries, "src").entries) == ["pkg"]
    assert names(find(listing.entries, "src", "pkg").entries) == ["report.py"]
    assert list_files(volume, search="nothing-like-this").entries == []


def test_search_stops_at_its_scan_budget_and_marks_the_directories_it_did_not_finish(volume: Path) -> None:
    (volume / "a").mkdir()
    (volume / "b").mkdir()
    for i in range(20):
        (volume / "a" / f"x{i}").write_text("x")
        (volume / "b" / f"x{i}").write_text("x")
    listing = list_files(volume, search="x1", max_scanned=10)
    assert listing.truncated is True
    shown = {entry.name: entry for entry in listing.entries}
    assert all(entry.truncated for entry in shown.values())
    assert set(shown) <= {"a", "b"} and shown


def test_search_never_follows_symlinks(volume: Path, other: Path) -> None:
    (volume / "other").symlink_to(other)
    (volume / "etc").symlink_to("/etc")
    assert list_files(volume, search="secret").entries == []
    assert list_files(volume, search="passwd").entries == []


# --- reading -------------------------------------------------------------------------------------


def test_reads_refuse_symlinks_to_etc_to_another_volume_and_symlinked_parents(volume: Path, other: Path) -> None:
    (volume / "passwd").symlink_to("/etc/passwd")
    (volume / "etc").symlink_to("/etc")
    (volume / "stolen.txt").symlink_to(other / "secret.txt")
    (volume / "other").symlink_to(other)
    (volume / "real").mkdir()
    (volume / "real" / "up").symlink_to("..")
    (volume / "real" / "f.txt").write_text("fine")
    for path in ["passwd", "/etc/passwd", "stolen.txt", "other/secret.txt", "/other/secret.txt", "real/up/real/f.txt"]:
        with pytest.raises(errors.BadRequest, match="symbolic link"):
            read_all(volume, path)
    for path in ["../other/secret.txt", "/../other/secret.txt", "real/../../other/secret.txt"]:
        with pytest.raises(errors.BadRequest):
            read_all(volume, path)
    assert read_all(volume, "real/f.txt") == b"fine"


def test_reading_a_planted_fifo_is_refused_without_blocking(volume: Path) -> None:
    os.mkfifo(volume / "pipe")
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            read_all(volume, "pipe")
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "opening a fifo blocked"
    assert len(outcome) == 1 and isinstance(outcome[0], errors.BadRequest)


def test_reading_a_directory_or_the_root_is_a_400_and_a_missing_file_a_404(volume: Path) -> None:
    (volume / "dir").mkdir()
    (volume / "file.txt").write_text("x")
    for path in ["dir", "", "/"]:
        with pytest.raises(errors.BadRequest):
            open_file(volume, path)
    for path in ["missing.txt", "dir/missing.txt", "nodir/file.txt", "file.txt/below"]:
        with pytest.raises(errors.NotFound):
            open_file(volume, path)


def test_an_open_file_reports_size_and_modification_time_and_reads_ranges(volume: Path) -> None:
    (volume / "f.bin").write_bytes(bytes(range(256)))
    with open_file(volume, "/f.bin") as opened:
        assert opened.size == 256
        assert opened.modified_at == (volume / "f.bin").stat().st_mtime
        assert opened.read(10, 5) == bytes(range(10, 15))
        assert opened.read(250, 100) == bytes(range(250, 256))


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-4", 10, (0, 4)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=5-100", 10, (5, 9)),
        ("bytes=9-9", 10, (9, 9)),
        (" bytes = 1 - 2 ", 10, (1, 2)),
        ("BYTES=1-2", 10, (1, 2)),
    ],
)
def test_parse_range_accepts_one_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10)])
def test_an_unsatisfiable_range_is_a_416_carrying_the_size(header: str, size: int) -> None:
    with pytest.raises(errors.RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.headers == {"Content-Range": f"bytes */{size}"}


@pytest.mark.parametrize("header", ["bytes=0-", "bytes=-5", "bytes=0-8388607", "bytes=3-4"])
def test_any_range_of_an_empty_file_answers_the_whole_empty_file(header: str) -> None:
    assert parse_range(header, 0) is None


@pytest.mark.parametrize("header", ["bytes=4-2", "bytes=0-1,4-5", "items=0-1", "bytes=a-b", "bytes=-", "bytes", "0-1"])
def test_a_malformed_range_is_a_400(header: str) -> None:
    with pytest.raises(errors.BadRequest):
        parse_range(header, 10)


# --- writing -------------------------------------------------------------------------------------


def test_a_write_creates_parents_and_replaces_the_old_content(volume: Path, staging: Path) -> None:
    assert write_file(volume, "/a/b/c.txt", [b"first ", b"version"], staging) == 13
    assert (volume / "a" / "b" / "c.txt").read_bytes() == b"first version"
    write_file(volume, "a/b/c.txt", [b"second"], staging)
    assert (volume / "a" / "b" / "c.txt").read_bytes() == b"second"
    write_file(volume, "empty", [], staging)
    assert (volume / "empty").read_bytes() == b""
    assert temp_files(volume, staging) == []


def test_a_replaced_file_keeps_its_mode(volume: Path, staging: Path) -> None:
    script = volume / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o751)
    write_file(volume, "run.sh", [b"#!/bin/sh\necho new\n"], staging)
    assert stat.S_IMODE(script.stat().st_mode) == 0o751


def test_an_aborted_write_keeps_the_old_content_and_leaves_no_temporary_file_or_new_directory(
    volume: Path, staging: Path
) -> None:
    (volume / "keep.txt").write_text("old content")
    with volume_files.begin_write(volume, "keep.txt", staging) as pending:
        pending.write(b"half of the new")
        assert len(temp_files(volume, staging)) == 1
        assert (volume / "keep.txt").read_text() == "old content"  # nothing is visible before commit
    assert (volume / "keep.txt").read_text() == "old content"
    assert temp_files(volume, staging) == []

    with volume_files.begin_write(volume, "new/dirs/file.txt", staging) as pending:
        pending.write(b"x")
        pending.abort()
    assert not (volume / "new").exists()


def test_an_aborted_write_keeps_directories_that_others_filled_meanwhile(volume: Path, staging: Path) -> None:
    pending = volume_files.begin_write(volume, "shared/mine.txt", staging)
    (volume / "shared" / "theirs.txt").write_text("someone else's")
    pending.abort()
    assert (volume / "shared" / "theirs.txt").read_text() == "someone else's"


def test_writing_onto_a_directory_or_below_a_file_is_a_409(volume: Path, staging: Path) -> None:
    (volume / "dir").mkdir()
    (volume / "file.txt").write_text("x")
    with pytest.raises(errors.Conflict, match="directory"):
        write_file(volume, "dir", [b"x"], staging)
    with pytest.raises(errors.Conflict, match="is a file"):
        write_file(volume, "file.txt/below.txt", [b"x"], staging)
    with pytest.raises(errors.BadRequest):
        write_file(volume, "/", [b"x"], staging)
    assert (volume / "file.txt").read_text() == "x"
    assert temp_files(volume, staging) == []


def test_writes_never_go_through_a_symlink(volume: Path, staging: Path, other: Path) -> None:
    (volume / "stolen.txt").symlink_to(other / "secret.txt")
    (volume / "other").symlink_to(other)
    (volume / "real").mkdir()
    (volume / "real" / "up").symlink_to("../..")
    for path in ["stolen.txt", "other/secret.txt", "other/new.txt", "other/deeper/new.txt", "real/up/other/new.txt"]:
        with pytest.raises(errors.BadRequest, match="symbolic link"):
            write_file(volume, path, [b"overwritten"], staging)
    assert sorted(p.name for p in other.iterdir()) == ["secret.txt"]
    assert (other / "secret.txt").read_text() == "other volume's secret"
    assert (volume / "stolen.txt").is_symlink()
    assert temp_files(volume, staging) == []


def test_a_parent_swapped_for_a_symlink_during_an_upload_does_not_redirect_it(
    volume: Path, staging: Path, other: Path
) -> None:
    (volume / "dir").mkdir()
    pending = volume_files.begin_write(volume, "dir/secret.txt", staging)
    pending.write(b"written by the API")
    # A sandbox moves the directory away and plants a link to another volume in its place.
    (volume / "dir").rename(volume / "moved")
    (volume / "dir").symlink_to(other)
    pending.commit()
    assert (other / "secret.txt").read_text() == "other volume's secret"
    assert (volume / "moved" / "secret.txt").read_text() == "written by the API"


# --- moving --------------------------------------------------------------------------------------


def test_move_renames_files_and_directories(volume: Path, staging: Path) -> None:
    write_file(volume, "a/f.txt", [b"x"], staging)
    move(volume, "/a/f.txt", "/a/g.txt")
    assert (volume / "a" / "g.txt").read_text() == "x"
    (volume / "b").mkdir()
    move(volume, "a", "b/a")
    assert (volume / "b" / "a" / "g.txt").read_text() == "x"
    assert not (volume / "a").exists()


def test_move_never_overwrites(volume: Path) -> None:
    (volume / "a.txt").write_text("a")
    (volume / "b.txt").write_text("b")
    (volume / "dir").mkdir()
    (volume / "empty").mkdir()
    for source, destination in [
        ("a.txt", "b.txt"),
        ("a.txt", "dir"),
        ("dir", "empty"),
        ("a.txt", "a.txt"),
        ("a.txt", "/"),
    ]:
        with pytest.raises(errors.Conflict):
            move(volume, source, destination)
    assert (volume / "a.txt").read_text() == "a"
    assert (volume / "b.txt").read_text() == "b"


def test_move_of_a_missing_source_or_to_a_missing_parent_is_a_404(volume: Path) -> None:
    (volume / "a.txt").write_text("a")
    with pytest.raises(errors.NotFound, match="nothing to move"):
        move(volume, "missing.txt", "b.txt")
    with pytest.raises(errors.NotFound):
        move(volume, "nodir/missing.txt", "b.txt")
    with pytest.raises(errors.NotFound, match="destination's parent directory /nodir does not exist"):
        move(volume, "a.txt", "nodir/b.txt")
    assert (volume / "a.txt").exists() and not (volume / "nodir").exists()


def test_move_of_a_directory_into_itself_or_of_the_root_is_a_400(volume: Path) -> None:
    (volume / "dir" / "sub").mkdir(parents=True)
    for source, destination in [("dir", "dir/sub/dir"), ("/dir", "dir/x"), ("/", "x"), ("..", "x"), ("dir", "../x")]:
        with pytest.raises(errors.BadRequest):
            move(volume, source, destination)
    assert (volume / "dir" / "sub").is_dir()


def test_moves_never_go_through_a_symlink(volume: Path, other: Path) -> None:
    (volume / "other").symlink_to(other)
    (volume / "etc").symlink_to("/etc")
    (volume / "mine.txt").write_text("mine")
    attempts = [
        ("other/secret.txt", "stolen.txt"),  # out of another volume
        ("etc/hostname", "hostname"),  # out of the host
        ("mine.txt", "other/planted.txt"),  # into another volume
        ("mine.txt", "etc/planted.txt"),
        ("other", "renamed-link"),  # the link itself
    ]
    for source, destination in attempts:
        with pytest.raises(errors.BadRequest, match="symbolic link"):
            move(volume, source, destination)
    assert sorted(p.name for p in other.iterdir()) == ["secret.txt"]
    assert (volume / "mine.txt").read_text() == "mine"
    assert not (volume / "stolen.txt").exists() and not (volume / "hostname").exists()
