"""End-to-end tests: a failing test shows the tail of its local server's log beside the failure.

``configured``: a server (per module, on each runtime) with the environment
group ``team`` (``FROM_GROUP=group-value``, ``EXPLICIT=from-group``) that
samples metrics every 0.2 s, for the tests of snapshots, metrics and groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from runtime_servers import RuntimeServer, start_server

RUNTIMES = [
    pytest.param("process", marks=pytest.mark.bwrap),
    pytest.param("docker", marks=pytest.mark.docker),
]


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("server") or funcargs.get("configured")
    if report.failed and server is not None:
        process = getattr(server, "process", None)
        state = "running" if process is not None and process.poll() is None else "NOT running"
        report.sections.append((f"local server log (server {state})", server.log()[-6000:]))
