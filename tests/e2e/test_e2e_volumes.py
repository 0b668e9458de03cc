"""Volumes and their files through the SDK, against a real local server: shared between sandboxes, and reached
without one (list, read by range, stream, write from bytes or a file, move)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from typing import Any

import pytest

from porter_sandbox import (
    AsyncPorter,
    ConflictError,
    NotFoundError,
    Porter,
    SandboxError,
    Volume,
    VolumeFile,
)


def sh(script: str) -> list[str]:
    """A shell command line, as an exec or a sandbox's command."""
    return ["sh", "-c", script]


def test_volumes_reference(porter: Porter, unique_name: str) -> None:
    volume = porter.volumes.create(name=unique_name)
    assert isinstance(volume, Volume) and volume.id and volume.name == unique_name
    assert volume.phase == "ready" and volume.attached_to == [] and volume.created_at is not None
    assert repr(volume) == f"<Volume id={volume.id!r} name={unique_name!r} phase='ready'>"
    assert volume.id in [v.id for v in porter.volumes.list()]
    assert porter.volumes.get(unique_name) == volume
    assert porter.volumes.get(volume.id) == volume
    with pytest.raises(ConflictError):
        porter.volumes.create(name=unique_name)
    porter.volumes.delete(unique_name)
    with pytest.raises(NotFoundError):
        porter.volumes.get(unique_name)
    again = porter.volumes.create(name=unique_name)  # a deleted volume's name can be used again
    again.delete()
    with pytest.raises(NotFoundError):
        again.refresh()


def test_a_volume_is_shared_between_two_sandboxes(porter: Porter, server: Any, unique_name: str) -> None:
    volume = porter.volumes.create(name=unique_name)
    writer = porter.sandboxes.create(image=server.image, volume_mounts={"/data": volume})
    reader = porter.sandboxes.create(image=server.image, volume_mounts={"/shared": volume.id})
    try:
        assert writer.exec(sh("echo from-writer > /data/note.txt"), check=True).exit_code == 0
        assert reader.exec(sh("cat /shared/note.txt"), check=True).stdout == "from-writer\n"
        reader.exec(sh("echo reply >> /shared/note.txt"), check=True)
        assert writer.exec(sh("cat /data/note.txt")).stdout == "from-writer\nreply\n"
        assert sorted(volume.refresh().attached_to) == sorted([writer.id, reader.id])
        assert writer.refresh().volume_mounts == {"/data": volume.id}
        with pytest.raises(ConflictError):
            volume.delete()
        # The volume API and the sandboxes see the same files.
        assert volume.read_text("/note.txt") == "from-writer\nreply\n"
        volume.write_text("from-api.txt", "written by the API\n")
        assert reader.exec(sh("cat /shared/from-api.txt")).stdout == "written by the API\n"
    finally:
        writer.terminate()
        reader.terminate()
    assert volume.refresh().attached_to == []
    # It outlives the sandboxes that mounted it.
    assert volume.read_text("note.txt") == "from-writer\nreply\n"
    volume.delete()


def test_files_write_read_ranges_and_text(porter: Porter, unique_name: str) -> None:
    volume = porter.volumes.create(name=unique_name)
    try:
        data = bytes(range(256)) * 40
        volume.write_file("/dir/sub/data.bin", data)  # parents are created
        assert volume.read_file("/dir/sub/data.bin") == data
        assert volume.read_file("dir/sub/data.bin", offset=10, length=5) == data[10:15]
        assert volume.read_file("/dir/sub/data.bin", offset=10_000) == data[10_000:]
        assert volume.read_file("/dir/sub/data.bin", offset=len(data) + 5) == b""
        assert volume.read_file("/dir/sub/data.bin", length=0) == b""
        volume.write_text("/hello.txt", "h\u00e9llo\n")
        assert volume.read_text("hello.txt") == "h\u00e9llo\n"
        volume.write_file("/hello.txt", b"replaced")
        assert volume.read_file("/hello.txt") == b"replaced"
        volume.write_file("/empty", b"")
        assert volume.read_file("/empty") == b""
        with pytest.raises(NotFoundError):
            volume.read_file("/no/such/file")
        with pytest.raises(SandboxError):
            volume.read_file("/../outside")
    finally:
        volume.delete()


def test_listdir_entries_and_move(porter: Porter, unique_name: str) -> None:
    volume = porter.volumes.create(name=unique_name)
    try:
        volume.write_text("/b.txt", "bee")
        volume.write_text("/a.txt", "a")
        volume.write_text("/docs/readme.md", "# hi")
        top = volume.listdir("/")
        assert [(e.name, e.type, e.path) for e in top] == [
            ("docs", "directory", "/docs"),
            ("a.txt", "file", "/a.txt"),
            ("b.txt", "file", "/b.txt"),
        ]
        docs, _, bee = top
        assert isinstance(bee, VolumeFile) and bee.is_file and not bee.is_directory
        assert bee.size_bytes == 3 and bee.modified_at is not None
        assert docs.is_directory and [e.path for e in docs.entries] == ["/docs/readme.md"]
        assert [e.name for e in volume.listdir("docs")] == ["readme.md"]

        volume.move_file("/b.txt", "/docs/b.txt")
        assert volume.read_text("/docs/b.txt") == "bee"
        with pytest.raises(NotFoundError):
            volume.read_text("/b.txt")
        with pytest.raises(ConflictError):
            volume.move_file("/a.txt", "/docs/b.txt")  # never overwrites
        with pytest.raises(NotFoundError):
            volume.move_file("/missing.txt", "/x.txt")
        volume.move_file("/docs", "/renamed")
        assert sorted(e.path for e in volume.iterdir()) == [
            "/a.txt",
            "/renamed",
            "/renamed/b.txt",
            "/renamed/readme.md",
        ]
        assert [e.path for e in volume.search("READ")] == ["/renamed/readme.md"]
        assert [e.path for e in volume.search("b.", path="/renamed")] == ["/renamed/b.txt"]
    finally:
        volume.delete()


def test_iterdir_walks_past_the_servers_listing_budget(porter: Porter, server: Any, unique_name: str) -> None:
    volume = porter.volumes.create(name=unique_name)
    try:
        # 3 directories of 400 files: more than one listing answers (1000 entries).
        with porter.sandboxes.create(image=server.image, volume_mounts={"/v": volume}) as sandbox:
            sandbox.exec(
                sh(
                    "for d in d1 d2 d3; do mkdir -p /v/$d; i=0; while [ $i -lt 400 ]; do : > /v/$d/f$i; i=$((i+1)); done; done"
                ),
                check=True,
                timeout=120,
            )
        paths = [entry.path for entry in volume.iterdir("/")]
        assert len(paths) == len(set(paths)) == 3 + 1200
        assert {p.rsplit("/", 1)[0] for p in paths if p.count("/") == 2} == {"/d1", "/d2", "/d3"}
        first = volume.listdir("/")
        assert any(entry.truncated for entry in first)  # one listing alone does not show everything
        assert len(volume.search("f39")) == 3 * 11  # f39 and f390..f399 in each directory
    finally:
        volume.delete()


def test_stream_reads_by_range_and_write_file_streams_a_file(porter: Porter, unique_name: str, tmp_path: Any) -> None:
    volume = porter.volumes.create(name=unique_name)
    try:
        source = tmp_path / "source.bin"
        with open(source, "wb") as out:
            for _ in range(7):
                out.write(os.urandom(512 * 1024))  # 3.5 MiB
        expected = hashlib.sha256(source.read_bytes()).hexdigest()
        with open(source, "rb") as file:
            volume.write_file("/big.bin", file)
        chunks = list(volume.stream("/big.bin", chunk_size=1024 * 1024))
        assert [len(c) for c in chunks] == [1024 * 1024] * 3 + [512 * 1024]
        assert hashlib.sha256(b"".join(chunks)).hexdigest() == expected
        volume.write_file("/zero.bin", io.BytesIO(b""))
        assert list(volume.stream("/zero.bin")) == []
        with pytest.raises(NotFoundError):
            list(volume.stream("/missing.bin"))
    finally:
        volume.delete()


async def test_async_volume_files(async_porter: AsyncPorter, server: Any, unique_name: str) -> None:
    volume = await async_porter.volumes.create(name=unique_name)
    try:
        assert (await async_porter.volumes.get(unique_name)).id == volume.id
        await volume.write_file("/a/data.bin", io.BytesIO(b"0123456789" * 1000))
        await volume.write_text("/a/note.txt", "note")
        assert await volume.read_file("/a/data.bin", offset=5, length=3) == b"567"
        assert await volume.read_text("/a/note.txt") == "note"
        parts = [part async for part in volume.stream("/a/data.bin", chunk_size=4096)]
        assert [len(p) for p in parts] == [4096, 4096, 1808]
        assert [e.name for e in await volume.listdir("/a")] == ["data.bin", "note.txt"]
        assert [e.path async for e in volume.iterdir()] == ["/a", "/a/data.bin", "/a/note.txt"]
        assert [e.path for e in await volume.search("note")] == ["/a/note.txt"]
        await volume.move_file("/a/note.txt", "/note.txt")
        async with await async_porter.sandboxes.create(image=server.image, volume_mounts={"/v": volume}) as sandbox:
            assert (await sandbox.exec(sh("cat /v/note.txt"))).stdout == "note"
            assert (await volume.refresh()).attached_to == [sandbox.id]
            with pytest.raises(ConflictError):
                await async_porter.volumes.delete(unique_name)
        assert [v.id for v in await async_porter.volumes.list() if v.id == volume.id] == [volume.id]
    finally:
        await async_porter.volumes.delete(volume.id)
    with pytest.raises(NotFoundError):
        await volume.refresh()


ROUND_TRIP = r"""
import hashlib, os, resource, sys
from porter_sandbox import Porter

url, volume_id, source = sys.argv[1], sys.argv[2], sys.argv[3]
with Porter(base_url=url, api_key=os.environ.get("KEY") or None, timeout=120) as porter:
    volume = porter.volumes.get(volume_id)
    volume.refresh()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(source, "rb") as file:
        volume.write_file("/big/file.bin", file)
    digest = hashlib.sha256()
    size = 0
    for chunk in volume.stream("/big/file.bin"):
        digest.update(chunk)
        size += len(chunk)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(digest.hexdigest(), size, (peak - baseline) * 1024)
"""


def _peak_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def test_a_200_mb_round_trip_passes_through_bounded_memory(
    porter: Porter, server: Any, unique_name: str, tmp_path: Any
) -> None:
    if server.runtime != "process":
        pytest.skip("the file API does not depend on the runtime: once is enough")
    size = 200 * 1024 * 1024
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(source, "wb") as out:
        block = os.urandom(1024 * 1024)
        for index in range(200):
            chunk = index.to_bytes(4, "big") + block[4:]
            digest.update(chunk)
            out.write(chunk)
    volume = porter.volumes.create(name=unique_name)
    server_peak_before = _peak_rss_bytes(server.pid)
    try:
        env = {**os.environ, "KEY": server.api_key or ""}
        result = subprocess.run(
            [sys.executable, "-c", ROUND_TRIP, server.url, volume.id, str(source)],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
        )
        assert result.returncode == 0, result.stderr
        sha, streamed, client_growth = result.stdout.split()
        assert (sha, int(streamed)) == (digest.hexdigest(), size)
        # Neither side ever held the file: the client's and the server's peak memory grew by far less than it.
        assert int(client_growth) < 64 * 1024 * 1024
        assert _peak_rss_bytes(server.pid) - server_peak_before < 64 * 1024 * 1024
    finally:
        volume.delete()


def test_a_stream_never_ends_short_when_the_file_changes_under_it(porter: Porter, unique_name: str) -> None:
    volume = porter.volumes.create(name=unique_name)
    try:
        volume.write_file("/changing.bin", b"a" * 300_000)
        chunks = volume.stream("/changing.bin", chunk_size=100_000)
        assert next(chunks) == b"a" * 100_000
        volume.write_file("/changing.bin", b"b" * 150_000)  # shorter: a naive reader would stop early
        with pytest.raises(SandboxError, match="size went from 300000 to 150000 bytes"):
            list(chunks)
    finally:
        volume.delete()
