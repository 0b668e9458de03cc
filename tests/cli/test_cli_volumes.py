"""``porter-sandbox volumes ls / create / rm`` against a real local server."""

from __future__ import annotations

from cli_support import Cli, assert_one_line_error
from runtimes import require_bwrap

from porter_sandbox.testing import LocalServer


def test_create_list_and_remove(cli: Cli, cli_server: LocalServer, unique_name: str) -> None:
    created = cli("volumes", "create", unique_name)
    assert created.code == 0, created
    assert created.out == f"{unique_name}\n"  # its name, as `run` prints a sandbox's
    with cli_server.client() as porter:
        volume_id = porter.volumes.get(unique_name).id

    table = cli("volumes", "ls")
    assert table.code == 0, table
    header, *rows = table.out.splitlines()
    assert header.split() == ["NAME", "PHASE", "CREATED", "ATTACHED", "TO", "ID"]
    mine = [row.split() for row in rows if row.startswith(f"{unique_name} ")]
    assert len(mine) == 1
    assert mine[0][0] == unique_name
    assert mine[0][-1] == volume_id
    assert unique_name in cli("volumes", "ls", "-q").out.splitlines()

    removed = cli("volumes", "rm", unique_name)
    assert (removed.code, removed.out) == (0, f"{unique_name}\n")
    assert unique_name not in cli("volumes", "ls", "-q").out.splitlines()


def test_a_volume_in_use_shows_its_sandbox_and_cannot_be_removed(
    cli: Cli, cli_server: LocalServer, unique_name: str
) -> None:
    if cli_server.isolation == "none":
        require_bwrap()  # unisolated, a sandbox cannot mount a volume
    assert cli("volumes", "create", unique_name).code == 0
    assert cli("run", "python:3.12-slim", "--name", unique_name, "--volume", f"/data={unique_name}", "--wait").code == 0
    with cli_server.client() as porter:
        sandbox_id = porter.sandboxes.get(unique_name).id
    row = next(r for r in cli("volumes", "ls").out.splitlines() if r.startswith(f"{unique_name} "))
    assert row.split()[4] == sandbox_id  # NAME PHASE CREATED(date time) ATTACHED-TO ID
    refused = cli("volumes", "rm", unique_name)
    assert "409" in assert_one_line_error(refused)
    assert cli("rm", unique_name).code == 0
    assert cli("volumes", "rm", unique_name).code == 0


def test_a_taken_name_is_a_conflict(cli: Cli, unique_name: str) -> None:
    assert cli("volumes", "create", unique_name).code == 0
    assert "409" in assert_one_line_error(cli("volumes", "create", unique_name))
    assert cli("volumes", "rm", unique_name).code == 0


def test_removing_an_unknown_volume_fails_in_one_line(cli: Cli) -> None:
    assert "404" in assert_one_line_error(cli("volumes", "rm", "no-such-volume"))


def test_volumes_without_a_command_shows_help(cli: Cli) -> None:
    outcome = cli("volumes")
    assert outcome.code == 2
    assert "create" in outcome.err
