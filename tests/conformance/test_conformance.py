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

from porter_sandbox_server.runtimes.base import ExitKind, LaunchFailed, OutputLimits, Placement, SandboxGone

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
    # A backend whose log merges the two streams (a pod's log) says so, and reports both as stdout.
    oops = "stderr" if kit.runtime.capabilities.separate_main_streams else "stdout"
    assert sorted(kit.events.lines_of(sandbox_id)) == sorted([(oops, "oops"), ("stdout", "started main")])


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


async def test_an_exec_answer_holds_at_most_the_cap_of_each_stream_and_says_it_was_cut(kit: Kit) -> None:
    kit.runtime.output_limits = OutputLimits(exec_answer_bytes=100_000, exec_log_lines=1_000, exec_log_bytes=10**6)
    kit.events.keep_lines = False
    sandbox_id = await kit.launch()
    # 2 MB on stdout (20 times the cap), a little on stderr: stdout is cut, stderr whole.
    script = "i=0; while [ $i -lt 20000 ]; do echo 123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789; i=$((i+1)); done; echo done >&2"
    output = await kit.runtime.exec(sandbox_id, ["sh", "-c", script], "ex-capped", {})
    assert output.exit_code == 0
    assert output.stdout_truncated and not output.stderr_truncated
    kept, note = output.stdout.rsplit("\n[porter-sandbox: ", 1)
    assert len(kept) + 1 == 100_000 and kept.startswith("1234567890")
    assert "wrote 2000000 bytes to stdout" in note and "the first 100000" in note
    assert output.stderr == "done\n"
    # The logs get as many lines as an exec may log, then one line that says the rest is not.
    await asyncio.sleep(0.2)
    logged = kit.events.line_counts[(sandbox_id, "ex-capped", "stdout")]
    assert logged == 1_000 + 1


async def test_an_exec_cut_at_a_multibyte_character_answers_whole_characters(kit: Kit) -> None:
    kit.runtime.output_limits = OutputLimits(exec_answer_bytes=1_001)
    sandbox_id = await kit.launch()
    # "é" is two bytes: the cap falls inside the 501st.
    out, _err, code = await kit.sh(sandbox_id, "i=0; while [ $i -lt 600 ]; do printf 'é'; i=$((i+1)); done")
    assert code == 0
    kept, _note = out.split("\n[porter-sandbox: ", 1)
    assert kept == "é" * 500


async def test_a_reader_waits_while_the_service_takes_no_lines_and_loses_none(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    kit.events.accepting = False
    # Some 600 KB: more than a runtime holds back (256 KiB) plus what a pipe or socket buffers.
    script = "i=0; while [ $i -lt 60000 ]; do echo line-$i; i=$((i+1)); done"
    running = asyncio.ensure_future(kit.sh(sandbox_id, script))
    await asyncio.sleep(1.5)
    # Held back: the command blocks on its next write, and nothing was reported meanwhile.
    assert not running.done()
    assert not [line for sid, _eid, _stream, line in kit.events.lines if sid == sandbox_id]
    kit.events.accepting = True
    out, _err, code = await asyncio.wait_for(running, 60)
    assert code == 0 and out.count("\n") == 60000
    await asyncio.sleep(0.2)
    lines = [line for sid, _eid, stream, line in kit.events.lines if sid == sandbox_id and stream == "stdout"]
    assert lines == [f"line-{i}" for i in range(60000)]


async def test_an_exec_that_ended_answers_whole_while_the_service_takes_no_lines(kit: Kit) -> None:
    sandbox_id = await kit.launch()
    kit.events.accepting = False
    out, _err, code = await asyncio.wait_for(kit.sh(sandbox_id, "seq 1 5000"), 30)
    assert code == 0 and out == "".join(f"{i}\n" for i in range(1, 5001))
    kit.events.accepting = True
    await asyncio.sleep(0.5)
    assert [line for sid, _e, _s, line in kit.events.lines if sid == sandbox_id] == [str(i) for i in range(1, 5001)]
