"""``.raw``: the generated client and its operations, sharing the SDK's httpx client without changing it."""

from __future__ import annotations

import datetime
import importlib
import inspect
import subprocess
import sys
import typing
from pathlib import Path

import httpx
import pytest
from porter_sandbox_api.api.sandboxes import get_sandbox
from sdk_mock import STATUS, Script, answer, async_porter_with, porter_with
from typecheck import mypy_errors

from porter_sandbox import BoundOperations, _operations


def test_with_timeout_and_with_headers_answer_copies_and_leave_the_sdk_alone() -> None:
    script = Script(answer(503), answer(200, STATUS))
    with porter_with(script, max_retries=1) as porter:
        shared = porter.raw.get_httpx_client()
        before = (shared.timeout, dict(shared.headers))

        slow = porter.raw.with_timeout(httpx.Timeout(123.0))
        tagged = porter.raw.with_headers({"X-Trace": "abc"}).with_cookies({"session": "s1"})

        # The SDK's own client, and so every SDK call, is as it was.
        assert porter.raw.get_httpx_client() is shared
        assert (shared.timeout, dict(shared.headers)) == before
        assert "x-trace" not in shared.headers and not shared.cookies
        assert slow.get_httpx_client().timeout == httpx.Timeout(123.0)
        assert tagged.get_httpx_client().timeout == shared.timeout

        # The copy sends through the SDK's transport: its retries apply (one 503 retried), with its header.
        assert get_sandbox.sync_detailed("sb-1", client=tagged).status_code == 200
        assert script.calls == 2
        assert all(request.headers["x-trace"] == "abc" for request in script.requests)
        assert "session=s1" in script.requests[-1].headers["cookie"]
        assert script.requests[-1].headers["user-agent"].startswith("porter-sandbox-python/")

        # Closing a copy leaves the SDK's connections open.
        tagged.get_httpx_client().close()
        assert porter.sandboxes.get("sb-1").id == "sb-1"
        assert "x-trace" not in script.requests[-1].headers
        assert "cookie" not in script.requests[-1].headers


async def test_the_async_raw_client_copies_too() -> None:
    script = Script(answer(200, STATUS))
    async with async_porter_with(script) as porter:
        shared = porter.raw.get_async_httpx_client()
        before = shared.timeout
        copy = porter.raw.with_timeout(httpx.Timeout(7.0)).with_headers({"X-Trace": "async"})
        assert porter.raw.get_async_httpx_client() is shared and shared.timeout == before
        assert "x-trace" not in shared.headers
        assert copy.get_async_httpx_client().timeout == httpx.Timeout(7.0)
        assert (await get_sandbox.asyncio_detailed("sb-1", client=copy)).status_code == 200
        assert script.requests[-1].headers["x-trace"] == "async"
        await copy.get_async_httpx_client().aclose()
        assert (await porter.sandboxes.get("sb-1")).id == "sb-1"


def test_an_authenticated_raw_client_keeps_its_key_in_copies() -> None:
    script = Script(answer(200, STATUS))
    with porter_with(script, api_key="k-1") as porter:
        copy = porter.raw.with_headers({"X-Trace": "abc"})
        assert type(copy) is type(porter.raw)
        get_sandbox.sync_detailed("sb-1", client=copy)
        assert script.requests[-1].headers["authorization"] == "Bearer k-1"
        assert "x-trace" not in porter.raw.get_httpx_client().headers


@pytest.mark.parametrize("method", ["with_timeout", "with_headers", "with_cookies"])
def test_the_copies_are_documented(method: str) -> None:
    with porter_with(Script(answer(200, STATUS))) as porter:
        assert "unchanged" in (getattr(porter.raw, method).__doc__ or "")


# -- the types of .raw's operations ------------------------------------------------------------

PROTOCOLS = {
    ("healthz", False): _operations.HealthzOperations,
    ("readyz", False): _operations.ReadyzOperations,
    ("sandboxes", False): _operations.SandboxOperations,
    ("snapshots", False): _operations.SnapshotOperations,
    ("volumes", False): _operations.VolumeOperations,
    ("healthz", True): _operations.AsyncHealthzOperations,
    ("readyz", True): _operations.AsyncReadyzOperations,
    ("sandboxes", True): _operations.AsyncSandboxOperations,
    ("snapshots", True): _operations.AsyncSnapshotOperations,
    ("volumes", True): _operations.AsyncVolumeOperations,
    ("extensions", False): _operations.ExtensionOperations,
    ("extensions", True): _operations.AsyncExtensionOperations,
}


def test_every_tag_of_the_spec_has_its_protocols() -> None:
    import pkgutil

    import porter_sandbox_api.api

    tags = {info.name for info in pkgutil.iter_modules(porter_sandbox_api.api.__path__)}
    assert {tag for tag, _ in PROTOCOLS} == tags


def _generated_names() -> dict[str, object]:
    import porter_sandbox_api.client
    import porter_sandbox_api.models
    import porter_sandbox_api.types

    names: dict[str, object] = {"Any": typing.Any, "datetime": datetime}
    for module in (porter_sandbox_api.models, porter_sandbox_api.types, porter_sandbox_api.client):
        names.update(vars(module))
    return names


def _shape(function: typing.Callable[..., object], drop: str) -> list[tuple[str, object, bool, object]]:
    hints = typing.get_type_hints(function, localns=_generated_names())
    return [
        (p.name, p.kind, p.default is not inspect.Parameter.empty, hints.get(p.name))
        for p in inspect.signature(function).parameters.values()
        if p.name != drop
    ] + [("return", None, False, hints.get("return"))]


@pytest.mark.parametrize(("tag", "asynchronous"), list(PROTOCOLS), ids=lambda v: str(v))
def test_each_raw_operation_is_typed_as_the_generated_function_without_client(tag: str, asynchronous: bool) -> None:
    protocol = PROTOCOLS[(tag, asynchronous)]
    with porter_with(Script(answer(200, STATUS))) as porter:
        listed = BoundOperations(porter.raw, tag, asynchronous=asynchronous).operations()
    names = listed
    declared = sorted(name for name in vars(protocol) if not name.startswith("_"))
    assert declared == names, f"{protocol.__name__} should declare exactly the {tag} operations"
    for name in names:
        module = importlib.import_module(f"porter_sandbox_api.api.{tag}.{name}")
        generated = module.asyncio_detailed if asynchronous else module.sync_detailed
        declared_function = getattr(protocol, name)
        assert inspect.iscoroutinefunction(declared_function) == asynchronous
        assert _shape(declared_function, "self") == _shape(generated, "client"), f"{protocol.__name__}.{name}"


def test_a_type_checker_sees_the_generated_signatures_on_raw(tmp_path: Path) -> None:
    problems = mypy_errors(
        tmp_path,
        """
        from typing import assert_type

        from porter_sandbox import AsyncPorter, Porter
        from porter_sandbox_api.models import Error, LookupResponse, StatusResponse
        from porter_sandbox_api.types import Response


        def sync(porter: Porter) -> None:
            assert_type(porter.sandboxes.raw.get_sandbox("sb-1"), Response[Error | StatusResponse])
            assert_type(porter.volumes.raw.lookup_volume(name="data"), Response[Error | LookupResponse])
            porter.sandboxes.raw.list_sandboxes(tag=["a=b"], page=2)
            porter.sandboxes.raw.get_sandbox(123)  # error: incompatible type "int"; expected "str"
            porter.volumes.raw.lookup_volume(nam="data")  # error: Unexpected keyword argument "nam"
            porter.sandboxes.raw.list_sandboxes(page="2")  # error: incompatible type "str"
            porter.healthz.raw.health_check(1)  # error: Too many arguments


        async def asynchronous(porter: AsyncPorter) -> None:
            assert_type(await porter.sandboxes.raw.get_sandbox("sb-1"), Response[Error | StatusResponse])
            await porter.sandboxes.raw.get_sandbox(123)  # error: incompatible type "int"; expected "str"
        """,
    )
    assert problems == []


def test_importing_the_operation_types_imports_nothing_generated() -> None:
    code = (
        "import sys, porter_sandbox._operations\n"
        "print(sorted(m for m in sys.modules if m.startswith('porter_sandbox_api')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
