"""Running ``porter-sandbox`` in the CLI tests: in this process or as its own process."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from porter_sandbox._cli import main

#: Configuration variables the SDK reads; the tests set the ones they mean.
CONFIG_VARIABLES = ("PORTER_SANDBOX_BASE_URL", "PORTER_SANDBOX_API_KEY", "PORTER_CLUSTER_ID", "KUBERNETES_SERVICE_HOST")


@dataclass
class Outcome:
    """What one ``porter-sandbox`` run printed and how it exited."""

    code: int
    out: str
    err: str


class Cli:
    """Runs ``porter-sandbox`` in this process (``main([...])``), capturing what it prints."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str) -> Outcome:
        self._capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's --help exits
            code = exc.code if isinstance(exc.code, int) else 1
        captured = self._capsys.readouterr()
        return Outcome(code, captured.out, captured.err)


def run_cli(*args: str, env: dict[str, str], timeout: float = 120) -> Outcome:
    """Run ``python -m porter_sandbox._cli ARGS`` as its own process, as a shell would."""
    done = subprocess.run(
        [sys.executable, "-m", "porter_sandbox._cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(outcome: Outcome, *, code: int = 1) -> str:
    """The CLI failed with ``code``, printing exactly one line to stderr and no traceback."""
    assert outcome.code == code, outcome
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert "Traceback" not in outcome.err
    assert lines[0].startswith("porter-sandbox: "), lines[0]
    return lines[0]
