"""``GET /x/v1/sandbox/{id}/logs/follow`` (an extension): a sandbox's log lines as they are written, until it ends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.service import SandboxService
from .. import answers
from ..operations import route
from ..streams import KEEPALIVE, KEEPALIVE_SECONDS, OwnedStream
from ..validation import ApiSpec


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The log follow route."""

    async def follow(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        sandbox_id = path["id"]
        batches = service.follow_logs(sandbox_id, query.get("since"), query.get("limit"))
        return OwnedStream(_events(service, sandbox_id, batches), on_close=lambda: None)

    return [route(spec, "/x/v1/sandbox/{id}/logs/follow", {"GET": follow})]


async def _events(
    service: SandboxService, sandbox_id: str, batches: AsyncIterator[list[tuple[float, str, str, str]]]
) -> AsyncIterator[bytes]:
    """Each line as it comes (a keep-alive after a silence), then the end with the sandbox's phase."""
    quiet_since = time.monotonic()
    async for rows in batches:
        if rows:
            quiet_since = time.monotonic()
        for row in rows:
            yield answers.log_line(row)
        if not rows and time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
            quiet_since = time.monotonic()
            yield KEEPALIVE
        await asyncio.sleep(0)  # a long backlog never holds the loop
    yield answers.log_end(service.get_record(sandbox_id))
