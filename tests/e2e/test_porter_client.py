"""Porter's own published client (0.1.68) runs every one of its operations against our server, on each runtime.

The client lives in a venv of its own, built once from PyPI (``pip install
porter-sandbox==0.1.68``) under ``.venv/porter-reference/`` and kept there.
Without PyPI the test skips, saying so; CI (``PORTER_SANDBOX_REQUIRE_BWRAP=1``)
fails instead. ``porter_reference_client.py`` is what that client runs:
code written for Porter's client, unchanged, each operation working or
answered with the 400 that says why (object volumes, ``full`` snapshots).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_servers import RuntimeServer, start_server

pytestmark = pytest.mark.slow

REFERENCE_VERSION = "0.1.68"
ROOT = Path(__file__).resolve().parents[2]
REFERENCE_VENV = ROOT / ".venv" / "porter-reference" / f"porter-sandbox-{REFERENCE_VERSION}"
SCRIPT = Path(__file__).with_name("porter_reference_client.py")
RUNTIMES = [
    pytest.param("process", marks=pytest.mark.bwrap),
    pytest.param("docker", marks=pytest.mark.docker),
]


def _cannot(why: str) -> None:
    if os.environ.get("PORTER_SANDBOX_REQUIRE_BWRAP", "") not in ("", "0", "false"):
        pytest.fail(f"{why}, and CI (PORTER_SANDBOX_REQUIRE_BWRAP=1) runs Porter's published client", pytrace=False)
    pytest.skip(why)


def _installed(python: Path) -> bool:
    probe = [str(python), "-I", "-c", "import importlib.metadata as m; print(m.version('porter-sandbox'))"]
    try:
        found = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return found.returncode == 0 and found.stdout.strip() == REFERENCE_VERSION


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """The interpreter of a venv holding Porter's published client, built on first use."""
    python = REFERENCE_VENV / "bin" / "python"
    if _installed(python):
        return python
    REFERENCE_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(REFERENCE_VENV.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others find it built
        if _installed(python):
            return python
        staging = REFERENCE_VENV.with_name(f"{REFERENCE_VENV.name}.building")
        shutil.rmtree(staging, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True, capture_output=True)
        install = [
            str(staging / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"porter-sandbox=={REFERENCE_VERSION}",
        ]
        try:
            installed = subprocess.run(install, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            installed = None
        if installed is None or installed.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            said = installed.stderr.strip().splitlines()[-1:] if installed is not None else ["timed out"]
            _cannot(f"cannot install porter-sandbox=={REFERENCE_VERSION} from PyPI ({' '.join(said)})")
        shutil.rmtree(REFERENCE_VENV, ignore_errors=True)
        os.rename(staging, REFERENCE_VENV)
    assert _installed(python), f"{REFERENCE_VENV} does not hold porter-sandbox {REFERENCE_VERSION}"
    return python


@pytest.fixture(scope="module", params=RUNTIMES)
def configured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeServer]:
    """A server with the environment group ``team`` that samples metrics every 0.2 s."""
    group = tmp_path_factory.mktemp("groups") / "team.env"
    group.write_text("FROM_GROUP=group-value\nEXPLICIT=from-group\n")
    args = ["--env-group", f"team={group}", "--metrics-interval", "0.2"]
    server = start_server(request.param, extra_args=args)
    try:
        yield server
    finally:
        server.close()


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
