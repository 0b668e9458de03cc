"""The public surface: sync and async twins match name for name and argument for argument; every public name is
documented; importing the SDK stays light and never pulls in the server."""

from __future__ import annotations

import ast
import functools
import inspect
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import porter_sandbox
from porter_sandbox import (
    AsyncExecStream,
    AsyncHealthz,
    AsyncLogStream,
    AsyncObjectVolume,
    AsyncPorter,
    AsyncProcess,
    AsyncReadyz,
    AsyncSandbox,
    AsyncSandboxes,
    AsyncSnapshot,
    AsyncSnapshots,
    AsyncVolume,
    AsyncVolumes,
    ExecStream,
    Healthz,
    LogStream,
    ObjectVolume,
    Porter,
    Process,
    Readyz,
    Sandbox,
    Sandboxes,
    Snapshot,
    Snapshots,
    Volume,
    Volumes,
)

TWINS = [
    (Porter, AsyncPorter),
    (Sandboxes, AsyncSandboxes),
    (Sandbox, AsyncSandbox),
    (Volumes, AsyncVolumes),
    (Volume, AsyncVolume),
    (ObjectVolume, AsyncObjectVolume),
    (Snapshots, AsyncSnapshots),
    (Snapshot, AsyncSnapshot),
    (Healthz, AsyncHealthz),
    (Readyz, AsyncReadyz),
    (Process, AsyncProcess),
    (ExecStream, AsyncExecStream),
    (LogStream, AsyncLogStream),
]
# Where the async twin's name differs by convention (httpx's close/aclose).
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
# Methods that answer an iterator: a plain function in both twins (the async one answers an async iterator).
ITERATORS = {"iter", "iterdir", "stream"}

SDK = Path(porter_sandbox.__file__).parent


def public_members(cls: type) -> dict[str, object]:
    names = {name for name in dir(cls) if not name.startswith("_")}
    names |= {name for name in ("__enter__", "__exit__", "__aenter__", "__aexit__") if hasattr(cls, name)}
    return {name: inspect.getattr_static(cls, name) for name in names}


def parameters(function: object) -> list[tuple[str, object, object]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(("sync", "async_"), TWINS, ids=lambda cls: cls.__name__)
def test_each_async_class_has_the_same_public_names_and_arguments_as_its_sync_twin(sync: type, async_: type) -> None:
    sync_members = public_members(sync)
    async_members = public_members(async_)
    assert {RENAMED.get(name, name) for name in sync_members} == set(async_members)
    for name, member in sync_members.items():
        twin = async_members[RENAMED.get(name, name)]
        if isinstance(member, property):
            assert isinstance(twin, property), f"{async_.__name__}.{name} should be a property"
            continue
        if not callable(member):
            continue
        assert parameters(member) == parameters(twin), f"{async_.__name__}.{name} differs from {sync.__name__}.{name}"
        is_coroutine = inspect.iscoroutinefunction(twin)
        expected = name not in ITERATORS and name != "__init__" and not name.startswith("__")
        if name in ("__enter__", "__exit__"):
            expected = True
        assert is_coroutine == expected, f"{async_.__name__}.{name}: awaitable={is_coroutine}"


def test_the_namespaces_and_raw_are_there_on_both_clients() -> None:
    for cls in (Porter, AsyncPorter):
        porter = cls(base_url="http://sandbox.test")
        assert {"sandboxes", "snapshots", "volumes", "healthz", "readyz"} <= set(dir(porter))
        assert porter.sandboxes is porter.sandboxes  # made once, on first use
        assert porter.sandboxes.raw.client is porter.raw
        assert "get_sandbox" in dir(porter.sandboxes.raw)
        assert "write_volume_file" in dir(porter.volumes.raw)
        assert "get_snapshot" in dir(porter.snapshots.raw) and porter.snapshots.raw.client is porter.raw
        assert callable(porter.healthz.health_check) and callable(porter.readyz.readiness_check)
        with pytest.raises(AttributeError, match="has no operation 'nope'"):
            porter.sandboxes.raw.nope  # noqa: B018


def test_every_public_name_is_exported_and_documented() -> None:
    for name in porter_sandbox.__all__:
        value = getattr(porter_sandbox, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"
            if inspect.isclass(value) and issubclass(value, Exception):
                assert value.__module__ == "porter_sandbox", f"{name} should show as porter_sandbox.{name}"
        if inspect.isclass(value):
            for member_name, member in vars(value).items():
                if member_name.startswith("_") or not (
                    callable(member) or isinstance(member, (property, functools.cached_property))
                ):
                    continue
                assert inspect.getdoc(member), f"{name}.{member_name} has no docstring"


def test_the_type_hints_of_public_classes_and_methods_resolve() -> None:
    for name in porter_sandbox.__all__:
        value = getattr(porter_sandbox, name)
        if not inspect.isclass(value):
            continue
        typing.get_type_hints(value)
        for member_name, member in vars(value).items():
            if isinstance(member, functools.cached_property):  # the clients' namespaces
                member = member.func
            if not member_name.startswith("_") and inspect.isfunction(member):
                typing.get_type_hints(member)
    hints = typing.get_type_hints(Porter.sandboxes.func)  # type: ignore[attr-defined]
    assert hints["return"] is porter_sandbox.Sandboxes


def test_the_package_is_typed() -> None:
    assert (SDK / "py.typed").exists()


def test_the_sdk_never_imports_the_server() -> None:
    for path in SDK.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] == "porter_sandbox_server" for m in modules), f"{path} imports the server"


def test_importing_the_sdk_leaves_the_generated_operations_and_models_for_later() -> None:
    code = (
        "import sys, porter_sandbox\n"
        "print(sorted(m for m in sys.modules if m.startswith(('porter_sandbox_api.api.', 'porter_sandbox_api.models',"
        " 'porter_sandbox_server', 'dateutil'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_importing_the_sdk_loads_the_client_and_its_errors_and_the_rest_on_first_use() -> None:
    code = (
        "import sys, porter_sandbox\n"
        "print(sorted(m for m in sys.modules if m.startswith('porter_sandbox.')))\n"
        "porter = porter_sandbox.Porter(base_url='http://sandbox.test')\n"
        "porter.healthz\n"
        "print('porter_sandbox._health' in sys.modules, 'porter_sandbox._sandboxes' in sys.modules)\n"
        "porter.sandboxes\n"
        "print('porter_sandbox._sandboxes' in sys.modules)\n"
        "porter_sandbox.VolumeFile\n"
        "print('porter_sandbox._models' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, health, sandboxes, export = result.stdout.strip().splitlines()
    assert not any(name in loaded for name in ("_sandboxes", "_volumes", "_snapshots", "_models", "_metrics")), loaded
    assert (health, sandboxes, export) == ("True False", "True", "True")


def test_the_lazy_exports_are_the_names_type_checkers_see() -> None:
    tree = ast.parse((SDK / "__init__.py").read_text())
    checked: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                checked.update({alias.name: "." + (statement.module or "") for alias in statement.names})
    lazy = porter_sandbox._LAZY  # type: ignore[attr-defined]
    assert checked == lazy
    eager = {name for name in porter_sandbox.__all__ if name in vars(porter_sandbox) and name not in lazy}
    assert eager | set(lazy) == set(porter_sandbox.__all__)
    assert set(porter_sandbox.__all__) <= set(dir(porter_sandbox))
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        porter_sandbox.Nope  # type: ignore[attr-defined]  # noqa: B018
