"""``/v1/volume/{id}/files...``: nested listings, ranged reads, streamed atomic writes, moves.

Thin on purpose: each handler parses the request, calls the service (which
reaches the volume's backend) and builds its answer with the generated
models. Failures are ``errors.ApiError``; the app turns them into
``{"error": ...}`` answers. File bodies stream both ways in chunks of at most
``CHUNK_SIZE`` bytes, so the server never holds a whole file in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

from porter_sandbox_api.models import FileType, MoveFileRequest, VolumeFileEntry, VolumeFilesResponse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ... import errors
from ...core.service import SandboxService
from ...volumes.base import FileEntry, FileReader
from ..ranges import parse_range
from ..validation import MAX_JSON_BODY, read_limited

__all__ = ["CHUNK_SIZE", "routes"]

logger = logging.getLogger("porter_sandbox_server")

#: Bytes read from disk per chunk of a download, and gathered per disk write of an upload.
CHUNK_SIZE = 1024 * 1024


def _service(request: Request) -> SandboxService:
    service: SandboxService = request.app.state.service
    return service


def _required_path(request: Request) -> str:
    path = request.query_params.get("path")
    if path is None:
        raise errors.BadRequest("the query parameter 'path' is required: name the file, e.g. ?path=/data/report.csv")
    return path


def _entry_model(entry: FileEntry) -> VolumeFileEntry:
    if entry.is_directory:
        return VolumeFileEntry(
            name=entry.name,
            type_=FileType.DIRECTORY,
            size_bytes=0,
            modified_at=entry.modified_at,
            truncated=entry.truncated,
            entries=[_entry_model(child) for child in entry.entries],
        )
    return VolumeFileEntry(
        name=entry.name, type_=FileType.FILE, size_bytes=entry.size_bytes, modified_at=entry.modified_at
    )


async def list_volume_files(request: Request) -> Response:
    """``GET /v1/volume/{id}/files``: the nested tree under ``path`` (the root by default), optionally searched."""
    path = request.query_params.get("path", "")
    search = request.query_params.get("search") or None
    listing = await _service(request).list_volume_files(request.path_params["id"], path, search)
    answer = VolumeFilesResponse(
        path=listing.path, entries=[_entry_model(entry) for entry in listing.entries], truncated=listing.truncated
    )
    return JSONResponse(answer.to_dict())


async def _file_chunks(opened: FileReader, first: int, length: int) -> AsyncIterator[bytes]:
    """The bytes ``first .. first + length`` of an open file, a chunk at a time."""
    try:
        position, remaining = first, length
        while remaining > 0:
            chunk = await opened.read(position, min(CHUNK_SIZE, remaining))
            if not chunk:
                return  # the file shrank meanwhile: the short body tells the client (Content-Length)
            yield chunk
            position += len(chunk)
            remaining -= len(chunk)
    finally:
        await opened.close()


async def read_volume_file(request: Request) -> Response:
    """``GET /v1/volume/{id}/files/content``: the file's bytes; a ``Range`` header answers 206 with that part."""
    path = _required_path(request)
    opened = await _service(request).open_volume_file(request.path_params["id"], path)
    try:
        byte_range = parse_range(request.headers.get("range"), opened.size)
    except BaseException:
        await opened.close()
        raise
    headers = {
        "Last-Modified": formatdate(opened.modified_at, usegmt=True),
        "Accept-Ranges": "bytes",
    }
    if byte_range is None:
        first, length, status = 0, opened.size, 200
    else:
        first, last = byte_range
        length, status = last - first + 1, 206
        headers["Content-Range"] = f"bytes {first}-{last}/{opened.size}"
    headers["Content-Length"] = str(length)
    return StreamingResponse(
        _file_chunks(opened, first, length),
        status_code=status,
        headers=headers,
        media_type="application/octet-stream",
    )


async def write_volume_file(request: Request) -> Response:
    """``PUT /v1/volume/{id}/files/content``: replace the file with the body, atomically, creating parents."""
    path = _required_path(request)
    pending = await _service(request).begin_volume_write(request.path_params["id"], path)
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= CHUNK_SIZE:
                await pending.write(bytes(buffer))
                buffer.clear()
        if buffer:
            await pending.write(bytes(buffer))
        await pending.commit()
    except ClientDisconnect:
        logger.warning(
            "the upload of %s to volume %s was cut off; the file keeps its previous content",
            pending.path,
            request.path_params["id"],
        )
        raise errors.BadRequest(
            f"the upload of {pending.path} was cut off before the whole body arrived; "
            "the file keeps its previous content: send it again"
        ) from None
    finally:
        # Runs on every failure, even a cancelled request: no temporary file may stay behind.
        await pending.abort()
    return Response(status_code=204)


async def move_volume_file(request: Request) -> Response:
    """``POST /v1/volume/{id}/files/move``: move ``from`` to ``to``; never overwrites, never creates parents."""
    service = _service(request)
    service.get_volume_record(request.path_params["id"])  # 404 for an unknown volume before reading the body
    raw = await read_limited(request, MAX_JSON_BODY)  # 413 past the JSON body limit
    try:
        body: Any = json.loads(raw)
    except (ValueError, RecursionError):
        raise errors.BadRequest('the body is not valid JSON; send {"from": "/a", "to": "/b"}') from None
    if not isinstance(body, dict) or not isinstance(body.get("from"), str) or not isinstance(body.get("to"), str):
        raise errors.BadRequest('the body must be a JSON object with string fields "from" and "to"')
    move = MoveFileRequest.from_dict(body)
    await service.move_volume_file(request.path_params["id"], move.from_, move.to)
    return Response(status_code=204)


def routes() -> list[Route]:
    """The routes the app mounts, named by their ``operationId`` in openapi.yaml."""
    return [
        Route("/v1/volume/{id}/files", list_volume_files, methods=["GET"], name="list_volume_files"),
        Route("/v1/volume/{id}/files/content", read_volume_file, methods=["GET"], name="read_volume_file"),
        Route("/v1/volume/{id}/files/content", write_volume_file, methods=["PUT"], name="write_volume_file"),
        Route("/v1/volume/{id}/files/move", move_volume_file, methods=["POST"], name="move_volume_file"),
    ]
