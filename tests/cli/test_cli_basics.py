"""``porter-sandbox``: help everywhere, configuration, connection failures and ``serve``."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import CONFIG_VARIABLES, Cli, Outcome, assert_one_line_error, run_cli
from missing_extra import run_without_server_extra

from porter_sandbox import _cli
from porter_sandbox.testing import local_server

COMMANDS = [
    [],
    ["run"],
    ["exec"],
    ["logs"],
    ["ls"],
    ["rm"],
    ["inspect"],
    ["prune"],
    ["volumes"],
    ["volumes", "ls"],
    ["volumes", "create"],
    ["volumes", "rm"],
    ["completion"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda words: " ".join(words) or "top")
def test_help_everywhere(offline_cli: Cli, command: list[str]) -> None:
    outcome = offline_cli(*command, "--help")
    assert outcome.code == 0
    assert outcome.out.startswith("usage: porter-sandbox")
    assert "--base-url" in outcome.out or command in ([], ["volumes"], ["completion"])


def test_top_level_help_lists_every_command(offline_cli: Cli) -> None:
    text = offline_cli("--help").out
    for command in ("serve", "run", "exec", "logs", "inspect", "ls", "rm", "prune", "volumes", "completion"):
        assert f"    {command} " in text


def test_no_command_prints_usage(offline_cli: Cli) -> None:
    outcome = offline_cli()
    assert outcome.code == 2
    assert "usage: porter-sandbox" in outcome.err


def test_connection_options_work_before_or_after_the_command(
    cli: Cli, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = cli_env["PORTER_SANDBOX_BASE_URL"]
    monkeypatch.delenv("PORTER_SANDBOX_BASE_URL")
    assert cli("--base-url", url, "ls").code == 0
    assert cli("ls", "--base-url", url).code == 0
    assert cli("volumes", "ls", "--base-url", url, "--timeout", "10").code == 0


def _offline_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}


def test_no_base_url_configured_is_one_clear_line() -> None:
    line = assert_one_line_error(run_cli("ls", env=_offline_env()))
    assert "--base-url" in line
    assert "PORTER_SANDBOX_BASE_URL" in line


def test_an_unreachable_server_is_one_clear_line() -> None:
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        outcome = run_cli("--base-url", url, "ls", env=_offline_env())
    assert f"is a server running at {url}?" in assert_one_line_error(outcome)


def test_a_wrong_api_key_is_one_clear_line() -> None:
    with local_server(isolation="none", api_key="right-key") as server:
        env = dict(_offline_env(), PORTER_SANDBOX_BASE_URL=server.url)
        assert "401" in assert_one_line_error(run_cli("ls", env=env))
        assert "401" in assert_one_line_error(run_cli("ls", "--api-key", "wrong-key", env=env))
        assert run_cli("ls", "--api-key", "right-key", env=env).code == 0
        assert run_cli("ls", env=dict(env, PORTER_SANDBOX_API_KEY="right-key")).code == 0


def test_serve_runs_the_local_server(tmp_path: Path) -> None:
    argv = ["serve", "--port", "0", "--isolation", "none", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(
        [sys.executable, "-m", "porter_sandbox._cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        first = process.stdout.readline().decode() if ready else ""
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert first.startswith("porter-sandbox: serving http://127.0.0.1:"), err.decode()
    assert str(tmp_path) in first
    assert process.returncode == 0, err.decode()


def test_serve_help_is_the_servers() -> None:
    outcome = run_cli("serve", "--help", env=dict(os.environ))
    assert outcome.code == 0, outcome
    for option in ("--port", "--data-dir", "--runtime", "--isolation", "--api-key"):
        assert option in outcome.out


def test_serve_without_the_server_extra_says_which_extra_to_install() -> None:
    done = run_without_server_extra(
        "import sys; from porter_sandbox._cli import main; sys.exit(main(['serve', '--port', '0']))"
    )
    line = assert_one_line_error(Outcome(done.returncode, done.stdout, done.stderr))
    assert "needs porter-sandbox's 'server' extra (missing: starlette, uvicorn, yaml, jsonschema)" in line
    assert "pip install" in line and "[server]" in line


def test_the_install_command_names_where_porter_sandbox_came_from() -> None:
    from porter_sandbox._extras import install_command

    # This checkout is installed in development mode: the command installs the extra from it.
    assert install_command() == f"pip install -e '{Path(__file__).resolve().parents[2]}[server]'"


def test_the_cli_does_not_import_the_server() -> None:
    code = "import sys, porter_sandbox._cli; print('porter_sandbox_server' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(("code", "status"), [(0, 0), (3, 3), (255, 255), (256, 255), (-9, 137), (-15, 143)])
def test_exit_status_of_an_exit_code(code: int, status: int) -> None:
    assert _cli._exit_status(code) == status
