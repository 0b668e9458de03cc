"""``porter-sandbox rm --all`` and ``prune``: cleaning up what crashed scripts and tests left running, after asking."""

from __future__ import annotations

import io

import pytest
from cli_support import Cli, assert_one_line_error, run_cli

from porter_sandbox.testing import LocalServer


def _answer(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _phases(server: LocalServer, names: list[str]) -> list[str]:
    with server.client() as porter:
        return [porter.sandboxes.get(name).phase for name in names]


def test_rm_all_asks_then_terminates_the_live_sandboxes_the_filters_match(
    cli: Cli, cli_server: LocalServer, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = f"case={unique_name}"
    mine = [f"{unique_name}-{n}" for n in range(2)]
    other = f"{unique_name}-other"
    for name in mine:
        assert cli("run", "python:3.12-slim", "--name", name, "--tag", tag).code == 0
    assert cli("run", "python:3.12-slim", "--name", other, "--tag", f"case={unique_name}-x").code == 0

    _answer(monkeypatch, "n\n")
    declined = cli("rm", "--all", "--tag", tag)
    assert declined.code == 1
    assert f"terminate 2 sandboxes ({mine[1]}, {mine[0]})? [y/N]" in declined.err
    assert "nothing done" in declined.err
    assert "terminated" not in _phases(cli_server, mine)

    _answer(monkeypatch, "y\n")
    done = cli("rm", "--all", "--tag", tag)
    assert done.code == 0, done
    assert sorted(done.out.split()) == sorted(mine)
    assert _phases(cli_server, mine) == ["terminated", "terminated"]
    assert _phases(cli_server, [other]) != ["terminated"]

    again = cli("rm", "--all", "--tag", tag, "--yes")
    assert (again.code, again.out) == (0, "nothing to do: no live sandbox matches\n")
    assert cli("rm", other).code == 0


def test_rm_all_without_an_answer_does_nothing(cli_env: dict[str, str], cli: Cli, unique_name: str) -> None:
    tag = f"case={unique_name}"
    assert cli("run", "python:3.12-slim", "--name", unique_name, "--tag", tag).code == 0
    # A script with no terminal: stdin is empty, which is a no.
    outcome = run_cli("rm", "--all", "--tag", tag, env=cli_env)
    assert outcome.code == 1 and "nothing done" in outcome.err
    assert run_cli("rm", "--all", "--tag", tag, "--yes", env=cli_env).out == f"{unique_name}\n"


def test_rm_takes_names_or_all_not_both(cli: Cli) -> None:
    assert "--all" in assert_one_line_error(cli("rm"), code=2)
    assert "not both" in assert_one_line_error(cli("rm", "x", "--all"), code=2)
    assert "--all" in assert_one_line_error(cli("rm", "x", "--tag", "a=b"), code=2)
    assert "--phase" in assert_one_line_error(cli("rm", "--all", "--phase", "terminated"), code=2)


def test_prune_terminates_live_sandboxes_and_with_volumes_deletes_the_unused_ones(
    cli: Cli, cli_server: LocalServer, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = f"case={unique_name}"
    assert cli("run", "python:3.12-slim", "--name", unique_name, "--tag", tag).code == 0
    assert cli("volumes", "create", unique_name).code == 0
    _answer(monkeypatch, "yes\n")
    outcome = cli("prune", "--tag", tag, "--volumes")
    assert outcome.code == 0, outcome
    assert "terminate 1 sandbox and delete" in outcome.err
    assert unique_name in outcome.out.split()
    assert _phases(cli_server, [unique_name]) == ["terminated"]
    assert unique_name not in cli("volumes", "ls", "-q").out.split()
    assert cli("ls", "--tag", tag, "-q").out == ""
