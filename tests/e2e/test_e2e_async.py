"""The same reference examples with ``AsyncPorter``, and a fan-out of 50 concurrent creates and execs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from porter_sandbox import (
    AsyncPorter,
    AsyncSandbox,
    CommandError,
    ConflictError,
    InvalidNameError,
    NotFoundError,
    SandboxEndedError,
    SandboxTimeoutError,
)


def sh(script: str) -> list[str]:
    """A shell command line, as an exec or a sandbox's command."""
    return ["sh", "-c", script]


async def test_the_reference_example_async(async_porter: AsyncPorter, server: Any, unique_name: str) -> None:
    sandbox = await async_porter.sandboxes.create(image=server.image, name=unique_name, tags={"workflow": unique_name})
    assert isinstance(sandbox, AsyncSandbox) and sandbox.phase == "queued"

    sandbox = await async_porter.sandboxes.get(unique_name)
    page = await async_porter.sandboxes.list(tags={"workflow": unique_name}, page=1)
    assert [s.id for s in page] == [sandbox.id]
    assert sandbox.tags == {"workflow": unique_name}

    status = await sandbox.refresh()
    assert status.phase in ("queued", "creating", "running")
    result = await sandbox.exec(sh("echo hi"))
    assert (result.stdout, result.stderr, result.exit_code) == ("hi\n", "", 0)
    logs = await sandbox.logs(since=None, limit=100)
    assert "hi" in [line.line for line in logs]
    await sandbox.terminate()
    assert sandbox.phase == "terminated"
    assert repr(sandbox) == f"<AsyncSandbox id={sandbox.id!r} name={unique_name!r} phase='terminated'>"


async def test_async_errors_and_checks(async_porter: AsyncPorter, server: Any, unique_name: str) -> None:
    with pytest.raises(InvalidNameError):
        await async_porter.sandboxes.create(image=server.image, name="Not_A_Name")
    with pytest.raises(NotFoundError):
        await async_porter.sandboxes.get("no-such-sandbox-here")
    async with await async_porter.sandboxes.create(image=server.image, name=unique_name) as sandbox:
        with pytest.raises(ConflictError):
            await async_porter.sandboxes.create(image=server.image, name=unique_name)
        with pytest.raises(CommandError) as caught:
            await sandbox.exec(sh("echo out; exit 4"), check=True)
        assert (caught.value.exit_code, caught.value.stdout) == (4, "out\n")
        await sandbox.wait("running")
        with pytest.raises(SandboxTimeoutError):
            await sandbox.exec(["sleep", "30"], timeout=0.5)
    assert sandbox.phase == "terminated"


async def test_async_context_manager_terminates_on_exception(async_porter: AsyncPorter, server: Any) -> None:
    with pytest.raises(RuntimeError, match="the block failed"):
        async with await async_porter.sandboxes.create(image=server.image) as sandbox:
            raise RuntimeError("the block failed")
    assert (await async_porter.sandboxes.get(sandbox.id)).phase == "terminated"


async def test_async_wait_iter_and_counts(async_porter: AsyncPorter, server: Any, unique_name: str) -> None:
    tags = {"async-batch": unique_name}
    created = [
        await async_porter.sandboxes.create(image=server.image, command=sh("exit 0"), tags=tags) for _ in range(52)
    ]
    assert (await created[-1].wait("terminal", timeout=server.start_timeout)).phase == "succeeded"
    walked = [s.id async for s in async_porter.sandboxes.iter(tags=tags)]
    assert walked == [s.id for s in reversed(created)]
    assert (await async_porter.sandboxes.counts(tags=tags)).total == 52

    failing = await async_porter.sandboxes.create(image=server.image, command=sh("exit 2"))
    with pytest.raises(SandboxEndedError) as caught:
        await failing.wait("succeeded", timeout=server.start_timeout)
    assert caught.value.phase == "failed" and failing.exit_code == 2


async def test_async_health_readiness_and_raw(async_porter: AsyncPorter) -> None:
    assert (await async_porter.health()).ok
    assert (await async_porter.healthz.health_check()).status == "ok"
    assert (await async_porter.readiness()).ready
    assert (await async_porter.readyz.readiness_check()).ready
    response = await async_porter.sandboxes.raw.list_sandboxes(page=1)
    assert response.status_code == 200


async def test_fan_out_50_creates_and_execs_concurrently(async_porter: AsyncPorter, server: Any) -> None:
    async def one(index: int) -> tuple[str, str]:
        sandbox = await async_porter.sandboxes.create(image=server.image, tags={"fan-out": "50"})
        try:
            # An exec waits for its sandbox to start, up to the client's timeout: wait for it first
            # where starting 50 takes longer (pods).
            await sandbox.wait("running", timeout=server.start_timeout)
            result = await sandbox.exec(sh(f"echo {index}"), check=True)
            return sandbox.id, result.stdout
        finally:
            await sandbox.terminate()

    results = await asyncio.gather(*(one(index) for index in range(50)))
    assert [stdout for _, stdout in results] == [f"{index}\n" for index in range(50)]
    assert len({sandbox_id for sandbox_id, _ in results}) == 50
