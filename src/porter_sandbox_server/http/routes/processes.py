"""``/x/v1/sandbox/{id}/...`` (extensions): commands with options, streamed execs, background processes.

A command run whole or streamed belongs to its request: a client that goes
away kills it (its whole process group). A background process belongs to
the sandbox: it runs on until it exits, is killed, or the sandbox ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ... import errors
from ...core.processes import LiveProcess
from ...core.requests import ProcessRequest
from ...core.service import SandboxService
from ...runtimes.output import CappedOutput
from .. import answers
from ..operations import json_answer, route
from ..streams import KEEPALIVE, KEEPALIVE_SECONDS, OwnedStream, unless_disconnected
from ..validation import ApiSpec, read_limited

#: The most one write to a process's stdin may carry (send more in several).
MAX_STDIN_WRITE = 4 * 1024 * 1024
#: What ``.../output`` answers of each stream at most.
MAX_OUTPUT_READ = 1024 * 1024
#: How long ``.../wait`` waits when not told.
DEFAULT_WAIT_SECONDS = 30.0


def routes(service: SandboxService, spec: ApiSpec) -> list[Route]:
    """The command and process routes."""
    exec_op = spec.operation("POST", "/x/v1/sandbox/{id}/exec")
    stream_op = spec.operation("POST", "/x/v1/sandbox/{id}/exec/stream")
    start_op = spec.operation("POST", "/x/v1/sandbox/{id}/processes")
    kill_op = spec.operation("POST", "/x/v1/sandbox/{id}/processes/{process_id}/kill")

    async def exec_with_options(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        service.get_record(path["id"])  # 404 for unknown ids before reading the body
        body = await exec_op.json_body(request)
        live = await service.start_process(path["id"], ProcessRequest.from_json(body), background=False)
        limit = service.runtime.output_limits.exec_answer_bytes
        out, err = CappedOutput("stdout", limit), CappedOutput("stderr", limit)

        async def collect() -> None:
            while (piece := await live.next_piece()) is not None:
                (out if piece[0] == "stdout" else err).add(piece[1])

        try:
            finished, _ = await unless_disconnected(request, collect())
        finally:
            live.abandon()  # a no-op once it ended
        if not finished:
            return Response(status_code=204)  # nobody reads it: the client left, and the command was killed
        if live.exit_code is None:
            raise errors.Conflict(f"sandbox {path['id']} ended while the command ran; create a new one")
        result = answers.command_result(live, out, err, body.get("output_encoding", "text"))
        if out.written + err.written <= answers.CHUNK_CHARS:
            return json_answer(result)
        return StreamingResponse(answers.json_chunks(result), media_type="application/json")

    async def exec_stream(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        service.get_record(path["id"])
        body = await stream_op.json_body(request)
        live = await service.start_process(path["id"], ProcessRequest.from_json(body), background=False)
        return OwnedStream(_exec_events(live), on_close=live.abandon)

    async def start_process(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        service.get_record(path["id"])
        body = await start_op.json_body(request)
        live = await service.start_process(path["id"], ProcessRequest.from_json(body), background=True)
        return json_answer(answers.process(live), 201)

    async def list_processes(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(answers.processes(service.list_processes(path["id"])))

    async def get_process(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        return json_answer(answers.process(service.process(path["id"], path["process_id"])))

    async def delete_process(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        service.forget_process(path["id"], path["process_id"])
        return Response(status_code=204)

    async def wait_process(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        live = service.process(path["id"], path["process_id"])
        await live.wait(query.get("timeout_seconds", DEFAULT_WAIT_SECONDS))
        return json_answer(answers.process(live))

    async def kill_process(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        live = service.process(path["id"], path["process_id"])
        body = await kill_op.json_body(request, optional=True)
        await live.kill(body.get("signal", "SIGKILL"))
        return json_answer(answers.process(live))

    async def write_stdin(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        live = service.process(path["id"], path["process_id"])
        data = await read_limited(request, MAX_STDIN_WRITE)
        await live.write_stdin(data, close=query.get("close", False))
        return Response(status_code=204)

    async def read_output(request: Request, query: dict[str, Any], path: dict[str, Any]) -> Response:
        live = _background(service.process(path["id"], path["process_id"]))
        stdout_offset, stderr_offset = query.get("stdout_offset", 0), query.get("stderr_offset", 0)
        wait = query.get("wait_seconds", 0)
        if wait:
            await live.wait_for_output(stdout_offset, stderr_offset, wait)
        limit = query.get("max_bytes", MAX_OUTPUT_READ)
        return json_answer(answers.process_output(live, stdout_offset, stderr_offset, limit))

    base = "/x/v1/sandbox/{id}"
    return [
        route(spec, f"{base}/exec", {"POST": exec_with_options}),
        route(spec, f"{base}/exec/stream", {"POST": exec_stream}),
        route(spec, f"{base}/processes", {"GET": list_processes, "POST": start_process}),
        route(spec, f"{base}/processes/{{process_id}}", {"GET": get_process, "DELETE": delete_process}),
        route(spec, f"{base}/processes/{{process_id}}/wait", {"GET": wait_process}),
        route(spec, f"{base}/processes/{{process_id}}/kill", {"POST": kill_process}),
        route(spec, f"{base}/processes/{{process_id}}/stdin", {"POST": write_stdin}),
        route(spec, f"{base}/processes/{{process_id}}/output", {"GET": read_output}),
    ]


def _background(live: LiveProcess) -> LiveProcess:
    if live.stdout is None:
        raise errors.Conflict(
            f"process {live.exec_id} streams its output to the client that started it (a streamed exec or a "
            "terminal); only background processes keep theirs for reading"
        )
    return live


async def _exec_events(live: LiveProcess) -> AsyncIterator[bytes]:
    """A streamed exec's lines: ``start``, its output as it comes (with keep-alives), its end."""
    yield answers.exec_started(live.exec_id)
    while True:
        try:
            piece = await asyncio.wait_for(live.next_piece(), KEEPALIVE_SECONDS)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            yield KEEPALIVE
            continue
        if piece is None:
            break
        yield answers.exec_output(*piece)
    yield answers.exec_ended(live)
