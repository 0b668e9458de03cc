"""Porter's own published client (0.1.68) runs every one of its operations against our server, on each runtime.

The client lives in a venv of its own (``tests/porter_reference.py``), built
once from PyPI and kept; without PyPI the test skips, saying so, and CI
(``PORTER_SANDBOX_REQUIRE_BWRAP=1``) fails instead.
``porter_reference_client.py`` is what that client runs: code written for
Porter's client, unchanged, each operation working or answered with the 400
that says why (object volumes, ``full`` snapshots).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from runtime_servers import RuntimeServer

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("porter_reference_client.py")


def test_porters_published_client_runs_every_operation(
    reference_python: Path, configured: RuntimeServer, tmp_path: Path
) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "PORTER_"))}
    ran = subprocess.run(
        [str(reference_python), "-I", str(SCRIPT), configured.url, configured.image, "team"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=environment,
    )
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}"
    checks = [line.split()[1] for line in ran.stdout.splitlines() if line.startswith("ok ")]
    assert checks == ["health", "sandboxes", "volumes", "snapshots", "metrics", "env_groups", "async"], ran.stdout
    assert "operations 25" in ran.stdout
