"""``porter-sandbox`` for live commands, run as its own process as a user would: exec streams and passes stdin on,
Ctrl-C stops the remote command, logs -f follows, cp copies both ways, and shell / exec -it drive a real terminal
(under pexpect)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from cli_support import Cli, assert_one_line_error, run_cli

CLI = [sys.executable, "-m", "porter_sandbox._cli"]


def sandbox(cli: Cli) -> str:
    outcome = cli("run", "python:3.12-slim", "--wait")
    assert outcome.code == 0, outcome
    return outcome.out.strip()


def test_exec_streams_output_as_it_is_written(cli: Cli, cli_env: dict[str, str]) -> None:
    name = sandbox(cli)
    started = time.monotonic()
    script = "for i in 1 2 3; do echo line-$i; sleep 1; done; echo done >&2; exit 4"
    with subprocess.Popen(
        [*CLI, "exec", name, "--", "sh", "-c", script],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        first_at = time.monotonic() - started
        rest = process.stdout.read()
        code = process.wait(30)
        err = process.stderr.read()
    ended_at = time.monotonic() - started
    assert first == b"line-1\n" and rest == b"line-2\nline-3\n" and err == b"done\n"
    assert code == 4
    assert first_at < ended_at - 1.5, (first_at, ended_at)


def test_exec_passes_stdin_on_when_it_is_not_a_terminal(cli: Cli, cli_env: dict[str, str]) -> None:
    name = sandbox(cli)
    script = b"import sys\nprint('read from stdin:', 6 * 7)\nsys.exit(3)\n"
    done = subprocess.run(
        [*CLI, "exec", name, "--", "python3"], env=cli_env, input=script, capture_output=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (3, b"read from stdin: 42\n")
    data = os.urandom(3 * 1024 * 1024)
    digest = subprocess.run(
        [*CLI, "exec", name, "--", "sha256sum"], env=cli_env, input=data, capture_output=True, timeout=60
    )
    assert digest.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    kept = subprocess.run(
        [*CLI, "exec", "--no-stdin", name, "--", "wc", "-c"], env=cli_env, input=b"xyz", capture_output=True, timeout=60
    )
    assert kept.stdout.split() == [b"0"]


def test_binary_output_reaches_stdout_byte_for_byte(cli: Cli, cli_env: dict[str, str]) -> None:
    name = sandbox(cli)
    done = subprocess.run(
        [*CLI, "exec", name, "--", "printf", r"\377\376\000abc"], env=cli_env, capture_output=True, timeout=60
    )
    assert done.stdout == b"\xff\xfe\x00abc"


def test_ctrl_c_stops_the_remote_command(cli: Cli, cli_env: dict[str, str]) -> None:
    name = sandbox(cli)
    script = "echo started; sleep 2; touch /tmp/after-ctrl-c; sleep 30"
    with subprocess.Popen(
        [*CLI, "exec", name, "--", "sh", "-c", script],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == b"started\n"
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 130
    time.sleep(2.5)
    assert "after-ctrl-c" not in cli("exec", name, "--", "ls", "/tmp").out


def test_logs_follow_prints_new_lines_and_ends_with_the_sandbox(cli: Cli, cli_env: dict[str, str]) -> None:
    outcome = cli("run", "python:3.12-slim", "--wait", "--", "sh", "-c", "echo early; sleep 2; echo late >&2; sleep 1")
    name = outcome.out.strip()
    started = time.monotonic()
    done = subprocess.run([*CLI, "logs", "-f", name], env=cli_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout == "early\n" and done.stderr == "late\n"
    assert time.monotonic() - started > 1.5, "it followed until the sandbox ended"


def test_cp_copies_files_and_directories_both_ways(cli: Cli, tmp_path: Path) -> None:
    name = sandbox(cli)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("alpha\n")
    (tree / "sub" / "b.bin").write_bytes(bytes(range(256)) * 100)
    (tree / "link").symlink_to("a.txt")
    assert cli("cp", str(tree), f"{name}:/tmp/").code == 0
    listing = cli("exec", name, "--", "sh", "-c", "cd /tmp/tree && find . | sort && cat a.txt && readlink link").out
    assert listing.split() == [".", "./a.txt", "./link", "./sub", "./sub/b.bin", "alpha", "a.txt"]
    assert cli("cp", str(tree / "a.txt"), f"{name}:/tmp/renamed.txt").code == 0
    assert cli("exec", name, "--", "cat", "/tmp/renamed.txt").out == "alpha\n"

    back = tmp_path / "back"
    back.mkdir()
    assert cli("cp", f"{name}:/tmp/tree", str(back)).code == 0
    assert (back / "tree" / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 100
    assert os.readlink(back / "tree" / "link") == "a.txt"
    assert cli("cp", f"{name}:/tmp/tree", str(back / "copy")).code == 0
    assert (back / "copy" / "a.txt").read_text() == "alpha\n"
    assert cli("cp", f"{name}:/tmp/renamed.txt", str(back / "one.txt")).code == 0
    assert (back / "one.txt").read_text() == "alpha\n"


def test_cp_refuses_what_would_land_outside_its_destination(cli: Cli, tmp_path: Path) -> None:
    name = sandbox(cli)
    # A sandbox can make any tar it likes: a link out of the destination must not be followed or made.
    script = "mkdir -p /tmp/evil && ln -sf /etc /tmp/evil/escape && echo x > /tmp/evil/plain"
    assert cli("exec", name, "--", "sh", "-c", script).code == 0
    outcome = cli("cp", f"{name}:/tmp/evil", str(tmp_path))
    assert outcome.code == 1
    assert not (tmp_path / "evil" / "escape").is_symlink()


def test_cp_says_which_side_is_the_sandbox(cli: Cli) -> None:
    assert "exactly one side" in assert_one_line_error(cli("cp", "./a", "./b"), code=2)


def test_a_terminal_needs_a_terminal(cli: Cli, cli_env: dict[str, str]) -> None:
    name = sandbox(cli)
    outcome = run_cli("exec", "-it", name, "--", "sh", env=cli_env)
    assert "-t needs one" in assert_one_line_error(outcome, code=2)
    assert "needs one" in assert_one_line_error(run_cli("shell", name, env=cli_env), code=2)


@pytest.mark.parametrize("arguments", [["shell"], ["exec", "-it"]], ids=["shell", "exec-it"])
def test_a_shell_runs_on_a_real_terminal_and_passes_its_exit_code(
    cli: Cli, cli_env: dict[str, str], arguments: list[str]
) -> None:
    name = sandbox(cli)
    extra = ["--", "sh"] if arguments[0] == "exec" else []
    child = pexpect.spawn(CLI[0], [*CLI[1:], *arguments, name, *extra], env=cli_env, timeout=30, dimensions=(30, 100))
    try:
        child.expect(r"[#$] ")
        child.sendline("tty; stty size")
        child.expect(r"/dev/pts/\d+")
        child.expect("30 100")
        child.setwinsize(40, 120)  # SIGWINCH here: the remote terminal follows
        time.sleep(0.5)
        child.sendline("stty size")
        child.expect("40 120")
        child.sendline("exit 5")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 5


def test_an_interactive_python_through_exec_it(cli: Cli, cli_env: dict[str, str]) -> None:
    name = sandbox(cli)
    child = pexpect.spawn(CLI[0], [*CLI[1:], "exec", "-it", name, "--", "python3", "-q"], env=cli_env, timeout=30)
    try:
        child.expect(">>> ")
        child.sendline("print(6 * 7)")
        child.expect("42")
        child.expect(">>> ")
        child.sendcontrol("c")  # a KeyboardInterrupt in the remote python, not here
        child.expect("KeyboardInterrupt")
        child.expect(">>> ")
        child.sendline("import sys; sys.exit(9)")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 9
