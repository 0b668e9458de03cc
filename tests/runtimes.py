"""What the tests need from this machine: bubblewrap, a Docker engine.

Without them a test skips, unless CI demands them with
``PORTER_SANDBOX_REQUIRE_BWRAP=1`` / ``PORTER_SANDBOX_REQUIRE_DOCKER=1``, and
then it fails instead.

    from runtimes import require_bwrap, require_docker, docker_available
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import pytest

#: The image the Docker tests run: a busybox rootfs that `scripts/ci-docker.sh` imports.
DOCKER_TEST_IMAGE = "porter-test/busybox:latest"


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0", "false")


def _missing(what: str, variable: str) -> None:
    if _required(variable):
        pytest.fail(f"{what}, and {variable}=1 demands it", pytrace=False)
    pytest.skip(what)


def bwrap_available() -> bool:
    """Whether bubblewrap is installed and can make namespaces here."""
    return _bwrap_works()


@functools.cache
def _bwrap_works() -> bool:
    path = shutil.which("bwrap")
    if path is None:
        return False
    probe = [path, "--ro-bind", "/", "/", "--unshare-pid", "--dev", "/dev", "--proc", "/proc", "true"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def require_bwrap() -> None:
    """Skip (or fail, with PORTER_SANDBOX_REQUIRE_BWRAP=1) when bubblewrap is missing."""
    if not bwrap_available():
        _missing("bubblewrap is not installed or cannot create namespaces here", "PORTER_SANDBOX_REQUIRE_BWRAP")


@functools.cache
def docker_available() -> bool:
    """Whether a Docker engine answers at DOCKER_HOST (or the default socket) and has the test image."""
    try:
        import docker  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=5)
        try:
            client.ping()
            client.images.get(DOCKER_TEST_IMAGE)
        finally:
            client.close()
    except Exception:
        return False
    return True


def require_docker() -> None:
    """Skip (or fail, with PORTER_SANDBOX_REQUIRE_DOCKER=1) without a Docker engine and its test image."""
    if not docker_available():
        _missing(
            f"no Docker engine with the image {DOCKER_TEST_IMAGE} at DOCKER_HOST (start one with scripts/ci-docker.sh)",
            "PORTER_SANDBOX_REQUIRE_DOCKER",
        )
