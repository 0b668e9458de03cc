"""What the CLI tests share: one local server, and a way to run ``porter-sandbox`` against it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from cli_support import CONFIG_VARIABLES, Cli

from porter_sandbox.testing import LocalServer, local_server


@pytest.fixture(scope="session")
def cli_server() -> Iterator[LocalServer]:
    """A local server for every CLI test (bubblewrap isolation where it works, as a user's would be)."""
    with local_server() as server:
        yield server


@pytest.fixture
def cli_env(cli_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a user would have: PORTER_SANDBOX_BASE_URL pointing at the server, nothing else."""
    for variable in CONFIG_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PORTER_SANDBOX_BASE_URL", cli_server.url)
    return dict(os.environ)


@pytest.fixture
def cli(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("ls")``: run the CLI in-process against ``cli_server``."""
    return Cli(capsys)


@pytest.fixture
def offline_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``offline_cli("--help")``: the CLI with no server configured, for what needs none."""
    for variable in CONFIG_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return Cli(capsys)
