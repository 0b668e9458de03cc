"""``porter-sandbox``'s output a newcomer reads and scripts parse: --version, -o json/wide, ls's defaults, inspect,
times with their zone, hints for the usual slips, and shell completion."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime

import pytest
from cli_support import Cli, assert_one_line_error

from porter_sandbox import __version__
from porter_sandbox.testing import LocalServer

# A time as the tables show it: local, to the second, with its UTC offset.
ZONED_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def test_version(offline_cli: Cli) -> None:
    outcome = offline_cli("--version")
    assert (outcome.code, outcome.out) == (0, f"porter-sandbox {__version__}\n")


def test_ls_shows_live_sandboxes_unless_asked_for_all_and_stops_at_limit(cli: Cli, unique_name: str) -> None:
    tag = f"case={unique_name}"
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        assert cli("run", "python:3.12-slim", "--name", name, "--tag", tag).code == 0
    assert cli("rm", names[0]).code == 0
    assert cli("ls", "--tag", tag, "-q").out.split() == [names[2], names[1]]
    assert cli("ls", "--tag", tag, "-q", "-a").out.split() == [names[2], names[1], names[0]]
    assert cli("ls", "--tag", tag, "-q", "-a", "--limit", "2").out.split() == [names[2], names[1]]
    assert cli("ls", "--tag", tag, "-q", "--phase", "terminated").out.split() == [names[0]]
    assert "--limit" in assert_one_line_error(cli("ls", "--limit", "0"), code=2)
    cli("rm", "--all", "--tag", tag, "--yes")


def test_ls_as_json_and_wide(cli: Cli, unique_name: str) -> None:
    tag = f"case={unique_name}"
    assert cli("run", "python:3.12-slim", "--name", unique_name, "--tag", tag, "--wait").code == 0
    listed = json.loads(cli("ls", "--tag", tag, "-o", "json").out)
    assert [item["name"] for item in listed] == [unique_name]
    item = listed[0]
    assert item["phase"] == "running" and item["tags"] == {"case": unique_name}
    created = datetime.fromisoformat(item["created_at"])
    assert created.utcoffset() is not None  # a zone, always
    assert item["termination_reason"] is None and item["exit_code"] is None

    header, row = cli("ls", "--tag", tag, "-o", "wide").out.splitlines()
    wide = ["NAME", "PHASE", "IMAGE", "CREATED", "TAGS", "ID", "STARTED", "FINISHED", "EXIT", "REASON", "MOUNTS"]
    assert header.split() == wide
    cells = row.split()
    assert ZONED_TIME.match(" ".join(cells[3:5])), row
    assert ZONED_TIME.match(" ".join(cells[7:9])), row  # STARTED, after TAGS and ID
    cli("rm", unique_name)


def test_inspect_shows_why_a_sandbox_failed(cli: Cli, unique_name: str) -> None:
    script = "echo starting; echo 'fatal: config.yaml missing' >&2; exit 4"
    run = cli("run", "python:3.12-slim", "--name", unique_name, "--wait", "--", "sh", "-c", script)
    line = assert_one_line_error(run)
    assert "exit code 4" in line and "fatal: config.yaml missing" in line  # run --wait says why too

    shown = cli("inspect", unique_name)
    assert shown.code == 0, shown
    text = shown.out
    assert re.search(r"^phase:\s+failed$", text, re.MULTILINE)
    assert re.search(r"^termination_reason:\s+workload_exited$", text, re.MULTILINE)
    assert re.search(r"^exit_code:\s+4$", text, re.MULTILINE)
    assert "last_error_output:\n  fatal: config.yaml missing\n" in text
    created = re.search(r"^created_at:\s+(.+)$", text, re.MULTILINE)
    assert created and datetime.fromisoformat(created.group(1)).utcoffset() is not None

    fields = json.loads(cli("inspect", unique_name, "-o", "json").out)
    assert fields["termination_reason"] == "workload_exited"
    assert fields["last_error_output"] == ["fatal: config.yaml missing"]
    wide = json.loads(cli("inspect", unique_name, "-o", "wide", "-o", "json").out)
    assert "last_log_lines" not in wide  # the last -o wins, as with every option
    assert "starting" in cli("inspect", unique_name, "-o", "wide").out
    assert "404" in assert_one_line_error(cli("inspect", f"{unique_name}-nope"))


def test_inspect_of_a_live_sandbox(cli: Cli, unique_name: str) -> None:
    assert cli("run", "python:3.12-slim", "--name", unique_name, "--tag", "k=v", "--wait").code == 0
    text = cli("inspect", unique_name).out
    assert re.search(r"^phase:\s+running$", text, re.MULTILINE)
    assert re.search(r"^termination_reason:\s+-$", text, re.MULTILINE)
    assert re.search(r"^tags:\s+k=v$", text, re.MULTILINE)
    assert re.search(r"^last_error_output:\s+-$", text, re.MULTILINE)
    cli("rm", unique_name)


def test_volumes_ls_as_json_and_wide(cli: Cli, unique_name: str) -> None:
    assert cli("volumes", "create", unique_name).out == f"{unique_name}\n"
    listed = {item["name"]: item for item in json.loads(cli("volumes", "ls", "-o", "json").out)}
    assert listed[unique_name]["phase"] == "ready"
    assert listed[unique_name]["attached_to"] == []
    assert datetime.fromisoformat(listed[unique_name]["created_at"]).utcoffset() is not None
    header, *rows = cli("volumes", "ls", "-o", "wide").out.splitlines()
    assert header.split()[-2:] == ["TYPE", "PATH"]
    assert any(row.startswith(f"{unique_name} ") and " disk " in row for row in rows)
    assert cli("volumes", "rm", unique_name).code == 0


def test_run_and_volumes_create_print_the_same_kind_of_identifier(cli: Cli, cli_server: LocalServer) -> None:
    sandbox = cli("run", "python:3.12-slim").out.strip()
    volume = cli("volumes", "create").out.strip()
    with cli_server.client() as porter:
        assert porter.sandboxes.get(sandbox).name == sandbox  # each prints the name (the id when unnamed)
        assert porter.volumes.get(volume).name == volume
    assert cli("rm", sandbox).code == 0
    assert cli("volumes", "rm", volume).code == 0


def test_exec_without_dashes_says_where_the_command_goes(cli: Cli) -> None:
    line = assert_one_line_error(cli("exec", "my-sandbox", "ls", "-l"), code=2)
    assert "put the command after '--'" in line
    assert "porter-sandbox exec my-sandbox -- ls -l" in line


def test_a_volume_without_a_path_says_the_form(cli: Cli) -> None:
    line = assert_one_line_error(cli("run", "python:3.12-slim", "--volume", "data"), code=2)
    assert "--volume expects PATH=VOLUME" in line and "/data=my-volume" in line


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts(offline_cli: Cli, shell: str) -> None:
    outcome = offline_cli("completion", shell)
    assert outcome.code == 0
    assert "complete -F _porter_sandbox_complete porter-sandbox" in outcome.out
    for command in ("inspect", "prune", "volumes", "--version"):
        assert command in outcome.out


def test_the_bash_completion_completes_commands_and_options(offline_cli: Cli) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash here")
    script = offline_cli("completion", "bash").out

    def complete(*words: str) -> list[str]:
        line = " ".join(["porter-sandbox", *words])
        program = (
            f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words)}; "
            '_porter_sandbox_complete porter-sandbox; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run([bash, "-c", program], capture_output=True, text=True, timeout=30, check=True)
        return done.stdout.split()

    assert complete("in") == ["inspect"]
    assert complete("ls", "--al") == ["--all"]
    assert complete("volumes", "cr") == ["create"]
