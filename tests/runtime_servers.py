"""Local servers on a given runtime, for tests: ``start_server`` and the ``RuntimeServer`` it answers.

from runtime_servers import RuntimeServer, start_server
"""

from __future__ import annotations

from typing import Any

from runtimes import DOCKER_TEST_IMAGE, bwrap_available, require_bwrap, require_docker, require_kubernetes

from porter_sandbox.testing import LocalServer


class RuntimeServer(LocalServer):
    """A local server plus what a test needs to know to run sandboxes on its runtime."""

    image: str = "python:3.12-slim"
    #: How long a sandbox queued behind many others may take to start: a pod takes a second or
    #: more of a loaded node's kubelet, where a process or a container takes milliseconds.
    start_timeout: float = 60.0
    #: Whether the main process's stderr is logged apart from its stdout (not in a pod's merged log).
    separate_main_streams: bool = True
    #: The clients' timeout, where the SDK's default (30 s) is too short for an exec that waits for a slow start.
    client_timeout: float | None = None

    def client_options(self) -> dict[str, Any]:
        """What the ``porter`` fixtures pass to their clients."""
        return {} if self.client_timeout is None else {"timeout": self.client_timeout}


def start_server(runtime: str, **options: Any) -> RuntimeServer:
    """Start a local server on ``runtime``, skipping (or failing) when this machine lacks it."""
    if runtime == "docker":
        require_docker()
        extra_args = ["--docker-network", "none", *options.pop("extra_args", ())]
        server = RuntimeServer(runtime="docker", extra_args=extra_args, **options)
        server.image = DOCKER_TEST_IMAGE
    elif runtime == "kubernetes":
        require_kubernetes()
        from kube_support import SERVER_ARGS, ensure_namespace

        ensure_namespace()
        extra_args = [*SERVER_ARGS, *options.pop("extra_args", ())]
        server = RuntimeServer(runtime="kubernetes", extra_args=extra_args, **options)
        server.image = DOCKER_TEST_IMAGE
        server.start_timeout = 300.0
        server.client_timeout = 120.0
        server.separate_main_streams = False
    else:
        if options.get("isolation") in (None, "bwrap"):
            if not bwrap_available():
                require_bwrap()  # skips, or fails when CI demands bubblewrap
            options["isolation"] = "bwrap"
        server = RuntimeServer(runtime="process", **options)
    return server.start()  # type: ignore[return-value]
