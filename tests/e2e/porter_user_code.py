"""Code written for Porter's published client (porter-sandbox 0.1.68), as its users write it: run unchanged by that
client and by ours.

Not a test module: ``test_e2e_porter_code.py`` runs it twice, with the
interpreter of the venv that holds Porter's package and with ours (``python
-I``, so each finds only its own ``porter_sandbox``), against a real server
behind a proxy that answers creates as Porter's API does (``202`` with only
``{id, name}``):

    python -I porter_user_code.py BASE_URL IMAGE ENV_GROUP [long]

It prints ``ok <check>`` after each check and ``client <path>`` first; a
failed check raises and exits non-zero. It uses only what Porter's client
offers above its low-level resources (whose ``.raw`` differs from ours by
design). With ``long``, one command runs longer than the client's 30 s
timeout.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import porter_sandbox
from porter_sandbox import (
    AsyncPorter,
    NotFoundError,
    Porter,
    SandboxError,
    SandboxResourcesSpec,
    SnapshotSpec,
    VolumeObjectSpec,
)

BASE_URL, IMAGE, ENV_GROUP = sys.argv[1:4]
LONG = sys.argv[4:] == ["long"]
RUN = uuid.uuid4().hex[:8]


def ok(check: str) -> None:
    print("ok", check, flush=True)


def name(what: str) -> str:
    return f"{what}-{RUN}-{uuid.uuid4().hex[:4]}"


def running(sandbox: Any) -> Any:
    """Porter's create answers without a phase: refresh until the sandbox runs."""
    deadline = time.monotonic() + 120
    while sandbox.phase is None or sandbox.phase.value != "running":
        assert time.monotonic() < deadline, f"{sandbox.id} never ran"
        time.sleep(0.1)
        sandbox.refresh()
    return sandbox


def status_of(call: Any) -> int | None:
    try:
        call()
    except SandboxError as error:
        assert error.message
        return error.status_code
    raise AssertionError("expected an error")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def health(porter: Porter) -> None:
    assert porter.healthz.health_check().status == "ok"
    assert porter.readyz.readiness_check().active_sandboxes >= 0
    ok("health")


def sandboxes(porter: Porter) -> None:
    sandbox_name = name("sandbox")
    sandbox = porter.sandboxes.create(
        IMAGE,
        name=sandbox_name,
        tags={"suite": RUN},
        env={"GREETING": "hello"},
        resources=SandboxResourcesSpec(cpu="500m", memory="256Mi"),
        ttl_seconds=600,
    )
    assert sandbox.phase is None  # a 202 with only {id, name}: the phase comes with a refresh
    running(sandbox)
    assert sandbox.phase.value == "running" and sandbox.phase == "running" and sandbox.tags == {"suite": RUN}
    result = sandbox.exec(["sh", "-c", "echo $GREETING; echo oops >&2; exit 3"])
    assert (result.stdout, result.stderr, result.exit_code) == ("hello\n", "oops\n", 3) and result.exec_id
    lines = sandbox.logs(since="5m", limit=10)
    assert {(line.line, line.level.value) for line in lines} >= {("hello", "info"), ("oops", "error")}
    found = porter.sandboxes.get(sandbox_name)
    assert found.id == sandbox.id and found.phase.value == "running"

    now = datetime.now(timezone.utc)
    listed = porter.sandboxes.list(
        tags={"suite": RUN},
        phase=["running"],
        search="sandbox-",
        image=IMAGE,
        start_time=iso(now - timedelta(hours=1)),
        end_time=iso(now + timedelta(minutes=1)),
        include_filter_values=True,
        page=1,
    )
    assert [item.id for item in listed] == [sandbox.id] and listed[0].phase.value == "running"
    if LONG:
        # Longer than the client's 30 s timeout: an exec waits as long as its command runs.
        assert sandbox.exec(["sh", "-c", "sleep 35; echo done"]).stdout == "done\n"
        ok("long exec")
    sandbox.terminate()
    assert sandbox.refresh().phase.value == "terminated"
    assert sandbox.refresh().termination_reason.value == "sdk"
    assert status_of(lambda: porter.sandboxes.get("no-such-sandbox")) == 404
    assert status_of(lambda: sandbox.exec(["true"])) == 409
    # A bad name: Porter's client hears the server's 400; ours refuses it before sending (InvalidNameError).
    assert status_of(lambda: porter.sandboxes.create(IMAGE, name="Not A Name")) in (400, None)
    ok("sandboxes")


def volumes(porter: Porter) -> None:
    volume_name = name("volume")
    volume = porter.volumes.create(name=volume_name)
    assert volume.type.value == "disk" and volume.phase.value == "ready" and volume.name == volume_name
    volume.write_text("/notes/hello.txt", "hello volume", encoding="utf-8")
    volume.write_file("/big.bin", content=bytes(range(256)) * 1024)
    volume.write_file("/empty.bin", b"")
    assert volume.read_text("/notes/hello.txt") == "hello volume"
    assert volume.read_text("/notes/hello.txt", offset=6, length=6, encoding="utf-8") == "volume"
    assert volume.read_file("/big.bin", offset=256, length=3) == b"\x00\x01\x02"
    assert b"".join(volume.stream("/big.bin", chunk_size=10_000)) == bytes(range(256)) * 1024
    assert list(volume.stream("/empty.bin")) == []
    assert [file.path for file in volume.listdir("/")] == ["/notes", "/big.bin", "/empty.bin"]
    assert [file.is_directory for file in volume.listdir()] == [True, False, False]
    assert "/notes/hello.txt" in [file.path for file in volume.iterdir("/")]
    assert [file.path for file in volume.search("hello", path="/")] == ["/notes/hello.txt"]
    volume.move_file("/notes/hello.txt", "/moved.txt")
    assert volume.read_text("/moved.txt") == "hello volume"

    sandbox = running(porter.sandboxes.create(IMAGE, volume_mounts={"/data": volume.id}))
    assert sandbox.exec(["cat", "/data/moved.txt"]).stdout == "hello volume"
    assert porter.volumes.get(volume_name).attached_to == [sandbox.id]
    assert volume_name in [item.name for item in porter.volumes.list()]
    assert status_of(lambda: porter.volumes.delete(volume_name)) == 409
    sandbox.terminate()

    spec = VolumeObjectSpec(bucket="datasets", prefix="runs", access="read_only", mode="object")
    assert status_of(lambda: porter.volumes.create(name=name("bucket"), type="object", object=spec)) == 400
    porter.volumes.delete(volume_name)
    assert status_of(lambda: porter.volumes.get(volume_name)) == 404
    ok("volumes")


def snapshots(porter: Porter) -> None:
    source = running(porter.sandboxes.create(IMAGE))
    source.exec(["sh", "-c", "echo 'from the source' > /workspace/note"])
    taken = porter.snapshots.create(source.id, SnapshotSpec(mode="filesystem"))
    assert taken.sandbox_id == source.id and taken.mode.value == "filesystem"
    deadline = time.monotonic() + 120
    while porter.snapshots.get(taken.id).status.value != "ready":
        assert time.monotonic() < deadline, "the snapshot never became ready"
        time.sleep(0.1)
    assert [item.id for item in porter.snapshots.list(sandbox_id=source.id).snapshots] == [taken.id]
    restored = running(porter.sandboxes.create("", snapshot_id=taken.id))
    assert restored.exec(["cat", "/workspace/note"]).stdout == "from the source\n"
    assert status_of(lambda: porter.snapshots.create(source.id, SnapshotSpec(mode="full"))) == 400
    porter.snapshots.delete(taken.id)
    try:
        porter.snapshots.get(taken.id)
        raise AssertionError("a deleted snapshot was found")
    except NotFoundError:
        pass
    source.terminate()
    restored.terminate()
    ok("snapshots")


def env_groups(porter: Porter) -> None:
    sandbox = running(porter.sandboxes.create(IMAGE, env_groups=[ENV_GROUP], env={"EXPLICIT": "mine"}))
    assert sandbox.exec(["sh", "-c", "echo $FROM_GROUP $EXPLICIT"]).stdout == "group-value mine\n"
    sandbox.terminate()
    ok("env_groups")


async def async_client() -> None:
    async with AsyncPorter(base_url=BASE_URL) as porter:
        sandbox = await porter.sandboxes.create(IMAGE)
        assert sandbox.phase is None
        for _ in range(1200):
            if (await sandbox.refresh()).phase.value == "running":
                break
            await asyncio.sleep(0.1)
        assert sandbox.phase.value == "running"
        assert (await sandbox.exec(["echo", "async"])).stdout == "async\n"
        assert [line.line for line in await sandbox.logs(limit=5)][-1:] == ["async"]
        snapshot = await porter.snapshots.create(sandbox.id, SnapshotSpec())
        assert snapshot.mode.value == "filesystem"
        assert snapshot.id in [item.id for item in (await porter.snapshots.list()).snapshots]
        await porter.snapshots.delete(snapshot.id)
        await sandbox.terminate()
    ok("async")


def main() -> None:
    print("client", porter_sandbox.__file__, flush=True)
    with Porter(base_url=BASE_URL) as porter:
        health(porter)
        sandboxes(porter)
        volumes(porter)
        snapshots(porter)
        env_groups(porter)
    asyncio.run(async_client())


if __name__ == "__main__":
    main()
