"""Environment groups: dotenv files given to ``serve --env-group``, merged into sandboxes that name them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_calls import TERMINAL, create, wait_for

from porter_sandbox.testing import LocalServer
from porter_sandbox_server.core.env_groups import EnvGroupError, EnvGroups, parse_dotenv


@pytest.fixture(scope="module")
def groups_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("env-groups")
    (root / "base.env").write_text("# shared settings\nREGION=eu\nSHARED=from-base\nOVERRIDE=from-base\n")
    teams = root / "teams"
    teams.mkdir()
    (teams / "data.env").write_text("export SHARED=from-data\nTOKEN='s3cr3t # not a comment'\n")
    (teams / "notes.txt").write_text("not a group\n")
    return root


@pytest.fixture(scope="module")
def grouped(groups_dir: Path) -> Iterator[LocalServer]:
    """A server with the group ``base`` from a file and every ``*.env`` of ``teams/``."""
    args = ["--env-group", f"base={groups_dir / 'base.env'}", "--env-group", str(groups_dir / "teams")]
    with LocalServer(isolation="none", extra_args=args) as server:
        yield server


@pytest.fixture
def http(grouped: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=grouped.url, timeout=60) as client:
        yield client


def env_of(client: httpx.Client, sandbox_id: str, *names: str) -> list[str]:
    script = "; ".join(f'echo "{name}=${{{name}-unset}}"' for name in names)
    answer = client.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", script]})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["stdout"]).splitlines()


def test_groups_merge_in_order_under_the_explicit_env(http: httpx.Client) -> None:
    sandbox_id = create(http, env_groups=["base", "data"], env={"OVERRIDE": "explicit"})
    assert env_of(http, sandbox_id, "REGION", "SHARED", "OVERRIDE", "TOKEN") == [
        "REGION=eu",
        "SHARED=from-data",  # a later group wins
        "OVERRIDE=explicit",  # env wins over every group
        "TOKEN=s3cr3t # not a comment",
    ]
    reversed_order = create(http, env_groups=["data", "base"])
    assert env_of(http, reversed_order, "SHARED") == ["SHARED=from-base"]
    plain = create(http)
    assert env_of(http, plain, "REGION") == ["REGION=unset"]


def test_the_main_process_gets_the_groups_too(http: httpx.Client) -> None:
    sandbox_id = create(http, env_groups=["base"], command=["sh", "-c", "echo region=$REGION"])
    wait_for(http, sandbox_id, TERMINAL)
    lines = [entry["line"] for entry in http.get(f"/v1/sandbox/{sandbox_id}/logs").json()["logs"]]
    assert lines == ["region=eu"]


def test_an_unknown_group_is_a_400_naming_it_and_the_known_ones(http: httpx.Client) -> None:
    answer = http.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "env_groups": ["base", "nope"]})
    assert answer.status_code == 400
    message = answer.json()["error"]
    assert "'nope'" in message and "base, data" in message and "--env-group" in message
    assert "notes" not in message, "only *.env files of a directory are groups"


def test_a_changed_file_and_a_new_file_are_read_at_create_time(http: httpx.Client, groups_dir: Path) -> None:
    base = groups_dir / "base.env"
    original = base.read_text()
    try:
        base.write_text(original.replace("REGION=eu", "REGION=us-east"))
        (groups_dir / "teams" / "late.env").write_text("LATE=yes\n")
        sandbox_id = create(http, env_groups=["base", "late"])
        assert env_of(http, sandbox_id, "REGION", "LATE") == ["REGION=us-east", "LATE=yes"]
        # A file broken after start-up keeps its last good variables (and the server says so in its log).
        base.write_text("this is not dotenv\n")
        kept = create(http, env_groups=["base"])
        assert env_of(http, kept, "REGION") == ["REGION=us-east"]
    finally:
        base.write_text(original)


def test_serve_refuses_a_group_it_cannot_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.env"
    broken.write_text("GOOD=1\nno equals sign here\n")
    for spec, expected in [
        (f"bad={broken}", "broken.env, line 2"),
        (f"gone={tmp_path / 'missing.env'}", "cannot read"),
        ("bad name=x.env", "group name"),
        (str(tmp_path / "no-such-dir"), "NAME=FILE"),
    ]:
        ran = subprocess.run(
            [sys.executable, "-m", "porter_sandbox_server", "serve", "--port", "0", "--env-group", spec],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 2, (spec, ran.stderr)
        assert expected in ran.stderr, (spec, ran.stderr)


def test_dotenv_lines() -> None:
    text = "\n".join(
        [
            "# a comment",
            "",
            "PLAIN=value  # trailing comment",
            "export EXPORTED=yes",
            "SPACED = around ",
            "EMPTY=",
            "SINGLE='kept $literally \\n'",
            'DOUBLE="line\\nbreak \\"quoted\\""',
            "HASH=a#b",
        ]
    )
    assert parse_dotenv(text, "test.env") == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "SPACED": "around",
        "EMPTY": "",
        "SINGLE": "kept $literally \\n",
        "DOUBLE": 'line\nbreak "quoted"',
        "HASH": "a#b",
    }
    for bad, where in [("=x", "line 1"), ("A='open", "not closed"), ('A="x" y', "unexpected"), ("1A=x", "line 1")]:
        with pytest.raises(EnvGroupError, match=where):
            parse_dotenv(bad, "bad.env")


def test_the_same_name_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "one.env").write_text("A=1\n")
    (tmp_path / "two.env").write_text("A=2\n")
    with pytest.raises(EnvGroupError, match="configured twice"):
        EnvGroups.load([f"x={tmp_path / 'one.env'}", f"x={tmp_path / 'two.env'}"])
