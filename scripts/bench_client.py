"""One client of the per-call rows of ``scripts/bench.py``, in a process of its own, timing calls on request.

    python [-I] scripts/bench_client.py {sdk,raw} {sync,async} BASE_URL SANDBOX_ID SANDBOX_NAME

``sdk`` times ``sandbox.refresh()`` through whichever ``porter_sandbox`` this
interpreter imports: ours from the project's venv, Porter's published client
from a venv holding it (run that one with ``-I`` so that ours cannot shadow
it). Both answer to ``Porter(base_url=...)``, ``porter.sandboxes.get(name)``
and ``sandbox.refresh()``, so the same lines run on both. ``raw`` times a GET
of the same sandbox's URL with a bare ``httpx.Client`` (or ``AsyncClient``)
on a kept-alive connection: the floor.

Each client runs in its own process because two packages named
``porter_sandbox`` cannot live in one interpreter; running all three alike
keeps the comparison fair. After warming up it prints ``ready``, then for each
line ``N`` read from stdin it makes N calls and prints their durations in
nanoseconds on one line; it exits at the end of its input. Between requests it
waits on stdin doing nothing, so ``bench.py`` can interleave the clients call
by call and a busy moment of the machine hits them alike. Only ``httpx`` and
the client under test are imported here.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

WARM_UP_CALLS = 50


def sync_call(kind: str, base_url: str, sandbox_id: str, name: str) -> tuple[Callable[[], Any], Callable[[], None]]:
    """The timed call of ``kind`` and what closes its client."""
    if kind == "raw":
        import httpx

        raw = httpx.Client(timeout=30)
        url = f"{base_url}/v1/sandbox/{sandbox_id}"
        return (lambda: raw.get(url).raise_for_status()), raw.close
    from porter_sandbox import Porter

    client = Porter(base_url=base_url)
    sandbox = client.sandboxes.get(name)
    return sandbox.refresh, client.close


async def async_call(
    kind: str, base_url: str, sandbox_id: str, name: str
) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """The timed call of ``kind`` (async) and what closes its client."""
    if kind == "raw":
        import httpx

        _remember_sniffio_is_missing()
        raw = httpx.AsyncClient(timeout=30)
        url = f"{base_url}/v1/sandbox/{sandbox_id}"

        async def get() -> None:
            (await raw.get(url)).raise_for_status()

        return get, raw.aclose
    from porter_sandbox import AsyncPorter

    client = AsyncPorter(base_url=base_url)
    sandbox = await client.sandboxes.get(name)
    return sandbox.refresh, client.aclose


def _remember_sniffio_is_missing() -> None:
    """Give the floor what the SDK does for itself: a failed ``import sniffio`` that fails at once.

    Without sniffio installed, httpcore tries to import it several times per
    async request, searching all of ``sys.path`` each time; ``AsyncPorter``
    makes that fail at once (``porter_sandbox._client``). The floor gets the
    same, so it stays the least that raw httpx costs here.
    """
    import importlib

    if "sniffio" not in sys.modules:
        try:
            importlib.import_module("sniffio")
        except ImportError:
            sys.modules["sniffio"] = None  # type: ignore[assignment]


def requests() -> Any:
    """The counts asked for on stdin, one per line, until its end."""
    for line in sys.stdin:
        yield int(line)


def answer(durations: list[int]) -> None:
    print(" ".join(map(str, durations)), flush=True)


def run_sync(kind: str, base_url: str, sandbox_id: str, name: str) -> None:
    call, close = sync_call(kind, base_url, sandbox_id, name)
    clock = time.perf_counter_ns
    try:
        for _ in range(WARM_UP_CALLS):
            call()
        print("ready", flush=True)
        for count in requests():
            durations = []
            for _ in range(count):
                start = clock()
                call()
                durations.append(clock() - start)
            answer(durations)
    finally:
        close()


async def run_async(kind: str, base_url: str, sandbox_id: str, name: str) -> None:
    call, close = await async_call(kind, base_url, sandbox_id, name)
    clock = time.perf_counter_ns
    try:
        for _ in range(WARM_UP_CALLS):
            await call()
        print("ready", flush=True)
        # Reading stdin blocks the loop on purpose: nothing else runs on it between calls.
        for count in requests():
            durations = []
            for _ in range(count):
                start = clock()
                await call()
                durations.append(clock() - start)
            answer(durations)
    finally:
        await close()


def main() -> None:
    kind, mode, base_url, sandbox_id, name = sys.argv[1:6]
    if kind not in ("sdk", "raw") or mode not in ("sync", "async"):
        sys.exit(__doc__)
    if mode == "sync":
        run_sync(kind, base_url, sandbox_id, name)
    else:
        asyncio.run(run_async(kind, base_url, sandbox_id, name))


if __name__ == "__main__":
    main()
