"""HTTP routes for the volume files API (listing, ranged reads, streamed writes, moves)."""

from __future__ import annotations

from starlette.routing import Route

#: Routes the app mounts; filled in as the handlers land.
routes: list[Route] = []
