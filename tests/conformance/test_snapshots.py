"""What every runtime that declares ``filesystem`` snapshots does: capture, start from, delete, prune.

A snapshot holds a running sandbox's writable files as they were at one
moment (never what a symlink points at, never the environment it ran with);
sandboxes started from it get their own copy; deleting it frees it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from runtime_events import Recorder
from runtime_kit import Kit, build_runtime

from porter_sandbox_server.runtimes.base import LaunchFailed, SandboxGone, SnapshotFailed

pytestmark = pytest.mark.slow


@pytest.fixture
async def snapshot_id(kit: Kit) -> AsyncIterator[str]:
    """A fresh snapshot id, whose snapshot is deleted after the test."""
    if kit.kind == "kubernetes":
        pytest.skip("the kubernetes runtime takes no snapshots (it declares none; the README says so)")
    assert "filesystem" in kit.runtime.capabilities.snapshot_modes
    snapshot = f"snap-{uuid.uuid4().hex[:12]}"
    yield snapshot
    await kit.runtime.delete_snapshot(snapshot)


async def test_a_snapshot_holds_the_files_and_sandboxes_start_from_their_own_copy(kit: Kit, snapshot_id: str) -> None:
    source = await kit.launch(env={"SECRET": "only-in-the-source"})
    setup = (
        "mkdir -p /workspace/dir/empty && echo hello > /workspace/dir/hello.txt && chmod 640 /workspace/dir/hello.txt"
        " && ln /workspace/dir/hello.txt /workspace/hard && ln -s dir/hello.txt /workspace/link"
        " && echo scratch > /tmp/note && head -c 1048576 /dev/zero > /workspace/big"
    )
    assert (await kit.sh(source, setup))[2] == 0
    size = await kit.runtime.snapshot(source, snapshot_id, "filesystem")
    assert size >= 1048576, size
    # What the source does afterwards is not in the snapshot.
    assert (await kit.sh(source, "echo changed > /workspace/dir/hello.txt && rm /tmp/note"))[2] == 0

    restored = await kit.launch(snapshot_id=snapshot_id)
    check = (
        "cat /workspace/dir/hello.txt /tmp/note; readlink /workspace/link; stat -c '%a %h' /workspace/dir/hello.txt;"
        " ls -d /workspace/dir/empty; wc -c < /workspace/big; echo ${SECRET-unset}"
    )
    out, err, code = await kit.sh(restored, check)
    assert code == 0, err
    assert out.split("\n")[:6] == ["hello", "scratch", "dir/hello.txt", "640 2", "/workspace/dir/empty", "1048576"]
    assert out.split("\n")[6] == "unset", "a snapshot carries no environment"

    # Each sandbox started from it has its own copy.
    assert (await kit.sh(restored, "echo mine > /workspace/dir/hello.txt"))[2] == 0
    again = await kit.launch(snapshot_id=snapshot_id)
    assert (await kit.sh(again, "cat /workspace/dir/hello.txt"))[0] == "hello\n"
    assert (await kit.sh(source, "cat /workspace/dir/hello.txt"))[0] == "changed\n"


async def test_a_symlink_is_captured_as_a_link_never_as_what_it_points_at(kit: Kit, snapshot_id: str) -> None:
    source = await kit.launch()
    links = "ln -s /usr /workspace/system && ln -s /bin /tmp/bin-link && ln -s /etc/hostname /workspace/host-file"
    assert (await kit.sh(source, links))[2] == 0
    size = await kit.runtime.snapshot(source, snapshot_id, "filesystem")
    assert size < 64 * 1024, f"{size} bytes: a link was followed"
    restored = await kit.launch(snapshot_id=snapshot_id)
    out, _, code = await kit.sh(
        restored, "for f in /workspace/system /tmp/bin-link /workspace/host-file; do readlink $f; done"
    )
    assert (out, code) == ("/usr\n/bin\n/etc/hostname\n", 0)


async def test_a_snapshot_of_a_busy_sandbox_is_one_moment_and_the_sandbox_keeps_running(
    kit: Kit, snapshot_id: str
) -> None:
    # Writes a, then b, with the same counter, each replaced atomically: at any one moment b is a or a - 1.
    writer = "i=0; while :; do i=$((i+1)); echo $i > /workspace/a.new; mv /workspace/a.new /workspace/a;"
    writer += " echo $i > /workspace/b.new; mv /workspace/b.new /workspace/b; done"
    source = await kit.launch(["sh", "-c", writer])
    for _ in range(200):
        if (await kit.sh(source, "cat /workspace/b"))[2] == 0:
            break
        await asyncio.sleep(0.01)
    await kit.runtime.snapshot(source, snapshot_id, "filesystem")
    restored = await kit.launch(snapshot_id=snapshot_id)
    out, _, code = await kit.sh(restored, "cat /workspace/a /workspace/b")
    assert code == 0
    a, b = (int(value) for value in out.split())
    assert b in (a, a - 1), f"a={a} b={b}: the snapshot mixes two moments"
    # The source was only paused: it keeps counting.
    later = int((await kit.sh(source, "sleep 0.2; cat /workspace/a"))[0])
    assert later > a


async def test_deleting_or_pruning_a_snapshot_frees_it(kit: Kit, snapshot_id: str) -> None:
    source = await kit.launch()
    assert (await kit.sh(source, "echo kept > /workspace/kept"))[2] == 0
    await kit.runtime.snapshot(source, snapshot_id, "filesystem")
    pruned = f"snap-{uuid.uuid4().hex[:12]}"
    await kit.runtime.snapshot(source, pruned, "filesystem")

    # Another server (its own data directory) on the same backend prunes only its own.
    other = build_runtime(kit.kind, kit.data_dir.parent / "another-server")
    await other.volumes.open()
    await other.open(Recorder())
    try:
        await other.prune_snapshots(set())
    finally:
        await other.close(stop_sandboxes=True)
    await kit.runtime.prune_snapshots({snapshot_id})
    with pytest.raises(LaunchFailed):
        await kit.launch(snapshot_id=pruned)
    kept = await kit.launch(snapshot_id=snapshot_id)
    assert (await kit.sh(kept, "cat /workspace/kept"))[0] == "kept\n"

    # A sandbox started from a snapshot keeps running after the snapshot is deleted.
    await kit.runtime.delete_snapshot(snapshot_id)
    assert (await kit.sh(kept, "cat /workspace/kept"))[0] == "kept\n"
    with pytest.raises(LaunchFailed):
        await kit.launch(snapshot_id=snapshot_id)
    await kit.runtime.delete_snapshot(snapshot_id)  # deleting again changes nothing


async def test_a_snapshot_of_a_sandbox_that_is_not_running_is_sandbox_gone(kit: Kit, snapshot_id: str) -> None:
    with pytest.raises(SandboxGone):
        await kit.runtime.snapshot("sb-never-launched", snapshot_id, "filesystem")
    ended = await kit.launch(["sh", "-c", "exit 0"])
    await kit.events.wait_end(ended)
    with pytest.raises(SandboxGone):
        await kit.runtime.snapshot(ended, snapshot_id, "filesystem")


async def test_a_mode_the_runtime_does_not_declare_fails(kit: Kit, snapshot_id: str) -> None:
    assert "full" not in kit.runtime.capabilities.snapshot_modes
    source = await kit.launch()
    with pytest.raises(SnapshotFailed):
        await kit.runtime.snapshot(source, snapshot_id, "full")
