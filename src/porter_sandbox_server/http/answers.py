"""What the service answers, as the contract's JSON: each built with the generated models.

Building answers from ``porter_sandbox_api``'s models (the same code the SDK
parses them with) keeps the server from drifting from ``openapi.yaml``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from porter_sandbox_api.models.count_point import CountPoint
from porter_sandbox_api.models.counts_response import CountsResponse
from porter_sandbox_api.models.create_response import CreateResponse
from porter_sandbox_api.models.exec_response import ExecResponse
from porter_sandbox_api.models.filter_values import FilterValues
from porter_sandbox_api.models.list_sandboxes_response import ListSandboxesResponse
from porter_sandbox_api.models.list_volumes_response import ListVolumesResponse
from porter_sandbox_api.models.log_entry import LogEntry
from porter_sandbox_api.models.logs_response import LogsResponse
from porter_sandbox_api.models.pagination import Pagination
from porter_sandbox_api.models.status_response import StatusResponse
from porter_sandbox_api.models.string_map import StringMap
from porter_sandbox_api.models.volume import Volume

from ..core.service import Counts, ExecResult, SandboxPage, VolumeState
from ..store import LogPage, SandboxRecord

#: A streamed answer's pieces: characters of output, lines of a log.
CHUNK_CHARS = 256 * 1024
CHUNK_ROWS = 500


def timestamp(seconds: float) -> datetime:
    """Seconds since the epoch as an aware UTC time."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _json(model: Any) -> dict[str, Any]:
    body: dict[str, Any] = model.to_dict()
    return body


def created(record: SandboxRecord) -> dict[str, Any]:
    """``CreateResponse``."""
    response = CreateResponse(id=record.id, name=record.name)
    if record.volume_mounts:
        response.volume_mounts = StringMap.from_dict(record.volume_mounts)
    return _json(response)


def _status(record: SandboxRecord) -> StatusResponse:
    status = StatusResponse(
        id=record.id,
        name=record.name,
        image=record.image,
        phase=record.phase,
        created_at=timestamp(record.created_at),
        host=record.host,
        tags=StringMap.from_dict(record.tags),
        volume_mounts=StringMap.from_dict(record.volume_mounts),
    )
    if record.exit_code is not None:
        status.exit_code = record.exit_code
    if record.started_at is not None:
        status.started_at = timestamp(record.started_at)
    if record.finished_at is not None:
        status.finished_at = timestamp(record.finished_at)
    if record.termination_reason is not None:
        status.termination_reason = record.termination_reason
    if record.internal_address is not None:
        status.internal_address = record.internal_address
    return status


def status(record: SandboxRecord) -> dict[str, Any]:
    """``StatusResponse``."""
    return _json(_status(record))


def sandbox_page(page: SandboxPage) -> dict[str, Any]:
    """``ListSandboxesResponse``."""
    response = ListSandboxesResponse(
        sandboxes=[_status(record) for record in page.records],
        pagination=Pagination(current_page=page.page, total_pages=page.total_pages, has_next_page=page.has_next_page),
    )
    if page.filter_values is not None:
        values = page.filter_values
        response.filter_values = FilterValues(tags=values.tags, images=values.images, phases=values.phases)
    return _json(response)


def counts(counted: Counts) -> dict[str, Any]:
    """``CountsResponse``."""
    points = [CountPoint(timestamp=timestamp(start), count=count) for start, count in counted.points]
    return _json(CountsResponse(points=points, granularity_ms=counted.granularity_ms))


def exec_result(result: ExecResult) -> dict[str, Any]:
    """``ExecResponse``; ``stdout_truncated`` / ``stderr_truncated`` say whether a stream was cut at the cap."""
    output = result.output
    return _json(
        ExecResponse(
            stdout=output.stdout,
            stderr=output.stderr,
            exit_code=output.exit_code,
            exec_id=result.exec_id,
            stdout_truncated=output.stdout_truncated,
            stderr_truncated=output.stderr_truncated,
        )
    )


async def exec_result_chunks(result: ExecResult) -> AsyncIterator[bytes]:
    """``exec_result``'s JSON, a piece at a time: megabytes of output never stall the API or sit in memory twice.

    One ``json.dumps`` of 16 MiB holds the interpreter for some 60 ms; pieces
    of ``CHUNK_CHARS`` characters take a millisecond each, and the loop runs
    other work between them.
    """
    output = result.output
    shell = exec_result(ExecResult(result.exec_id, replace(output, stdout="", stderr="")))
    del shell["stdout"], shell["stderr"]
    rest = _dumps(shell)[1:-1]
    for key, text in (("stdout", output.stdout), ("stderr", output.stderr)):
        yield (("{" if key == "stdout" else ",") + f'"{key}":"').encode()
        for start in range(0, len(text), CHUNK_CHARS):
            yield _dumps(text[start : start + CHUNK_CHARS])[1:-1].encode()
            await asyncio.sleep(0)
        yield b'"'
    yield (("," + rest) if rest else "").encode() + b"}"


def logs(sandbox_id: str, page: LogPage) -> dict[str, Any]:
    """``LogsResponse``; ``truncated`` says whether matching lines were left out of this page."""
    return _json(LogsResponse(sandbox_id=sandbox_id, logs=_entries(page.rows), truncated=page.truncated))


async def logs_chunks(sandbox_id: str, page: LogPage) -> AsyncIterator[bytes]:
    """``logs``'s JSON, ``CHUNK_ROWS`` lines at a time (see ``exec_result_chunks``)."""
    shell = logs(sandbox_id, LogPage(rows=[], truncated=page.truncated))
    del shell["logs"]
    yield _dumps(shell)[:-1].encode() + b',"logs":['
    for start in range(0, len(page.rows), CHUNK_ROWS):
        entries = [entry.to_dict() for entry in _entries(page.rows[start : start + CHUNK_ROWS])]
        yield (b"," if start else b"") + _dumps(entries)[1:-1].encode()
        await asyncio.sleep(0)
    yield b"]}"


def _entries(rows: list[tuple[float, str, str, str]]) -> list[LogEntry]:
    return [
        LogEntry(timestamp=timestamp(ts), line=line, level=level, exec_id=exec_id) for ts, line, level, exec_id in rows
    ]


def _dumps(value: Any) -> str:
    # As Starlette's JSONResponse writes it.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _volume(state: VolumeState) -> Volume:
    record = state.record
    return Volume(
        id=record.id,
        name=record.name,
        type_="disk",
        path=record.id,
        phase=state.phase,
        attached_to=state.attached_to,
        created_at=timestamp(record.created_at),
    )


def volume(state: VolumeState) -> dict[str, Any]:
    """``Volume``."""
    return _json(_volume(state))


def volumes(states: list[VolumeState]) -> dict[str, Any]:
    """``ListVolumesResponse``."""
    return _json(ListVolumesResponse(volumes=[_volume(state) for state in states]))
