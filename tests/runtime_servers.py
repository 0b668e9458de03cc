"""Local servers on a given runtime, for tests: ``start_server`` and the ``RuntimeServer`` it answers.

from runtime_servers import RuntimeServer, start_server
"""

from __future__ import annotations

from typing import Any

from runtimes import DOCKER_TEST_IMAGE, bwrap_available, require_bwrap, require_docker

from porter_sandbox.testing import LocalServer


class RuntimeServer(LocalServer):
    """A local server plus what a test needs to know to run sandboxes on its runtime."""

    image: str = "python:3.12-slim"


def start_server(runtime: str, **options: Any) -> RuntimeServer:
    """Start a local server on ``runtime``, skipping (or failing) when this machine lacks it."""
    if runtime == "docker":
        require_docker()
        extra_args = ["--docker-network", "none", *options.pop("extra_args", ())]
        server = RuntimeServer(runtime="docker", extra_args=extra_args, **options)
        server.image = DOCKER_TEST_IMAGE
    else:
        if options.get("isolation") in (None, "bwrap"):
            if not bwrap_available():
                require_bwrap()  # skips, or fails when CI demands bubblewrap
            options["isolation"] = "bwrap"
        server = RuntimeServer(runtime="process", **options)
    return server.start()  # type: ignore[return-value]
