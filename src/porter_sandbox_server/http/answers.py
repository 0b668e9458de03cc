"""What the service answers, as the contract's JSON: each built with the generated models.

Building answers from ``porter_sandbox_api``'s models (the same code the SDK
parses them with) keeps the server from drifting from ``openapi.yaml``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from porter_sandbox_api.models.capabilities import Capabilities
from porter_sandbox_api.models.command_result import CommandResult
from porter_sandbox_api.models.command_result_output_encoding import CommandResultOutputEncoding
from porter_sandbox_api.models.count_point import CountPoint
from porter_sandbox_api.models.counts_response import CountsResponse
from porter_sandbox_api.models.create_response import CreateResponse
from porter_sandbox_api.models.exec_response import ExecResponse
from porter_sandbox_api.models.exec_stream_event import ExecStreamEvent
from porter_sandbox_api.models.exec_stream_event_type import ExecStreamEventType
from porter_sandbox_api.models.filter_values import FilterValues
from porter_sandbox_api.models.list_sandboxes_response import ListSandboxesResponse
from porter_sandbox_api.models.list_volumes_response import ListVolumesResponse
from porter_sandbox_api.models.log_entry import LogEntry
from porter_sandbox_api.models.log_stream_event import LogStreamEvent
from porter_sandbox_api.models.log_stream_event_type import LogStreamEventType
from porter_sandbox_api.models.logs_response import LogsResponse
from porter_sandbox_api.models.output_slice import OutputSlice
from porter_sandbox_api.models.pagination import Pagination
from porter_sandbox_api.models.process_info import ProcessInfo
from porter_sandbox_api.models.process_list import ProcessList
from porter_sandbox_api.models.process_output import ProcessOutput
from porter_sandbox_api.models.process_status import ProcessStatus
from porter_sandbox_api.models.status_response import StatusResponse
from porter_sandbox_api.models.string_map import StringMap
from porter_sandbox_api.models.volume import Volume

from ..core.processes import LiveProcess, OutputRing
from ..core.service import Counts, ExecResult, SandboxPage, VolumeState
from ..runtimes.output import CappedOutput
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
    """``exec_result``'s JSON, a piece at a time (see ``json_chunks``)."""
    async for piece in json_chunks(exec_result(result)):
        yield piece


async def json_chunks(body: dict[str, Any]) -> AsyncIterator[bytes]:
    """A flat JSON object, its long strings a piece at a time: megabytes of output never stall the API.

    One ``json.dumps`` of 16 MiB holds the interpreter for some 60 ms; pieces
    of ``CHUNK_CHARS`` characters take a millisecond each, and the loop runs
    other work between them.
    """
    opening = b"{"
    for key, value in body.items():
        yield opening + _dumps(key).encode() + b":"
        opening = b","
        if isinstance(value, str) and len(value) > CHUNK_CHARS:
            yield b'"'
            for start in range(0, len(value), CHUNK_CHARS):
                yield _dumps(value[start : start + CHUNK_CHARS])[1:-1].encode()
                await asyncio.sleep(0)
            yield b'"'
        else:
            yield _dumps(value).encode()
    yield b"}" if opening == b"," else b"{}"


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


# The extensions


def capabilities(runtime: str, extensions: list[str]) -> dict[str, Any]:
    """``Capabilities``."""
    return _json(Capabilities(runtime=runtime, extensions=extensions))


def _process(process: LiveProcess) -> ProcessInfo:
    info = ProcessInfo(
        id=process.exec_id,
        command=list(process.command),
        status=ProcessStatus.RUNNING if process.running else ProcessStatus.EXITED,
        background=process.background,
        terminal=process.terminal,
        started_at=timestamp(process.started_at),
        timed_out=process.timed_out,
        sandbox_ended=process.sandbox_ended,
        stdin_open=process.stdin_open,
    )
    if process.cwd is not None:
        info.cwd = process.cwd
    if process.finished_at is not None:
        info.finished_at = timestamp(process.finished_at)
    if process.exit_code is not None:
        info.exit_code = process.exit_code
    if process.signal is not None:
        info.signal = process.signal
    if process.stdout is not None and process.stderr is not None:
        info.stdout_bytes = process.stdout.end
        info.stderr_bytes = process.stderr.end
    return info


def process(live: LiveProcess) -> dict[str, Any]:
    """``ProcessInfo``."""
    return _json(_process(live))


def processes(lives: list[LiveProcess]) -> dict[str, Any]:
    """``ProcessList``."""
    return _json(ProcessList(processes=[_process(live) for live in lives]))


def _slice(ring: OutputRing, offset: int, limit: int) -> OutputSlice:
    begin, data = ring.read(offset, limit)
    return OutputSlice(
        offset=begin,
        data=base64.b64encode(data).decode(),
        next_offset=begin + len(data),
        dropped=max(begin - offset, 0),
    )


def process_output(live: LiveProcess, stdout_offset: int, stderr_offset: int, limit: int) -> dict[str, Any]:
    """``ProcessOutput`` of a background process, from the offsets."""
    assert live.stdout is not None and live.stderr is not None
    output = ProcessOutput(
        stdout=_slice(live.stdout, stdout_offset, limit),
        stderr=_slice(live.stderr, stderr_offset, limit),
        status=ProcessStatus.RUNNING if live.running else ProcessStatus.EXITED,
    )
    if live.exit_code is not None:
        output.exit_code = live.exit_code
    return _json(output)


def command_result(live: LiveProcess, out: CappedOutput, err: CappedOutput, encoding: str) -> dict[str, Any]:
    """``CommandResult``: the output as text (with a note where cut) or as base64 of the bytes kept."""
    if encoding == "base64":
        stdout, stderr = base64.b64encode(out.kept()).decode(), base64.b64encode(err.kept()).decode()
    else:
        stdout, stderr = out.text(), err.text()
    return _json(
        CommandResult(
            stdout=stdout,
            stderr=stderr,
            exit_code=live.exit_code if live.exit_code is not None else -1,
            exec_id=live.exec_id,
            timed_out=live.timed_out,
            stdout_truncated=out.truncated,
            stderr_truncated=err.truncated,
            output_encoding=CommandResultOutputEncoding(encoding),
        )
    )


def _line(model: Any) -> bytes:
    return _dumps(model.to_dict()).encode() + b"\n"


def exec_started(exec_id: str) -> bytes:
    """The ``start`` line of a streamed exec."""
    return _line(ExecStreamEvent(type_=ExecStreamEventType.START, exec_id=exec_id))


def exec_output(stream: str, data: bytes) -> bytes:
    """A ``stdout`` or ``stderr`` line of a streamed exec: the bytes, base64."""
    kind = ExecStreamEventType.STDOUT if stream == "stdout" else ExecStreamEventType.STDERR
    return _line(ExecStreamEvent(type_=kind, data=base64.b64encode(data).decode()))


def exec_ended(live: LiveProcess) -> bytes:
    """The last line of a streamed exec: ``exit``, or ``error`` when its sandbox ended under it."""
    if live.exit_code is None:
        why = "the sandbox ended while the command ran" if live.sandbox_ended else "the command's end is unknown"
        return _line(ExecStreamEvent(type_=ExecStreamEventType.ERROR, error=why))
    return _line(ExecStreamEvent(type_=ExecStreamEventType.EXIT, exit_code=live.exit_code, timed_out=live.timed_out))


def log_line(row: tuple[float, str, str, str]) -> bytes:
    """A ``line`` of a followed log."""
    ts, line, level, exec_id = row
    return _line(
        LogStreamEvent(type_=LogStreamEventType.LINE, timestamp=timestamp(ts), line=line, level=level, exec_id=exec_id)
    )


def log_end(record: SandboxRecord) -> bytes:
    """The ``end`` of a followed log: the phase the sandbox ended in."""
    event = LogStreamEvent(type_=LogStreamEventType.END, phase=record.phase)
    if record.exit_code is not None:
        event.exit_code = record.exit_code
    return _line(event)
