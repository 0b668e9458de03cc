"""What the SDK refuses before sending anything, and what a type checker refuses before running anything."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from porter_sandbox_api.models import SandboxPhase as GeneratedPhase
from sdk_mock import Script, answer, async_porter_with, porter_with, refuse_requests
from typecheck import mypy_errors

import porter_sandbox
from porter_sandbox import (
    TERMINAL_PHASES,
    FilterValuesResponsePhases,
    SandboxesPhase,
    SandboxPhase,
    StatusResponsePhase,
    WaitPhase,
)


def test_the_phase_types_name_the_apis_phases() -> None:
    assert set(SandboxPhase.__args__) == {phase.value for phase in GeneratedPhase}
    assert set(WaitPhase.__args__) == {*SandboxPhase.__args__, "terminal"}
    assert set(TERMINAL_PHASES) <= set(SandboxPhase.__args__)
    for enum in (StatusResponsePhase, SandboxesPhase, FilterValuesResponsePhases):
        assert enum.values() == SandboxPhase.__args__


def test_a_type_checker_refuses_a_misspelt_phase(tmp_path: Path) -> None:
    problems = mypy_errors(
        tmp_path,
        """
        from typing import assert_type

        from porter_sandbox import AsyncSandbox, Porter, Sandbox, SandboxesPhase, StatusResponsePhase


        def sync(porter: Porter, sandbox: Sandbox) -> None:
            sandbox.wait("running")
            sandbox.wait("terminal", timeout=5)
            sandbox.wait("runnning")  # error: incompatible type "Literal['runnning']"
            porter.sandboxes.list(phase=["running", "failed"])
            porter.sandboxes.list(phase=[SandboxesPhase.RUNNING, "failed"])
            porter.sandboxes.list(phase="sleeping")  # error: incompatible type "Literal['sleeping']"
            porter.sandboxes.iter(phase=["runing"])  # error: "Literal['runing']"
            assert_type(sandbox.phase, StatusResponsePhase | None)
            if sandbox.phase == StatusResponsePhase.SUCCEDED:  # error: has no attribute "SUCCEDED"
                pass
            if sandbox.phase is not None:
                assert_type(sandbox.phase.value, str)


        async def asynchronous(sandbox: AsyncSandbox) -> None:
            await sandbox.wait("terminatd")  # error: incompatible type "Literal['terminatd']"
        """,
    )
    assert problems == []


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"": "x"}, "empty variable name"),
        ({"A=B": "x"}, "holds '='"),
        ({"A\0B": "x"}, "NUL"),
        ({"MODE": "bat\0ch"}, "NUL"),
        ({"MODE": 1}, "strings to strings"),
    ],
)
async def test_env_is_checked_before_any_request(env: dict[str, object], complaint: str) -> None:
    with porter_with(refuse_requests) as porter, pytest.raises((ValueError, TypeError), match=complaint):
        porter.sandboxes.create(image="python:3.12-slim", env=env)  # type: ignore[arg-type]
    async with async_porter_with(refuse_requests) as porter:
        with pytest.raises((ValueError, TypeError), match=complaint):
            await porter.sandboxes.create(image="python:3.12-slim", env=env)  # type: ignore[arg-type]


def test_a_good_env_is_sent_as_given() -> None:
    script = Script(answer(201, {"id": "sb-1", "name": "sb-1"}))
    with porter_with(script) as porter:
        porter.sandboxes.create(image="python:3.12-slim", env={"MODE": "a=b", "EMPTY": ""})
    assert json.loads(script.requests[0].content)["env"] == {"MODE": "a=b", "EMPTY": ""}


def test_the_package_docstring_points_only_at_public_names() -> None:
    text = porter_sandbox.__doc__ or ""
    assert not re.search(r"porter_sandbox\._", text), text
    assert "SandboxError" in text
    tree = porter_sandbox.SandboxError.__doc__ or ""
    for name in porter_sandbox.__all__:
        value = getattr(porter_sandbox, name)
        if isinstance(value, type) and issubclass(value, porter_sandbox.SandboxError):
            assert f" {name} " in tree, f"help(SandboxError) should draw {name} in the tree"
