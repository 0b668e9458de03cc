"""Porter's own published client (porter-sandbox 0.1.68), in a venv of its own, for the tests that compare with it.

    from porter_reference import reference_python

    python = reference_python()   # the venv's interpreter; run it with -I so our porter_sandbox cannot shadow it

The venv is built once from PyPI (``pip install porter-sandbox==0.1.68``) under
``.venv/porter-reference/`` and kept there; concurrent test processes wait for
the one that builds it. Without PyPI a test skips, saying so; CI
(``PORTER_SANDBOX_REQUIRE_BWRAP=1``) fails instead. ``scripts/bench.py`` builds
and uses the same venv through :func:`build_reference_venv`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["REFERENCE_VERSION", "ReferenceUnavailable", "build_reference_venv", "reference_python"]

REFERENCE_VERSION = "0.1.68"
ROOT = Path(__file__).resolve().parents[1]
REFERENCE_VENV = ROOT / ".venv" / "porter-reference" / f"porter-sandbox-{REFERENCE_VERSION}"


class ReferenceUnavailable(RuntimeError):
    """Porter's published client cannot be installed here (no PyPI); the message says why."""


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


def reference_python() -> Path:
    """The interpreter of a venv holding Porter's published client, built on first use (skips without PyPI)."""
    try:
        return build_reference_venv()
    except ReferenceUnavailable as exc:
        _cannot(str(exc))
        raise


def build_reference_venv() -> Path:
    """The interpreter of the venv holding Porter's published client, built on first use.

    Raises :class:`ReferenceUnavailable` when it cannot be installed.
    """
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
            raise ReferenceUnavailable(
                f"cannot install porter-sandbox=={REFERENCE_VERSION} from PyPI ({' '.join(said)})"
            )
        shutil.rmtree(REFERENCE_VENV, ignore_errors=True)
        os.rename(staging, REFERENCE_VENV)
    assert _installed(python), f"{REFERENCE_VENV} does not hold porter-sandbox {REFERENCE_VERSION}"
    return python
