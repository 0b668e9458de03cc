"""Answers of Porter's API that our server never gives: a 202 create with only ``{id, name}``, other 2xx statuses,
values this client does not know. Scripted, since a real local server cannot be made to answer them.

(The end-to-end tests run the same through a real server: ``tests/e2e/test_e2e_porter_code.py``.)
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sdk_mock import STATUS, Script, answer, async_porter_with, porter_with

from porter_sandbox import (
    AsyncObjectVolume,
    NotFoundError,
    ObjectVolume,
    SandboxError,
    ServerError,
    StatusResponsePhase,
    StatusResponseTerminationReason,
    Volume,
    VolumeObjectSpec,
)

SNAPSHOT = {"id": "snap-1", "sandbox_id": "sb-1", "mode": "filesystem", "status": "pending"}
VOLUME = {
    "id": "vol-1",
    "name": "data",
    "type": "disk",
    "path": "vol-1",
    "phase": "ready",
    "attached_to": [],
    "created_at": "2026-01-01T00:00:00Z",
}


def test_a_202_create_with_only_id_and_name_answers_a_handle_that_learns_its_phase_on_refresh() -> None:
    script = Script(answer(202, {"id": "sb-1", "name": "one"}), answer(200, STATUS))
    with porter_with(script) as porter:
        sandbox = porter.sandboxes.create("python:3.12-slim", name="one")
        assert (sandbox.id, sandbox.name, sandbox.phase, sandbox.image) == ("sb-1", "one", None, "python:3.12-slim")
        assert not sandbox.is_terminal
        assert repr(sandbox) == "<Sandbox id='sb-1' name='one' phase=None>"
        assert sandbox.refresh().phase == StatusResponsePhase.RUNNING
        assert sandbox.phase.value == "running" and sandbox.phase == "running"


async def test_the_async_create_takes_a_202_too() -> None:
    script = Script(answer(202, {"id": "sb-1", "name": "one"}), answer(200, STATUS))
    async with async_porter_with(script) as porter:
        sandbox = await porter.sandboxes.create("python:3.12-slim")
        assert sandbox.phase is None
        assert (await sandbox.refresh()).phase.value == "running"  # type: ignore[union-attr]


def test_a_201_create_is_queued_as_the_contract_says() -> None:
    with porter_with(Script(answer(201, {"id": "sb-1", "name": "one"}))) as porter:
        assert porter.sandboxes.create("python:3.12-slim").phase == StatusResponsePhase.QUEUED


@pytest.mark.parametrize("status", [200, 201, 203])
def test_any_2xx_the_spec_does_not_list_is_read_as_the_operations_answer(status: int) -> None:
    script = Script(
        answer(status, {"id": "sb-1", "name": "one"}),
        answer(status, SNAPSHOT),
        answer(status, VOLUME),
    )
    with porter_with(script) as porter:
        assert porter.sandboxes.create("python:3.12-slim").id == "sb-1"
        assert porter.snapshots.create("sb-1").id == "snap-1"
        assert porter.volumes.create(name="data").id == "vol-1"


@pytest.mark.parametrize("status", [200, 202, 204])
def test_deletes_moves_and_writes_take_any_2xx(status: int) -> None:
    script = Script(answer(200, {"id": "vol-1"}), answer(200, VOLUME), answer(status))
    with porter_with(script) as porter:
        volume = porter.volumes.get("data")
        volume.write_file("/a", b"x")
        volume.move_file("/a", "/b")
        volume.delete()
        porter.snapshots.delete("snap-1")
    assert [request.method for request in script.requests] == ["GET", "GET", "PUT", "POST", "DELETE", "DELETE"]


def test_a_2xx_without_the_expected_body_says_so() -> None:
    with porter_with(Script(answer(200, {"unexpected": True}))) as porter, pytest.raises(SandboxError) as caught:
        porter.sandboxes.create("python:3.12-slim")
    assert "without the CreateResponse" in caught.value.message and caught.value.status_code == 200


def test_readiness_is_ready_on_any_2xx_and_not_on_a_503() -> None:
    script = Script(
        answer(203, {"status": "ready", "active_sandboxes": 2}),
        answer(503, {"status": "starting", "active_sandboxes": 0}),
        answer(503, {"error": "no"}),
    )
    with porter_with(script) as porter:
        assert porter.readiness().ready and porter.readiness().status == "starting"
        with pytest.raises(ServerError):
            porter.readiness()


def test_values_this_client_does_not_know_are_kept_not_refused() -> None:
    status = {**STATUS, "phase": "hibernating", "termination_reason": "moon_phase"}
    log = {"timestamp": "2026-01-01T00:00:00Z", "line": "hi", "level": "debug", "exec_id": ""}
    script = Script(
        answer(200, {"id": "sb-1"}),
        answer(200, status),
        answer(200, {"sandbox_id": "sb-1", "logs": [log]}),
        answer(200, {**SNAPSHOT, "mode": "memory", "status": "compressing"}),
    )
    with porter_with(script) as porter:
        sandbox = porter.sandboxes.get("sb-1")
        assert isinstance(sandbox.phase, StatusResponsePhase) and sandbox.phase.value == "hibernating"
        assert sandbox.phase == "hibernating" and f"{sandbox.phase}" == "hibernating" and not sandbox.is_terminal
        assert isinstance(sandbox.termination_reason, StatusResponseTerminationReason)
        assert sandbox.termination_reason.value == "moon_phase"
        assert sandbox.logs()[0].level.value == "debug"
        snapshot = porter.snapshots.create("sb-1")
        assert (snapshot.mode.value, snapshot.status.value) == ("memory", "compressing")
    with pytest.raises(ValueError, match="not a valid StatusResponsePhase"):
        StatusResponsePhase("hibernating")  # what a caller passes is checked


def _timeouts(script: Script) -> list[dict[str, Any]]:
    return [request.extensions["timeout"] for request in script.requests]


def test_exec_without_a_timeout_waits_as_long_as_the_command_runs() -> None:
    result = {"stdout": "", "stderr": "", "exit_code": 0}
    # A server without the extensions (as Porter's): a timeout then bounds the plain exec's wait.
    no_extensions = httpx.Response(404, text="404 page not found")
    script = Script(answer(200, {"id": "sb-1"}), answer(200, STATUS), answer(200, result), no_extensions)
    script.steps += [answer(200, result), answer(200, STATUS)]
    with porter_with(script, timeout=7) as porter:
        sandbox = porter.sandboxes.get("sb-1")
        sandbox.exec(["sleep", "60"])
        sandbox.exec(["sleep", "60"], timeout=90)
        sandbox.refresh()
    lookup, _, unbounded, _extension, bounded, refresh = _timeouts(script)
    assert unbounded == {"connect": 7, "read": None, "write": 7, "pool": 7}
    assert bounded == {"connect": 90, "read": 90, "write": 90, "pool": 90}
    assert lookup == refresh == {"connect": 7, "read": 7, "write": 7, "pool": 7}


async def test_the_async_exec_waits_as_long_as_the_command_runs_too() -> None:
    script = Script(answer(200, STATUS), answer(200, STATUS), answer(200, {"stdout": "", "stderr": "", "exit_code": 0}))
    async with async_porter_with(script, timeout=httpx.Timeout(7, connect=3)) as porter:
        await (await porter.sandboxes.get("sb-1")).exec(["sleep", "60"])
    assert _timeouts(script)[-1] == {"connect": 3, "read": None, "write": 7, "pool": 7}


def test_networking_and_egress_are_sent_as_porters_api_takes_them() -> None:
    from porter_sandbox import SandboxDomainSpec, SandboxEgressSpec, SandboxNetworkingSpec, SandboxResourcesSpec

    script = Script(answer(202, {"id": "sb-1", "name": "sb-1"}))
    with porter_with(script) as porter:
        porter.sandboxes.create(
            "python:3.12-slim",
            networking=[SandboxNetworkingSpec(port=8000, domains=[SandboxDomainSpec(visibility="private")])],
            egress=SandboxEgressSpec(allowed_destinations=["pypi.org", "*.example.com", "10.0.0.0/8"]),
            resources=SandboxResourcesSpec(cpu=2, memory="512Mi"),
            env_groups=["team"],
        )
    body = json.loads(script.requests[0].content)
    assert body["networking"] == [{"port": 8000, "domains": [{"visibility": "private"}]}]
    assert body["egress"] == {"allowed_destinations": ["pypi.org", "*.example.com", "10.0.0.0/8"]}
    assert body["resources"] == {"cpu": "2", "memory": "512Mi"} and body["env_groups"] == ["team"]


def test_a_status_error_made_by_hand_takes_its_classes_status() -> None:
    error = NotFoundError("no such sandbox")
    assert (error.status_code, error.message, str(error)) == (404, "no such sandbox", "404: no such sandbox")
    assert ServerError("down").status_code == 500


OBJECT_VOLUME = {
    **VOLUME,
    "id": "vol-2",
    "name": "bucket",
    "type": "object",
    "path": "",
    "object": {"bucket": "datasets", "prefix": "runs", "access": "read_only", "mode": "object"},
}


def test_an_object_volume_is_an_object_volume_handle_without_file_methods() -> None:
    script = Script(answer(201, OBJECT_VOLUME), answer(200, {"volumes": [VOLUME, OBJECT_VOLUME]}))
    script.steps.append(answer(200, {**OBJECT_VOLUME, "phase": "failed"}))
    with porter_with(script) as porter:
        spec = VolumeObjectSpec(bucket="datasets", prefix="runs", access="read_only")
        created = porter.volumes.create(name="bucket", type="object", object=spec)
        assert isinstance(created, ObjectVolume) and not hasattr(created, "write_file")
        assert created.object == VolumeObjectSpec(bucket="datasets", prefix="runs", access="read_only", mode="object")
        assert created.type.value == "object" and created.path == ""
        assert [type(volume) for volume in porter.volumes.list()] == [Volume, ObjectVolume]
        assert created.refresh() is created and created.phase == "failed"
    assert json.loads(script.requests[0].content) == {
        "name": "bucket",
        "type": "object",
        "object": {"bucket": "datasets", "prefix": "runs", "access": "read_only"},
    }


async def test_the_async_client_answers_object_volume_handles_too() -> None:
    async with async_porter_with(Script(answer(201, OBJECT_VOLUME))) as porter:
        created = await porter.volumes.create(object={"bucket": "datasets"})
        assert isinstance(created, AsyncObjectVolume) and created.object.bucket == "datasets"
