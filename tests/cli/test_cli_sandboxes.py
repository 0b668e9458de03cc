"""``porter-sandbox run / exec / logs / ls / rm`` against a real local server."""

from __future__ import annotations

import pytest
from cli_support import Cli, assert_one_line_error, run_cli
from runtimes import require_bwrap

from porter_sandbox.testing import LocalServer


def test_run_prints_the_name_and_creates_what_it_was_asked(cli: Cli, cli_server: LocalServer, unique_name: str) -> None:
    outcome = cli(
        "run",
        "python:3.12-slim",
        "--name",
        unique_name,
        "--tag",
        "team=cli",
        "--tag",
        "case=run",
        "--env",
        "GREETING=hi",
    )
    assert outcome.code == 0, outcome
    assert outcome.out == f"{unique_name}\n"
    with cli_server.client() as porter:
        sandbox = porter.sandboxes.get(unique_name)
        assert sandbox.tags == {"team": "cli", "case": "run"}
        assert sandbox.exec(["sh", "-c", "echo $GREETING"]).stdout == "hi\n"
        sandbox.terminate()


def test_run_without_a_name_prints_the_id(cli: Cli, cli_server: LocalServer) -> None:
    outcome = cli("run", "python:3.12-slim", "--tag", "case=unnamed")
    assert outcome.code == 0, outcome
    printed = outcome.out.strip()
    with cli_server.client() as porter:
        sandbox = porter.sandboxes.get(printed)
        assert sandbox.id == printed
        sandbox.terminate()


def test_run_with_a_command_runs_it_as_the_main_process(cli: Cli, cli_server: LocalServer, unique_name: str) -> None:
    outcome = cli(
        "run", "python:3.12-slim", "--name", unique_name, "--wait", "--", "python3", "-c", "print('main says hi')"
    )
    assert outcome.code == 0, outcome
    with cli_server.client() as porter:
        sandbox = porter.sandboxes.get(unique_name)
        sandbox.wait(phase="succeeded", timeout=60)
    logs = cli("logs", unique_name)
    assert logs.code == 0, logs
    assert "main says hi" in logs.out


def test_run_mounts_a_volume_by_name(cli: Cli, cli_server: LocalServer, unique_name: str) -> None:
    if cli_server.isolation == "none":
        require_bwrap()  # unisolated, a volume cannot appear at its mount path
    assert cli("volumes", "create", unique_name).code == 0
    outcome = cli("run", "python:3.12-slim", "--name", unique_name, "--volume", f"/data={unique_name}")
    assert outcome.code == 0, outcome
    wrote = cli("exec", unique_name, "--", "sh", "-c", "echo kept > /data/note && cat /data/note")
    assert (wrote.code, wrote.out) == (0, "kept\n")
    assert cli("rm", unique_name).code == 0
    assert cli("volumes", "rm", unique_name).code == 0


def test_run_passes_ttl_and_resources(cli: Cli, cli_server: LocalServer, unique_name: str) -> None:
    outcome = cli("run", "python:3.12-slim", "--name", unique_name, "--cpu", "500m", "--memory", "256Mi", "--ttl", "1")
    assert outcome.code == 0, outcome
    with cli_server.client() as porter:
        sandbox = porter.sandboxes.get(unique_name).wait("terminated", timeout=60)
        assert sandbox.termination_reason == "ttl_expired"
    refused = cli("run", "python:3.12-slim", "--memory", "lots")
    assert "memory" in assert_one_line_error(refused)
    assert "--ttl" in assert_one_line_error(cli("run", "python:3.12-slim", "--ttl", "-5"), code=2)


def test_run_wait_fails_when_the_sandbox_fails_and_says_why(cli: Cli, unique_name: str) -> None:
    # A sandbox that never runs: `--wait` cannot see it running first (an `exit 5` may be seen running).
    outcome = cli("run", "python:3.12-slim", "--name", unique_name, "--wait", "--", "porter-no-such-binary")
    assert outcome.out == f"{unique_name}\n"
    line = assert_one_line_error(outcome)
    assert "failed" in line and "launch_failed" in line
    assert "porter-no-such-binary" in line, "the reason is where the user looks"


def test_exec_passes_output_and_exit_code_through(cli_env: dict[str, str], cli: Cli, unique_name: str) -> None:
    assert cli("run", "python:3.12-slim", "--name", unique_name).code == 0
    script = "import sys; print('to stdout'); print('to stderr', file=sys.stderr); sys.exit(3)"
    outcome = run_cli("exec", unique_name, "--", "python3", "-c", script, env=cli_env)
    assert outcome.code == 3
    assert outcome.out == "to stdout\n"
    assert outcome.err == "to stderr\n"
    ok = run_cli("exec", unique_name, "--", "true", env=cli_env)
    assert (ok.code, ok.out, ok.err) == (0, "", "")
    cli("rm", unique_name)


def test_exec_of_a_missing_binary_is_127(cli: Cli, unique_name: str) -> None:
    assert cli("run", "python:3.12-slim", "--name", unique_name).code == 0
    outcome = cli("exec", unique_name, "--", "no-such-binary-here")
    assert outcome.code == 127
    assert outcome.err
    cli("rm", unique_name)


def test_exec_needs_a_command(cli: Cli) -> None:
    outcome = cli("exec", "some-sandbox")
    assert "exec some-sandbox -- CMD" in assert_one_line_error(outcome, code=2)


def test_exec_in_an_unknown_sandbox_fails_in_one_line(cli_env: dict[str, str]) -> None:
    outcome = run_cli("exec", "no-such-sandbox", "--", "true", env=cli_env)
    line = assert_one_line_error(outcome)
    assert "404" in line


def test_exec_in_a_terminated_sandbox_is_a_conflict(cli: Cli, unique_name: str) -> None:
    assert cli("run", "python:3.12-slim", "--name", unique_name).code == 0
    assert cli("rm", unique_name).code == 0
    line = assert_one_line_error(cli("exec", unique_name, "--", "true"))
    assert "409" in line


def test_logs_reads_lines_with_limit_and_since(cli: Cli, unique_name: str) -> None:
    assert cli("run", "python:3.12-slim", "--name", unique_name).code == 0
    assert cli("exec", unique_name, "--", "python3", "-c", "print('first'); print('second')").code == 0
    # A later exec, so that its line is certainly the newest (one exec's two streams may interleave).
    assert cli("exec", unique_name, "--", "sh", "-c", "echo oops >&2").code == 0
    logs = cli("logs", unique_name)
    assert logs.code == 0, logs
    assert logs.out.splitlines() == ["first", "second"]
    assert logs.err.splitlines() == ["oops"]
    newest = cli("logs", unique_name, "--limit", "1")
    assert (newest.out, newest.err) == ("", "oops\n")
    two = cli("logs", unique_name, "--limit", "2")
    assert (two.out, two.err) == ("second\n", "oops\n")
    stamped = cli("logs", unique_name, "--since", "1h", "--timestamps")
    assert [line.split()[-2:] for line in stamped.out.splitlines()] == [["info", "first"], ["info", "second"]]
    cli("rm", unique_name)


def test_logs_answers_the_newest_100_lines_by_default_as_the_sdk_does(
    cli: Cli, cli_server: LocalServer, unique_name: str
) -> None:
    assert cli("run", "python:3.12-slim", "--name", unique_name).code == 0
    assert cli("exec", unique_name, "--", "sh", "-c", "seq 1 150").code == 0
    logs = cli("logs", unique_name)
    assert logs.out.splitlines() == [str(n) for n in range(51, 151)]
    with cli_server.client() as porter:
        assert [line.line for line in porter.sandboxes.get(unique_name).logs()] == logs.out.splitlines()
    cli("rm", unique_name)


def test_logs_rejects_a_bad_limit(cli: Cli) -> None:
    assert "--limit" in assert_one_line_error(cli("logs", "x", "--limit", "0"), code=2)


def test_ls_shows_a_table_filtered_by_tag_and_phase(cli: Cli, unique_name: str) -> None:
    kept = f"{unique_name}-kept"
    gone = f"{unique_name}-gone"
    tag = f"ls={unique_name}"
    assert cli("run", "python:3.12-slim", "--name", kept, "--tag", tag, "--wait").code == 0
    assert cli("run", "python:3.12-slim", "--name", gone, "--tag", tag).code == 0
    assert cli("rm", gone).code == 0

    assert cli("ls", "--tag", tag, "-q").out == f"{kept}\n"  # the live ones, unless -a
    table = cli("ls", "--tag", tag, "-a")
    assert table.code == 0, table
    header, *rows = table.out.splitlines()
    assert header.split()[:5] == ["NAME", "PHASE", "IMAGE", "CREATED", "TAGS"]
    assert [row.split()[:3] for row in rows] == [
        [gone, "terminated", "python:3.12-slim"],
        [kept, "running", "python:3.12-slim"],
    ]
    assert cli("ls", "--tag", tag, "--phase", "running", "-q").out == f"{kept}\n"
    assert cli("ls", "--tag", tag, "--phase", "running", "--phase", "terminated", "-q").out == f"{gone}\n{kept}\n"
    assert cli("ls", "--tag", f"ls={unique_name}-nothing", "-q").out == ""
    cli("rm", kept)


def test_ls_rejects_an_unknown_phase(cli: Cli) -> None:
    assert "--phase" in assert_one_line_error(cli("ls", "--phase", "sleeping"), code=2)


def test_rm_terminates_each_and_reports_the_unknown(cli: Cli, cli_server: LocalServer, unique_name: str) -> None:
    first, second = f"{unique_name}-1", f"{unique_name}-2"
    assert cli("run", "python:3.12-slim", "--name", first).code == 0
    assert cli("run", "python:3.12-slim", "--name", second).code == 0
    outcome = cli("rm", first, "no-such-sandbox", second)
    assert outcome.code == 1
    assert outcome.out.splitlines() == [first, second]
    assert "no-such-sandbox" in assert_one_line_error(outcome)
    with cli_server.client() as porter:
        assert porter.sandboxes.get(first).refresh().phase == "terminated"
        assert porter.sandboxes.get(second).refresh().phase == "terminated"
    again = cli("rm", first)
    assert (again.code, again.out) == (0, f"{first}\n")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["run", "python:3.12-slim", "--tag", "no-equals"], "--tag expects KEY=VALUE"),
        (["run", "python:3.12-slim", "--env", "=value"], "--env expects KEY=VALUE"),
        (["run", "python:3.12-slim", "--volume", "/data"], "--volume expects"),
        (["run"], "image"),
        (["rm"], "NAME"),
        (["ls", "--", "extra"], "unexpected"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_fail_in_one_line(cli: Cli, args: list[str], complaint: str) -> None:
    assert complaint in assert_one_line_error(cli(*args), code=2)


def test_an_invalid_name_is_refused_before_any_request(cli_env: dict[str, str]) -> None:
    # Nothing listens here: a request would fail with a connection error instead.
    env = dict(cli_env, PORTER_SANDBOX_BASE_URL="http://127.0.0.1:9")
    line = assert_one_line_error(run_cli("run", "python:3.12-slim", "--name", "Not_A_Name", env=env))
    assert "Not_A_Name" in line
