"""Ours has every public name, member and parameter of Porter's published client 0.1.68, so code written for it runs
on ours: the same names, the same parameters (keyword-only where they are), compatible defaults.

``published_surface.py`` prints the published package's surface, read in a venv
of its own (``porter_reference``; skips without PyPI, fails so in CI); each
check below walks it and looks for the same on ours. What ours leaves out on
purpose is listed here, each with its reason; nothing else may be missing.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import porter_sandbox
from porter_sandbox import AsyncPorter, Porter

DUMP = Path(__file__).with_name("published_surface.py")

_RAW = (
    "a model of the published client's low-level resources only (its `.raw`); ours' `.raw` is the generated "
    "porter_sandbox_api client, which takes and answers porter_sandbox_api.models"
)
#: Names of the published ``__all__`` that ours does not have, and why.
NOT_PROVIDED = {
    "PorterSandboxApiClient": "the published client's low-level client; ours is the generated porter_sandbox_api "
    "client, reached as porter.raw",
    "AsyncPorterSandboxApiClient": "the async twin of PorterSandboxApiClient; ours is AsyncPorter().raw",
    "BinaryContent": "what the published low-level read_volume_file answers; ours' .raw answers a Response with the "
    "bytes and headers, and Volume.read_file()/stream() answer bytes in both",
    "ContentRange": "part of BinaryContent, as above",
    "CountResponse": _RAW + " (sandboxes.counts() answers SandboxCounts, with the same points and granularity_ms)",
    "CreateResponse": _RAW,
    "Error": _RAW + " (errors are raised as SandboxError, in both)",
    "ExecRequest": _RAW,
    "ListResponse": _RAW + " (sandboxes.list() answers a SandboxPage of handles, in both a sequence of them)",
    "LogsResponse": _RAW,
    "LookupResult": _RAW,
    "Pagination": _RAW + " (a SandboxPage carries page, total_pages and has_next_page)",
    "SandboxSpec": _RAW,
    "VolumeFileEntry": _RAW + " (listings answer VolumeFile, in both)",
    "VolumeFileListResponse": _RAW,
    "VolumeFileMoveRequest": _RAW,
    "VolumeListResponse": _RAW,
    "VolumeSpec": _RAW,
    "StatusResponse": "sandbox.refresh() answers the handle itself, which has every field of the status",
    "VolumeRecord": "volume.refresh() answers the handle itself, which has every field of the record",
}
#: Models of the published client that ours answers but never takes: their fields are checked as attributes.
ANSWERS = {
    "CountPoint",
    "ExecResponse",
    "ExecTarget",
    "FilterValuesResponse",
    "HealthResponse",
    "LogLine",
    "MetricSummaryResponse",
    "ReadinessResponse",
    "SandboxMetricsPoint",
    "SandboxMetricsResponse",
    "SandboxMetricsResult",
    "SandboxMetricsSeries",
    "Snapshot",
    "SnapshotListResponse",
}
_MADE_BY_THE_CLIENT = "made by the client from the server's answers, never by user code (the published one takes its "
"generated resource)"
_WITH = "called by the with statement, which passes the three arguments both take"
#: Members of the published classes that ours has differently, and why.
MEMBER_EXCEPTIONS = {
    ("Porter", "__exit__"): _WITH,
    ("AsyncPorter", "__aexit__"): _WITH,
    **{
        (name, "__init__"): _MADE_BY_THE_CLIENT
        for name in (
            "Sandbox",
            "AsyncSandbox",
            "Sandboxes",
            "AsyncSandboxes",
            "Snapshots",
            "AsyncSnapshots",
            "Volumes",
            "AsyncVolumes",
            "Volume",
            "AsyncVolume",
            "ObjectVolume",
            "AsyncObjectVolume",
            "Healthz",
            "AsyncHealthz",
            "Readyz",
            "AsyncReadyz",
            "VolumeFile",
        )
    },
}
#: Defaults that differ in value, and why (a default that is missing is never allowed).
DEFAULTS_DIFFER = {
    ("Sandbox", "logs", "limit"): "the newest 100 lines, not everything a chatty sandbox ever wrote; limit=None asks "
    "for what the server answers without a limit",
    ("AsyncSandbox", "logs", "limit"): "as Sandbox.logs",
}


@pytest.fixture(scope="module")
def published(reference_python: Path) -> dict[str, Any]:
    """The published client's surface, as ``published_surface.py`` prints it."""
    done = subprocess.run(
        [str(reference_python), "-I", str(DUMP)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    surface: dict[str, Any] = json.loads(done.stdout)
    assert surface["version"] == "0.1.68" and "site-packages" in surface["file"]
    return surface


def _ours(name: str) -> Any:
    return getattr(porter_sandbox, name, None)


def _of_kind(published: dict[str, Any], kind: str) -> list[str]:
    return sorted(name for name, about in published["names"].items() if about["kind"] == kind)


def _attributes(cls: type) -> set[str]:
    found = set(dir(cls))
    if dataclasses.is_dataclass(cls):
        found |= {field.name for field in dataclasses.fields(cls)}
    if cls in (Porter, AsyncPorter):  # its namespaces are set when it is made
        found |= set(vars(cls(base_url="http://127.0.0.1:9")))
    return found


def _parameters(function: Any) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(function).parameters.values() if p.name != "self"]


def _parameter_problems(where: tuple[str, str], theirs: list[dict[str, Any]], function: Any) -> list[str]:
    """How ours' parameters fail to take every call the published ones take."""
    ours = _parameters(function)
    by_name = {p.name: p for p in ours}
    positional = [p.name for p in ours if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    label = ".".join(where)
    problems = []
    their_positional = [p["name"] for p in theirs if p["kind"] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
    if positional[: len(their_positional)] != their_positional:
        problems.append(f"{label}: positional parameters {positional}, the published ones {their_positional}")
    for parameter in theirs:
        name = parameter["name"]
        mine = by_name.get(name)
        if mine is None:
            if parameter["kind"] not in ("VAR_POSITIONAL", "VAR_KEYWORD"):
                problems.append(f"{label}: no parameter {name!r}")
            continue
        if mine.kind.name != parameter["kind"]:
            problems.append(f"{label}({name}): {mine.kind.name}, the published one {parameter['kind']}")
        if parameter["has_default"]:
            if mine.default is mine.empty:
                problems.append(f"{label}({name}): required, the published one defaults to {parameter['default']!r}")
            elif (*where, name) not in DEFAULTS_DIFFER and isinstance(parameter["default"], (str, int, float, bool)):
                if mine.default != parameter["default"]:
                    problems.append(
                        f"{label}({name}): defaults to {mine.default!r}, the published one to {parameter['default']!r}"
                    )
            elif (*where, name) not in DEFAULTS_DIFFER and parameter["default"] is None and mine.default is not None:
                problems.append(f"{label}({name}): defaults to {mine.default!r}, the published one to None")
    theirs_names = {p["name"] for p in theirs}
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    for extra in ours:
        if extra.name not in theirs_names and extra.default is extra.empty and extra.kind not in variadic:
            problems.append(f"{label}: ours requires {extra.name!r}, which the published one does not take")
    return problems


def test_every_published_name_is_ours_or_a_documented_exception(published: dict[str, Any]) -> None:
    missing = [name for name in published["names"] if _ours(name) is None and name not in NOT_PROVIDED]
    assert missing == [], "published names ours lacks (add them, or say why in NOT_PROVIDED)"
    stale = [name for name in NOT_PROVIDED if name not in published["names"] or _ours(name) is not None]
    assert stale == [], "NOT_PROVIDED names that the published client lacks or that ours has now"
    for name in published["names"]:
        if name in NOT_PROVIDED:
            continue
        assert name in porter_sandbox.__all__, f"{name} is there, but not exported in porter_sandbox.__all__"


def test_the_enums_have_every_published_member_with_its_value(published: dict[str, Any]) -> None:
    for name in _of_kind(published, "enum"):
        ours = _ours(name)
        assert isinstance(ours, type) and issubclass(ours, enum.Enum) and issubclass(ours, str), name
        members = {item.name: item.value for item in ours}
        for member, value in published["names"][name]["members"].items():
            assert members.get(member) == value, f"{name}.{member} should be {value!r}"
        assert ours(next(iter(members.values()))).value == next(iter(members.values()))


def test_the_errors_have_the_published_tree_and_arguments(published: dict[str, Any]) -> None:
    for name in _of_kind(published, "error"):
        ours, about = _ours(name), published["names"][name]
        for base in about["bases"]:
            assert issubclass(ours, _ours(base)), f"{name} should be a {base}"
        assert _parameter_problems((name, "__init__"), about["init"], ours.__init__) == []
        made = ours("it failed")  # as code written for the published client raises them
        assert made.message == "it failed" and made.body is None


def test_the_models_take_and_have_the_published_fields(published: dict[str, Any]) -> None:
    problems = []
    for name in _of_kind(published, "model"):
        if name in NOT_PROVIDED:
            continue
        ours, fields = _ours(name), published["names"][name]["fields"]
        attributes = _attributes(ours)
        problems += [f"{name}: no attribute {field!r}" for field in fields if field not in attributes]
        if name in ANSWERS:
            continue
        signature = inspect.signature(ours)
        for field, about in fields.items():
            parameter = signature.parameters.get(field)
            if parameter is None or parameter.kind not in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                problems.append(f"{name}({field}=...): not a keyword argument")
            elif not about["required"] and parameter.default is parameter.empty:
                problems.append(f"{name}({field}=...): required, the published one is optional")
    assert not problems, "\n".join(problems)


def test_the_classes_have_every_published_member_and_parameter(published: dict[str, Any]) -> None:
    problems = []
    for name in _of_kind(published, "class"):
        if name in NOT_PROVIDED:
            continue
        ours = _ours(name)
        assert isinstance(ours, type), name
        attributes = _attributes(ours)
        for member, about in published["names"][name]["members"].items():
            if (name, member) in MEMBER_EXCEPTIONS:
                continue
            if member not in attributes:
                problems.append(f"{name}.{member}: missing")
                continue
            if about["kind"] != "method":
                continue
            mine = inspect.getattr_static(ours, member)
            if isinstance(mine, (staticmethod, classmethod)):
                mine = mine.__func__
            if not inspect.isfunction(mine):
                problems.append(f"{name}.{member}: not a method")
                continue
            if about["coroutine"] != inspect.iscoroutinefunction(mine):
                problems.append(f"{name}.{member}: awaitable is {inspect.iscoroutinefunction(mine)}, published not")
            if about["async_generator"] and inspect.iscoroutinefunction(mine):
                problems.append(f"{name}.{member}: an async iterator in the published client; ours must not be awaited")
            problems += _parameter_problems((name, member), about["parameters"], mine)
    assert not problems, "\n".join(problems)


def test_the_exceptions_are_still_needed(published: dict[str, Any]) -> None:
    for name, member in MEMBER_EXCEPTIONS:
        assert member in published["names"][name]["members"], f"{name}.{member} is no longer published"
    for name, member, parameter in DEFAULTS_DIFFER:
        about = published["names"][name]["members"][member]
        assert parameter in [p["name"] for p in about["parameters"]], (name, member, parameter)


def test_a_positional_base_url_is_a_type_error_as_in_the_published_client() -> None:
    with pytest.raises(TypeError, match="positional argument"):
        Porter("http://127.0.0.1:8080")  # type: ignore[misc]
    with pytest.raises(TypeError, match="positional argument"):
        AsyncPorter("http://127.0.0.1:8080")  # type: ignore[misc]
