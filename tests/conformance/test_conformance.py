"""What every runtime does: launch, exec, exit codes, logs, stop, volumes, limits, adoption.

Run against each real runtime this machine has (see ``conftest.py``).
Commands are plain ``sh`` so they run in the process runtime's host system
and in the busybox test image alike.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from runtime_kit import Kit

from porter_sandbox_server.runtimes.base import ExitKind, LaunchFailed, Placement, SandboxGone

pytestmark = pytest.mark.slow


async def test_launch_answers_a_placement_and_exec_runs(kit: Kit) -> None:
    spec = kit.spec()
    placement = await kit.runtime.launch(spec)
    assert isinstance(placement, Placement)
    output = await kit.runtime.exec(spec.sandbox_id, ["sh", "-c", "echo out; echo err >&2; exit 3"], "ex-1", {})
    assert (output.stdout, output.stderr, output.exit_code) == ("out\n", "err\n", 3)
    # Each line is also reported, with the exec's id, on the event loop's thread.
    assert sorted(kit.events.lines_of(spec.sandbox_id, "ex-1")) == [("stderr", "err"), ("stdout", "out")]
    assert kit.events.threads == {threading.get_ident()}


async def test_a_missing_program_is_127_and_one_that_cannot_run_is_126(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    missing = await kit.runtime.exec(sandbox_id, ["porter-no-such-program"], "ex-m", {})
    assert missing.exit_code == 127
    assert "porter-no-such-program" in missing.stderr and missing.stdout == ""
    directory = await kit.runtime.exec(sandbox_id, ["/tmp"], "ex-d", {})
    assert directory.exit_code == 126


async def test_env_of_the_sandbox_and_of_the_exec(kit: Kit) -> None:
    sandbox_id = await kit.launch(env={"GREETING": "hello", "SHARED": "sandbox"})
    out, _, code = await kit.sh(sandbox_id, 'echo "$GREETING $SHARED $EXTRA"', env={"SHARED": "exec", "EXTRA": "x"})
    assert (out, code) == ("hello exec x\n", 0)


async def test_the_main_process_runs_its_command_and_args_and_its_exit_is_reported(kit: Kit) -> None:
    sandbox_id = await kit.launch(["sh", "-c"], args=['echo "started $0"; echo oops >&2; exit 4', "main"])
    end = await kit.events.wait_end(sandbox_id)
    assert (end.kind, end.exit_code) == (ExitKind.EXITED, 4)
    assert sorted(kit.events.lines_of(sandbox_id)) == [("stderr", "oops"), ("stdout", "started main")]


async def test_a_main_process_that_exits_zero_is_reported_as_zero(kit: Kit) -> None:
    sandbox_id = await kit.launch(["sh", "-c", "echo done"])
    end = await kit.events.wait_end(sandbox_id)
    assert (end.kind, end.exit_code, end.message) == (ExitKind.EXITED, 0, None)
    assert kit.events.of(sandbox_id, "", "stdout") == ["done"]


async def test_exec_after_the_main_process_ended_is_sandbox_gone(kit: Kit) -> None:
    sandbox_id = await kit.launch(["sh", "-c", "exit 0"])
    await kit.events.wait_end(sandbox_id)
    with pytest.raises(SandboxGone):
        await kit.runtime.exec(sandbox_id, ["true"], "ex-late", {})


async def test_stop_ends_the_sandbox_reports_no_exit_and_is_idempotent(kit: Kit) -> None:
    sandbox_id = await kit.launch(["sh", "-c", "sleep 600"])
    assert (await kit.sh(sandbox_id, "echo alive"))[0] == "alive\n"
    await kit.runtime.stop(sandbox_id)
    with pytest.raises(SandboxGone):
        await kit.runtime.exec(sandbox_id, ["true"], "ex-after", {})
    await kit.runtime.stop(sandbox_id)
    await kit.runtime.stop("sb-never-launched")
    await asyncio.sleep(0.2)
    assert sandbox_id not in kit.events.ends, "a stop reports no exit"


async def test_a_missing_main_program_fails_the_launch(kit: Kit) -> None:
    with pytest.raises(LaunchFailed):
        await kit.launch(["porter-no-such-program"])


async def test_stdout_and_stderr_of_megabytes_arrive_whole_and_apart(kit: Kit) -> None:
    kit.events.keep_lines = False
    sandbox_id = await kit.launch()
    # Both streams at once: a reader that drained one pipe only would deadlock here.
    script = "i=0; while [ $i -lt 20000 ]; do echo oooooooooooooooooooooooooooooooooooooooooooooooo; echo eeee >&2; i=$((i+1)); done"
    out, err, code = await kit.sh(sandbox_id, script)
    assert code == 0
    assert out.count("\n") == 20000 and set(out.replace("\n", "")) == {"o"}
    assert err.count("\n") == 20000 and set(err.replace("\n", "")) == {"e"}


async def test_a_volume_is_shared_between_sandboxes_and_reached_through_the_backend(kit: Kit) -> None:
    volume_id = await kit.volume()
    writer = await kit.launch(mounts=kit.mount("/data", volume_id))
    reader = await kit.launch(mounts=kit.mount("/mnt/shared", volume_id))
    assert (await kit.sh(writer, "mkdir -p /data/dir && echo shared > /data/dir/file.txt"))[2] == 0
    assert (await kit.sh(reader, "cat /mnt/shared/dir/file.txt"))[0] == "shared\n"
    opened = await kit.runtime.volumes.open_file(volume_id, "/dir/file.txt")
    try:
        assert await opened.read(0, 100) == b"shared\n"
    finally:
        await opened.close()
    # What the backend writes, a sandbox reads.
    writing = await kit.runtime.volumes.begin_write(volume_id, "/from-api.txt")
    await writing.write(b"from the api\n")
    await writing.commit()
    assert (await kit.sh(reader, "cat /mnt/shared/from-api.txt"))[0] == "from the api\n"
    await kit.runtime.stop(writer)
    listing = await kit.runtime.volumes.list_files(volume_id, "/", None)
    assert [entry.name for entry in listing.entries] == ["dir", "from-api.txt"], "stop removes nothing of a volume"


async def test_memory_limit_kills_a_hog_and_says_so(kit: Kit) -> None:
    limit = 48 * 1024 * 1024
    # A shell doubling a string past the limit: the kernel kills it, and the runtime says why.
    hog = "x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while :; do x=$x$x; done"
    sandbox_id = await kit.launch(["sh", "-c", hog], memory_bytes=limit)
    end = await kit.events.wait_end(sandbox_id, timeout=60)
    if getattr(kit.runtime, "memory_mechanism", "") == "RLIMIT_AS":
        # No memory cgroup here (an unprivileged server): the shell's allocation fails instead.
        assert end.kind is ExitKind.EXITED and end.exit_code != 0, end
        return
    assert end.kind is ExitKind.OUT_OF_MEMORY, end
    assert end.exit_code == 137
    assert end.message is not None and "memory limit" in end.message


async def test_adoption_after_a_restart_follows_what_the_runtime_declares(kit: Kit) -> None:
    spec = kit.spec()
    await kit.runtime.launch(spec)
    assert (await kit.sh(spec.sandbox_id, "echo before > /tmp/mark"))[2] == 0
    await kit.runtime.close(stop_sandboxes=False)
    again = await kit.reopen()
    try:
        adopted = await again.runtime.adopt([spec])
        if kit.runtime.capabilities.outlives_server:
            assert adopted == {spec.sandbox_id}
            out, _, code = await again.sh(spec.sandbox_id, "cat /tmp/mark")
            assert (out, code) == ("before\n", 0)
        else:
            assert adopted == set()
            with pytest.raises(SandboxGone):
                await again.runtime.exec(spec.sandbox_id, ["true"], "ex-lost", {})
    finally:
        await again.runtime.close(stop_sandboxes=True)
