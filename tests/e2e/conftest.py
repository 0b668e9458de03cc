"""End-to-end tests: a failing test shows the tail of its local server's log beside the failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("server")
    if report.failed and server is not None:
        process = getattr(server, "process", None)
        state = "running" if process is not None and process.poll() is None else "NOT running"
        report.sections.append((f"local server log (server {state})", server.log()[-6000:]))
