"""The Docker runtime at the runtime level: direct calls on a real engine, events recorded.

Needs a Docker engine at DOCKER_HOST with the image ``porter-test/busybox:latest``
(``scripts/ci-docker.sh`` starts one and builds it); skips without one, fails
with ``PORTER_SANDBOX_REQUIRE_DOCKER=1``. Containers run with network ``none``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docker.errors
import pytest
from docker_support import (
    RUN_TAG,
    EngineProxy,
    container_state,
    engine,
    eventually,
    make_spec,
    remove_test_containers,
)
from runtime_events import Recorder
from runtimes import require_docker

from porter_sandbox_server.runtimes.base import LaunchFailed, RuntimeUnavailable, SandboxGone
from porter_sandbox_server.runtimes.docker import DockerRuntime
from porter_sandbox_server.runtimes.docker.images import needs_keep_alive
from porter_sandbox_server.runtimes.docker.runtime import container_name

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module", autouse=True)
def _engine() -> Iterator[None]:
    require_docker()
    yield
    remove_test_containers()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def runtime(recorder: Recorder, tmp_path: Path) -> AsyncIterator[DockerRuntime]:
    opened = DockerRuntime(tmp_path / "data", network="none")
    await opened.open(recorder)
    try:
        yield opened
    finally:
        await opened.close(stop_sandboxes=True)


def test_keep_alive_rule() -> None:
    assert needs_keep_alive(None, None)
    assert needs_keep_alive([], ["sh"])
    assert needs_keep_alive(None, ["/bin/bash"])
    assert needs_keep_alive(None, ["python3"])
    assert needs_keep_alive(None, ["python3.12", "-i"])
    assert needs_keep_alive(["docker-entrypoint.sh"], ["node"])
    assert not needs_keep_alive(None, ["nginx", "-g", "daemon off;"])
    assert not needs_keep_alive(None, ["python3", "app.py"])
    assert not needs_keep_alive(["/usr/bin/server"], None)
    assert not needs_keep_alive(None, ["sh", "-c", "exec server"])


async def test_launch_exec_stop(runtime: DockerRuntime, recorder: Recorder, tmp_path: Path) -> None:
    spec = make_spec()
    await runtime.launch(spec)
    state = container_state(spec.sandbox_id)
    assert state is not None and state["Running"]

    output = await runtime.exec(spec.sandbox_id, ["sh", "-c", "echo out; echo err >&2; exit 3"], "ex1", {})
    assert (output.stdout, output.stderr, output.exit_code) == ("out\n", "err\n", 3)
    assert sorted(recorder.lines_of(spec.sandbox_id, "ex1")) == [("stderr", "err"), ("stdout", "out")]
    # Reported on the event loop's thread, never from the runtime's own threads.
    assert recorder.threads == {threading.get_ident()}

    await runtime.stop(spec.sandbox_id)
    assert container_state(spec.sandbox_id) is None
    with pytest.raises(SandboxGone):
        await runtime.exec(spec.sandbox_id, ["true"], "ex2", {})
    await runtime.stop(spec.sandbox_id)  # stopping again is a no-op
    assert recorder.ends == {}


async def test_keep_alive_when_the_image_would_exit_at_once(runtime: DockerRuntime, tmp_path: Path) -> None:
    # The test image's own command is a lone `sh`: it would read an empty stdin and exit.
    spec = make_spec()
    await runtime.launch(spec)
    output = await runtime.exec(spec.sandbox_id, ["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; pwd"], "e", {})
    assert output.stdout.splitlines() == ["/bin/sh -c while :; do sleep 3600; done ", "/workspace"]


async def test_command_args_env_labels_and_limits(runtime: DockerRuntime, recorder: Recorder, tmp_path: Path) -> None:
    spec = make_spec(
        command=["sh", "-c"],
        args=['echo "$GREETING from $0"; echo to-stderr >&2; sleep 3600', "args"],
        env={"GREETING": "hello"},
        tags={**RUN_TAG, "team": "blue"},
        memory_bytes=64 * 1024 * 1024,
        cpu_millis=500,
        pids_max=99,
    )
    await runtime.launch(spec)
    await eventually(lambda: len(recorder.lines_of(spec.sandbox_id)) == 2, "the main process's two lines")
    assert sorted(recorder.lines_of(spec.sandbox_id)) == [("stderr", "to-stderr"), ("stdout", "hello from args")]

    api = engine()
    try:
        inspected = api.inspect_container(container_name(spec.sandbox_id))
    finally:
        api.close()
    labels = inspected["Config"]["Labels"]
    assert labels["porter-sandbox.id"] == spec.sandbox_id
    assert labels["porter-sandbox.name"] == spec.name
    assert labels["porter-sandbox.tag.team"] == "blue"
    assert inspected["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert inspected["HostConfig"]["NanoCpus"] == 500_000_000
    assert inspected["HostConfig"]["NetworkMode"] == "none"
    # Confined: no new privileges, few capabilities, bounded processes, a sized /dev/shm.
    assert inspected["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert inspected["HostConfig"]["CapDrop"] == ["ALL"]
    assert "SYS_ADMIN" not in inspected["HostConfig"]["CapAdd"] and "MKNOD" not in inspected["HostConfig"]["CapAdd"]
    assert inspected["HostConfig"]["PidsLimit"] == 99
    assert inspected["HostConfig"]["ShmSize"] == 16 * 1024 * 1024
    assert inspected["HostConfig"]["ReadonlyRootfs"] is False

    output = await runtime.exec(spec.sandbox_id, ["sh", "-c", 'echo "$GREETING $EXTRA"'], "e", {"EXTRA": "world"})
    assert output.stdout == "hello world\n"


async def test_main_process_exit_is_reported_and_logs_outlive_it(
    runtime: DockerRuntime, recorder: Recorder, tmp_path: Path
) -> None:
    spec = make_spec(command=["sh", "-c", "echo first; echo second >&2; printf partial; exit 7"])
    await runtime.launch(spec)
    assert await recorder.wait_exit(spec.sandbox_id) == (7, None)
    lines = recorder.lines_of(spec.sandbox_id)
    # Each stream keeps its order; the engine does not order one stream against the other.
    assert [line for stream, line in lines if stream == "stdout"] == ["first", "partial"]
    assert [line for stream, line in lines if stream == "stderr"] == ["second"]
    # The container is removed once its exit is reported; its lines were already delivered.
    await eventually(lambda: container_state(spec.sandbox_id) is None, "the ended container is removed")
    await runtime.stop(spec.sandbox_id)  # the service's cleanup after an exit: a no-op


async def test_memory_limit_kills_an_exec_and_says_so(runtime: DockerRuntime, tmp_path: Path) -> None:
    spec = make_spec(memory_bytes=32 * 1024 * 1024)
    await runtime.launch(spec)
    hog = 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'
    output = await runtime.exec(spec.sandbox_id, ["sh", "-c", hog], "e", {})
    assert output.exit_code == 137
    assert "memory limit" in output.stderr
    # Whether the sandbox's idle main process survives is the kernel's choice
    # (the OOM killer may take it too), so it is not asserted here.


async def test_adopt_after_restart(recorder: Recorder, tmp_path: Path) -> None:
    first = DockerRuntime(tmp_path / "data", network="none")
    await first.open(recorder)
    waits = "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after-adoption; sleep 3600"
    live = make_spec(command=["sh", "-c", waits])
    ended = make_spec(command=["sh", "-c", "sleep 0.2; exit 4"])
    await first.launch(live)
    await first.launch(ended)
    await first.close(stop_sandboxes=False)  # the server goes away; its containers stay
    assert (container_state(live.sandbox_id) or {}).get("Running")
    await eventually(lambda: not (container_state(ended.sandbox_id) or {}).get("Running"), "the short one ends")
    vanished = make_spec()

    second_events = Recorder()
    second = DockerRuntime(tmp_path / "data", network="none")
    await second.open(second_events)
    try:
        adopted = await second.adopt([live, ended, vanished])
        assert adopted == {live.sandbox_id}
        assert container_state(ended.sandbox_id) is None  # its exit is unknown: removed, reported lost
        output = await second.exec(live.sandbox_id, ["touch", "/tmp/go"], "e", {})
        assert output.exit_code == 0
        await eventually(
            lambda: ("stdout", "after-adoption") in second_events.lines_of(live.sandbox_id),
            "the adopted container's output is followed",
        )
        assert second_events.lines_of(live.sandbox_id) == [("stdout", "after-adoption")]
        assert recorder.lines_of(live.sandbox_id) == []
        assert second_events.ends == {}
    finally:
        await second.close(stop_sandboxes=True)
    assert container_state(live.sandbox_id) is None


async def test_adopted_container_that_exits_is_reported(tmp_path: Path) -> None:
    first = DockerRuntime(tmp_path / "data", network="none")
    await first.open(Recorder())
    spec = make_spec(command=["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 5"])
    await first.launch(spec)
    await first.close(stop_sandboxes=False)
    events = Recorder()
    second = DockerRuntime(tmp_path / "data", network="none")
    await second.open(events)
    try:
        assert await second.adopt([spec]) == {spec.sandbox_id}
        await second.exec(spec.sandbox_id, ["touch", "/tmp/go"], "e", {})
        assert await events.wait_exit(spec.sandbox_id) == (5, None)
    finally:
        await second.close(stop_sandboxes=True)


async def test_failed_pull_is_a_launch_failure_with_the_registry_message(
    runtime: DockerRuntime, tmp_path: Path
) -> None:
    # A registry on a loopback port where nothing listens: the pull fails without leaving this machine.
    spec = make_spec(image="127.0.0.1:9/porter-test/no-such-image:latest")
    with pytest.raises(LaunchFailed) as failure:
        await runtime.launch(spec)
    message = str(failure.value)
    assert "127.0.0.1:9/porter-test/no-such-image" in message
    assert "connection refused" in message.lower()
    assert container_state(spec.sandbox_id) is None


async def test_missing_entrypoint_is_a_launch_failure(runtime: DockerRuntime, tmp_path: Path) -> None:
    spec = make_spec(command=["/no/such/program"])
    with pytest.raises(LaunchFailed) as failure:
        await runtime.launch(spec)
    assert "/no/such/program" in str(failure.value)
    assert container_state(spec.sandbox_id) is None


async def test_no_engine_behind_the_socket(recorder: Recorder, tmp_path: Path) -> None:
    nothing = DockerRuntime(tmp_path / "data", network="none", docker_host=f"unix://{tmp_path}/nothing.sock")
    await nothing.open(recorder)  # an engine that is down is not a start-up error
    try:
        reason = await nothing.readiness()
        assert reason is not None and "DOCKER_HOST" in reason
        with pytest.raises(RuntimeUnavailable, match="DOCKER_HOST"):
            await nothing.launch(make_spec())
    finally:
        await nothing.close(stop_sandboxes=True)


# Cutting the engine's connections mid-stream can leave a socket of the docker package's
# log stream unclosed until it is collected (a known leak under engine outages, noted in
# the README's Docker section); this test cuts them on purpose.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
async def test_engine_goes_away_mid_run_and_comes_back(recorder: Recorder, tmp_path: Path) -> None:
    proxy = EngineProxy(tmp_path / "engine.sock")
    runtime = DockerRuntime(tmp_path / "data", network="none", docker_host=proxy.url)
    await runtime.open(recorder)
    try:
        assert await runtime.readiness() is None
        spec = make_spec(command=["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo resumed; sleep 3600"])
        await runtime.launch(spec)

        proxy.cut()
        reason = await runtime.readiness()
        assert reason is not None and "DOCKER_HOST" in reason
        with pytest.raises(RuntimeUnavailable, match="DOCKER_HOST"):
            await runtime.launch(make_spec())
        with pytest.raises(RuntimeUnavailable, match="DOCKER_HOST"):
            await runtime.exec(spec.sandbox_id, ["true"], "e", {})
        assert recorder.ends == {}  # an engine out of reach is not a sandbox that ended

        proxy.restore()
        assert await runtime.readiness() is None
        await runtime.exec(spec.sandbox_id, ["touch", "/tmp/go"], "e2", {})
        await eventually(
            lambda: ("stdout", "resumed") in recorder.lines_of(spec.sandbox_id),
            "the follower attaches again once the engine is back",
        )
    finally:
        await runtime.close(stop_sandboxes=True)
        proxy.cut()


async def test_malformed_docker_host_refuses_to_start(recorder: Recorder, tmp_path: Path) -> None:
    runtime = DockerRuntime(tmp_path / "data", network="none", docker_host="bogus://nowhere")
    with pytest.raises(RuntimeUnavailable, match="DOCKER_HOST=bogus://nowhere"):
        await runtime.open(recorder)
    await runtime.close(stop_sandboxes=False)


async def test_image_workdir_is_kept_and_workspace_exists(runtime: DockerRuntime, tmp_path: Path) -> None:
    # An image of its own with a WORKDIR, made locally from the test image (no registry).
    api = engine()
    image = f"porter-test/busybox-workdir:{RUN_TAG['porter-test-run']}"
    base = api.create_container("porter-test/busybox:latest", command=["true"], labels=_run_labels())
    try:
        api.commit(
            base["Id"], repository=image.split(":")[0], tag=image.split(":")[1], changes=["WORKDIR /app", 'CMD ["sh"]']
        )
        spec = make_spec(image=image)
        await runtime.launch(spec)
        output = await runtime.exec(
            spec.sandbox_id, ["sh", "-c", "pwd; test -d /workspace && echo has-workspace"], "e", {}
        )
        assert output.stdout.splitlines() == ["/app", "has-workspace"]
        await runtime.stop(spec.sandbox_id)
    finally:
        api.remove_container(base["Id"], force=True)
        with contextlib.suppress(docker.errors.ImageNotFound):
            api.remove_image(image, force=True)
        api.close()


def _run_labels() -> dict[str, str]:
    return {f"porter-sandbox.tag.{key}": value for key, value in RUN_TAG.items()}


async def test_a_read_only_root_when_the_server_asks_for_one(recorder: Recorder, tmp_path: Path) -> None:
    read_only = DockerRuntime(tmp_path / "data", network="none", read_only_root=True)
    assert read_only.capabilities.snapshot_modes == frozenset(), "a commit would hold nothing"
    await read_only.open(recorder)
    try:
        spec = make_spec(memory_bytes=64 * 1024 * 1024)
        await read_only.launch(spec)
        script = "touch /tmp/t /run/r /workspace/w /root/h && echo ok; touch /etc/x"
        output = await read_only.exec(spec.sandbox_id, ["sh", "-c", script], "e", {})
        assert output.stdout == "ok\n" and "Read-only" in output.stderr, output
        full = await read_only.exec(spec.sandbox_id, ["sh", "-c", "dd if=/dev/zero of=/tmp/f bs=1M count=64"], "f", {})
        assert "No space left" in full.stderr, full  # /tmp is a tmpfs of half the memory limit
    finally:
        await read_only.close(stop_sandboxes=True)
