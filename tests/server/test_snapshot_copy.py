"""The process runtime's snapshot copy, on real directories: what it keeps, and what a hostile tree cannot make it do."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from porter_sandbox_server.runtimes.base import SnapshotFailed
from porter_sandbox_server.runtimes.process import snapshots
from porter_sandbox_server.runtimes.process.snapshots import MAX_DEPTH, capture, capture_verified, copy_tree, restore


def test_files_links_fifos_owners_modes_and_times_are_kept(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "dir" / "empty").mkdir(parents=True)
    data = source / "dir" / "data.bin"
    data.write_bytes(b"x" * 5000)
    data.chmod(0o640)
    os.chown(data, 12345, 23456)
    os.utime(data, ns=(1_000_000_000, 2_000_000_000))
    os.link(data, source / "hard")
    (source / "link").symlink_to("dir/data.bin")
    os.lchown(source / "link", 12345, 23456)
    os.mkfifo(source / "fifo")
    tool = source / "tool"
    tool.write_bytes(b"#!/bin/sh\n")
    tool.chmod(0o4755)  # set-user-ID: not kept
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(source / "socket"))  # not kept: nothing a new sandbox could use
        size, _ = copy_tree(source, tmp_path / "copy")
    copy = tmp_path / "copy"
    assert size == 5000 + len(b"#!/bin/sh\n"), "a hard-linked file counts once"
    copied = copy / "dir" / "data.bin"
    info = copied.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, info.st_mtime_ns) == (
        0o640,
        12345,
        23456,
        2_000_000_000,
    )
    assert copied.read_bytes() == b"x" * 5000
    assert (copy / "hard").stat().st_ino == info.st_ino, "hard links stay links"
    assert os.readlink(copy / "link") == "dir/data.bin" and (copy / "link").lstat().st_uid == 12345
    assert stat.S_ISFIFO((copy / "fifo").lstat().st_mode)
    assert stat.S_IMODE((copy / "tool").stat().st_mode) == 0o755
    assert not (copy / "socket").exists()
    assert (copy / "dir" / "empty").is_dir()


def test_a_link_to_host_files_is_copied_as_a_link(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "etc").symlink_to("/etc")
    (source / "passwd").symlink_to("/etc/passwd")
    size, _ = copy_tree(source, tmp_path / "copy")
    assert size == 0
    assert os.readlink(tmp_path / "copy" / "etc") == "/etc"
    assert sorted(os.listdir(tmp_path / "copy")) == ["etc", "passwd"]
    assert all((tmp_path / "copy" / name).is_symlink() for name in ("etc", "passwd"))


def test_a_sparse_file_stays_sparse(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    with open(source / "huge", "wb") as huge:
        huge.truncate(64 << 30)  # 64 GiB of hole: copied as data it would fill the disk
        huge.seek(1 << 30)
        huge.write(b"middle")
    size, _ = copy_tree(source, tmp_path / "copy")
    copied = tmp_path / "copy" / "huge"
    assert size == copied.stat().st_size == 64 << 30
    assert copied.stat().st_blocks * 512 < 16 << 20
    with open(copied, "rb") as reading:
        reading.seek(1 << 30)
        assert reading.read(6) == b"middle"


def test_a_tree_deeper_than_the_limit_fails(tmp_path: Path) -> None:
    deep = tmp_path / "source"
    deep.mkdir()
    fd = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(MAX_DEPTH + 2):  # relative to a descriptor: the path would be too long to name
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    with pytest.raises(SnapshotFailed, match="deeper"):
        copy_tree(deep, tmp_path / "copy")


def test_a_directory_swapped_for_a_link_mid_copy_never_lets_host_files_in(tmp_path: Path) -> None:
    """A sandbox that keeps swapping a directory for a link to /etc while it is copied, as fast as it can."""
    source = tmp_path / "source"
    (source / "dir").mkdir(parents=True)
    for index in range(50):
        (source / "dir" / f"file-{index}").write_text("mine\n")
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            try:
                os.rename(source / "dir", source / "aside")
                (source / "dir").symlink_to("/etc")
                os.unlink(source / "dir")
                os.rename(source / "aside", source / "dir")
            except OSError:
                pass

    swapper = threading.Thread(target=swap)
    swapper.start()
    copies = failures = 0
    try:
        for attempt in range(200):
            target = tmp_path / f"copy-{attempt}"
            try:
                copy_tree(source, target)
                copies += 1
            except (SnapshotFailed, OSError):
                failures += 1
            if target.exists():
                for _root, _dirs, files in os.walk(target):
                    assert "passwd" not in files and "hostname" not in files, "host files were copied"
    finally:
        stop.set()
        swapper.join()
    assert copies + failures == 200


def test_capture_and_restore_a_scratch_space(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    for name in snapshots.SCRATCH_DIRS:
        (scratch / name).mkdir(parents=True)
    (scratch / "tmp").chmod(0o1777)
    (scratch / "workspace" / "main.py").write_text("print('hi')\n")
    assert capture(scratch, tmp_path / "snap") == len("print('hi')\n")
    assert capture_verified(scratch, tmp_path / "verified") == len("print('hi')\n")
    restore(tmp_path / "snap", tmp_path / "new")
    assert (tmp_path / "new" / "workspace" / "main.py").read_text() == "print('hi')\n"
    assert stat.S_IMODE((tmp_path / "new" / "tmp").stat().st_mode) == 0o1777
    with pytest.raises(FileNotFoundError):
        restore(tmp_path / "no-such-snapshot", tmp_path / "other")


def test_a_tree_that_keeps_changing_is_not_passed_off_as_consistent(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    for name in snapshots.SCRATCH_DIRS:
        (scratch / name).mkdir(parents=True)
    for index in range(500):  # enough that each copy takes a while
        (scratch / "workspace" / f"file-{index}").write_bytes(b"x" * 4096)
    counter = scratch / "workspace" / "counter"
    # Another process (as a sandbox would be), writing without pause.
    loop = f"import itertools\nfor i in itertools.count():\n    open({str(counter)!r}, 'w').write(str(i))"
    writer = subprocess.Popen([sys.executable, "-c", loop])
    try:
        while not counter.exists():
            time.sleep(0.01)
        with pytest.raises(SnapshotFailed, match="kept changing"):
            capture_verified(scratch, tmp_path / "snap")
    finally:
        writer.kill()
        writer.wait()
    assert not (tmp_path / "snap").exists()
