"""Scripted answers for the SDK's fault tests: only what a real server cannot be made to do on demand.

``Script`` is an httpx ``MockTransport`` handler that answers its steps in
order (an ``httpx.Response`` to answer, an exception to raise) and records
every request it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from porter_sandbox import AsyncPorter, Porter

BASE_URL = "http://sandbox.test"

STATUS = {
    "id": "sb-1",
    "name": "one",
    "image": "python:3.12-slim",
    "phase": "running",
    "created_at": "2026-01-01T00:00:00Z",
    "host": "",
    "tags": {"workflow": "demo"},
}

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers requests with its steps in order; the last step repeats. Records each request."""

    def __init__(self, *steps: Step) -> None:
        assert steps, "a script needs at least one step"
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            # A fresh copy each time: httpx binds a response to the client that received it.
            return httpx.Response(step.status_code, headers=step.headers, content=step.content)
        return step(request)

    @property
    def calls(self) -> int:
        """How many requests reached the transport."""
        return len(self.requests)


def refuse_requests(request: httpx.Request) -> httpx.Response:
    """A handler for tests that must make no request at all."""
    raise AssertionError(f"no request was expected, but got {request.method} {request.url}")


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """An answer with a JSON body (or none)."""
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def porter_with(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Porter:
    """A ``Porter`` whose requests go to ``handler``."""
    return Porter(base_url=BASE_URL, transport=httpx.MockTransport(handler), **options)


def async_porter_with(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> AsyncPorter:
    """An ``AsyncPorter`` whose requests go to ``handler``."""
    return AsyncPorter(base_url=BASE_URL, transport=httpx.MockTransport(handler), **options)
