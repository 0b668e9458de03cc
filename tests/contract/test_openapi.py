"""openapi.yaml is a valid contract, holds every operation of the API, and the
generated models carry the contract's examples unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from openapi_spec_validator import validate
from porter_sandbox_api.models import ExecResponse, LogsResponse, SandboxPhase, StatusResponse, Volume

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return loaded


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


OPERATIONS = {
    "health_check": ("get", "/healthz", "healthz"),
    "readiness_check": ("get", "/readyz", "readyz"),
    "list_sandboxes": ("get", "/v1/sandbox", "sandboxes"),
    "sandbox_counts": ("get", "/v1/sandbox/counts", "sandboxes"),
    "create_sandbox": ("post", "/v1/sandbox/run", "sandboxes"),
    "lookup_sandbox": ("get", "/v1/sandbox/lookup", "sandboxes"),
    "get_sandbox": ("get", "/v1/sandbox/{id}", "sandboxes"),
    "delete_sandbox": ("delete", "/v1/sandbox/{id}", "sandboxes"),
    "get_sandbox_logs": ("get", "/v1/sandbox/{id}/logs", "sandboxes"),
    "exec_sandbox": ("post", "/v1/sandbox/{id}/exec", "sandboxes"),
    "list_volumes": ("get", "/v1/volume", "volumes"),
    "create_volume": ("post", "/v1/volume", "volumes"),
    "lookup_volume": ("get", "/v1/volume/lookup", "volumes"),
    "get_volume": ("get", "/v1/volume/{id}", "volumes"),
    "delete_volume": ("delete", "/v1/volume/{id}", "volumes"),
    "list_volume_files": ("get", "/v1/volume/{id}/files", "volumes"),
    "read_volume_file": ("get", "/v1/volume/{id}/files/content", "volumes"),
    "write_volume_file": ("put", "/v1/volume/{id}/files/content", "volumes"),
    "move_volume_file": ("post", "/v1/volume/{id}/files/move", "volumes"),
    "get_sandbox_metrics_summary": ("get", "/v1/sandbox/{id}/metrics-summary", "sandboxes"),
    "get_sandbox_metrics": ("get", "/v1/sandbox/{id}/metrics", "sandboxes"),
    "create_snapshot": ("post", "/v1/sandbox/{id}/snapshot", "snapshots"),
    "list_snapshots": ("get", "/v1/snapshot", "snapshots"),
    "get_snapshot": ("get", "/v1/snapshot/{id}", "snapshots"),
    "delete_snapshot": ("delete", "/v1/snapshot/{id}", "snapshots"),
}

#: Our own extensions: under /x/, where Porter's API has no paths, each marked as an extension.
EXTENSIONS = {
    "get_capabilities": ("get", "/x/v1/capabilities", "extensions"),
    "exec_with_options": ("post", "/x/v1/sandbox/{id}/exec", "extensions"),
    "exec_stream": ("post", "/x/v1/sandbox/{id}/exec/stream", "extensions"),
    "list_processes": ("get", "/x/v1/sandbox/{id}/processes", "extensions"),
    "start_process": ("post", "/x/v1/sandbox/{id}/processes", "extensions"),
    "get_process": ("get", "/x/v1/sandbox/{id}/processes/{process_id}", "extensions"),
    "delete_process": ("delete", "/x/v1/sandbox/{id}/processes/{process_id}", "extensions"),
    "wait_process": ("get", "/x/v1/sandbox/{id}/processes/{process_id}/wait", "extensions"),
    "kill_process": ("post", "/x/v1/sandbox/{id}/processes/{process_id}/kill", "extensions"),
    "write_process_stdin": ("post", "/x/v1/sandbox/{id}/processes/{process_id}/stdin", "extensions"),
    "read_process_output": ("get", "/x/v1/sandbox/{id}/processes/{process_id}/output", "extensions"),
    "follow_sandbox_logs": ("get", "/x/v1/sandbox/{id}/logs/follow", "extensions"),
    "open_terminal": ("get", "/x/v1/sandbox/{id}/terminal", "extensions"),
}


def all_operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, list[str], dict[str, Any]]]:
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch"}:
                found[operation["operationId"]] = (method, path, operation["tags"], operation)
    return found


def test_every_operation_has_its_published_id_path_method_and_tag(spec: dict[str, Any]) -> None:
    found = all_operations(spec)
    assert set(found) == set(OPERATIONS) | set(EXTENSIONS)
    for operation_id, (method, path, tag) in {**OPERATIONS, **EXTENSIONS}.items():
        assert found[operation_id][:3] == (method, path, [tag]), operation_id


def test_extensions_are_marked_and_live_where_porters_api_has_no_paths(spec: dict[str, Any]) -> None:
    for operation_id, (_method, path, _tags, operation) in all_operations(spec).items():
        extension = operation_id in EXTENSIONS
        assert operation.get("x-porter-sandbox-extension", False) is extension, operation_id
        assert path.startswith("/x/") is extension, operation_id
        if extension:
            assert operation["description"].startswith("An extension of this server, not part of Porter's API")
    assert "/x/" in next(tag["description"] for tag in spec["tags"] if tag["name"] == "extensions")


def test_every_operation_documents_its_errors_and_has_a_description(spec: dict[str, Any]) -> None:
    for operation_id, (_, _, _, operation) in all_operations(spec).items():
        assert operation.get("description"), operation_id
        codes = set(operation["responses"])
        # A WebSocket's success is its upgrade (101).
        assert any(code.startswith("2") or code == "101" for code in codes), operation_id
        assert "500" in codes, operation_id
        if operation_id not in {"health_check", "readiness_check"}:
            assert {"401", "429", "503"} <= codes, operation_id
            assert operation.get("security") is None, operation_id
        else:
            assert operation["security"] == [], operation_id


def test_every_schema_field_is_described(spec: dict[str, Any]) -> None:
    for name, schema in spec["components"]["schemas"].items():
        assert schema.get("description"), name
        for field, prop in schema.get("properties", {}).items():
            described = prop.get("description") or "$ref" in prop
            assert described, f"{name}.{field}"


def test_enums_are_the_contracts(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["SandboxPhase"]["enum"] == ["queued", "creating", "running", "succeeded", "failed", "terminated"]
    assert schemas["TerminationReason"]["enum"] == [
        "dashboard",
        "cli",
        "sdk",
        "ttl_expired",
        "workload_exited",
        "backend_lost",
        "launch_failed",
        "user_terminated",
    ]
    assert schemas["VolumeType"]["enum"] == ["disk", "object"]
    assert schemas["VolumePhase"]["enum"] == ["pending", "ready", "failed"]
    assert schemas["LogLevel"]["enum"] == ["info", "warning", "error"]
    assert schemas["Name"]["pattern"] == "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(?![\\s\\S])"


@pytest.mark.parametrize("schema", ["Name", "Resources.cpu", "Resources.memory"])
def test_patterns_hold_for_the_whole_string_even_in_pythons_regex(spec: dict[str, Any], schema: str) -> None:
    # jsonschema matches with Python's re.search, where `$` also matches before a final newline.
    name, _, field = schema.partition(".")
    node = spec["components"]["schemas"][name]
    node = node["properties"][field] if field else node
    valid = {"Name": "my-sandbox-1", "Resources.cpu": "500m", "Resources.memory": "512Mi"}[schema]
    validator = Draft7Validator(node)
    assert validator.is_valid(valid)
    for bad in [valid + "\n", valid + "\r\n", "\n" + valid, valid + "\nx"]:
        assert not validator.is_valid(bad), repr(bad)


# Examples in the shape of the contract's answers: each must survive from_dict -> to_dict unchanged.
STATUS = {
    "id": "sb-3f9a1c2e",
    "name": "my-sandbox",
    "image": "python:3.12-slim",
    "tags": {"workflow": "demo"},
    "phase": "succeeded",
    "exit_code": 0,
    "created_at": "2026-11-26T10:00:00+00:00",
    "started_at": "2026-11-26T10:00:01.250000+00:00",
    "finished_at": "2026-11-26T10:00:05+00:00",
    "termination_reason": "workload_exited",
    "host": "",
    "internal_address": "10.0.0.12",
    "volume_mounts": {"/data": "vol-1234"},
    "exec_target": {"namespace": "sandboxes", "pod_name": "sb-3f9a1c2e", "container_name": "sandbox"},
}
VOLUME = {
    "id": "vol-1234",
    "name": "my-data",
    "type": "disk",
    "path": "volumes/vol-1234",
    "phase": "ready",
    "attached_to": ["sb-3f9a1c2e"],
    "created_at": "2026-11-26T09:59:00+00:00",
}
LOGS = {
    "sandbox_id": "sb-3f9a1c2e",
    "logs": [
        {"timestamp": "2026-11-26T10:00:02+00:00", "line": "hi", "level": "info", "exec_id": ""},
        {"timestamp": "2026-11-26T10:00:03+00:00", "line": "oops", "level": "error", "exec_id": "ex-77"},
    ],
}
EXEC = {"stdout": "hi\n", "stderr": "", "exit_code": 0, "exec_id": "ex-77"}


@pytest.mark.parametrize(
    ("model", "example"),
    [(StatusResponse, STATUS), (Volume, VOLUME), (LogsResponse, LOGS), (ExecResponse, EXEC)],
    ids=["StatusResponse", "Volume", "LogsResponse", "ExecResponse"],
)
def test_contract_examples_round_trip_through_generated_models(model: Any, example: dict[str, Any]) -> None:
    assert model.from_dict(example).to_dict() == example


def test_unknown_enum_values_and_extra_fields_parse() -> None:
    newer = dict(STATUS, phase="hibernating", termination_reason="evicted", gpu="a100")
    parsed = StatusResponse.from_dict(newer)
    assert parsed.phase == "hibernating"
    assert parsed.termination_reason == "evicted"
    assert parsed.additional_properties == {"gpu": "a100"}
    assert parsed.to_dict() == newer

    known = StatusResponse.from_dict(STATUS)
    assert known.phase is SandboxPhase.SUCCEEDED

    volume = Volume.from_dict(dict(VOLUME, type="nfs", phase="resizing"))
    assert (volume.type_, volume.phase) == ("nfs", "resizing")
    logs = LogsResponse.from_dict({"sandbox_id": "x", "logs": [dict(LOGS["logs"][0], level="debug")]})
    assert logs.logs[0].level == "debug"


# Porter's published client accepts any 2xx; a cluster answers create with 202 and
# deletes with 200, so the spec (and so the generated client) must say each is a success.
CREATES = {"create_sandbox", "create_volume", "create_snapshot"}
BODYLESS = {"delete_sandbox", "delete_volume", "delete_snapshot", "write_volume_file", "move_volume_file"}


def test_creates_accept_201_and_202_and_bodyless_answers_200_and_204(spec: dict[str, Any]) -> None:
    for operation_id, (_, _, _, operation) in all_operations(spec).items():
        successes = {code for code in operation["responses"] if code.startswith("2")}
        if operation_id in CREATES:
            assert {"201", "202"} <= successes, operation_id
            schemas = {str(operation["responses"][code]["content"]["application/json"]["schema"]) for code in successes}
            assert len(schemas) == 1, f"{operation_id}: every 2xx carries the same body"
        elif operation_id in BODYLESS:
            assert successes == {"200", "204"}, operation_id
            assert all("content" not in operation["responses"][code] for code in successes), operation_id


def test_fields_porters_client_requires_are_required(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas["ReadyResponse"]["required"]) == {"status", "active_sandboxes"}
    assert set(schemas["FilterValues"]["required"]) == {"tags", "images", "phases"}
    assert set(schemas["MetricSummaryResponse"]["required"]) == set(schemas["MetricSummaryResponse"]["properties"])
    assert set(schemas["Snapshot"]["required"]) == {"id", "sandbox_id", "mode", "status"}
    assert schemas["VolumeObjectSpec"]["required"] == ["bucket"]
    assert "minLength" not in schemas["SandboxSpec"]["properties"]["image"], "image is empty with snapshot_id"


def test_s3_enums_are_the_published_clients(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["SnapshotMode"]["enum"] == ["filesystem", "full"]
    assert schemas["SnapshotStatus"]["enum"] == ["pending", "ready", "failed"]
    assert schemas["SandboxMetric"]["enum"] == [
        "cpu_usage",
        "cpu_reserved",
        "memory_usage",
        "memory_reserved",
        "network_rx",
        "network_tx",
    ]
    assert schemas["VolumeObjectSpecAccess"]["enum"] == ["read_write", "read_only", "write_only_new_files"]
    assert schemas["VolumeObjectSpecMode"]["enum"] == ["object", "filesystem"]


SNAPSHOT = {
    "id": "snap-1a2b3c4d5e6f",
    "sandbox_id": "sb-3f9a1c2e",
    "mode": "filesystem",
    "status": "ready",
    "t_created_unix_ms": 1795687200000,
    "t_ready_unix_ms": 1795687201250,
    "size_bytes": 104857600,
}
SUMMARY = {
    "window_seconds": 3600,
    "has_data": True,
    "cpu_cores_p50": 0.25,
    "cpu_cores_p90": 0.9,
    "cpu_limit_cores": 1.0,
    "cpu_util_p50_pct": 25.0,
    "cpu_util_p90_pct": 90.0,
    "mem_bytes_p50": 52428800,
    "mem_bytes_p90": 62914560,
    "mem_limit_bytes": 268435456,
    "mem_util_p50_pct": 19.53125,
    "mem_util_p90_pct": 23.4375,
}
SERIES = {
    "results": [
        {
            "series": [
                {
                    "labels": {"sandbox_id": "sb-3f9a1c2e", "metric": "cpu_usage"},
                    "unit": "cores",
                    "time_series": [{"timestamp_utc": "2026-11-26T10:00:00Z", "value": 0.5}],
                }
            ]
        }
    ]
}
OBJECT_VOLUME = dict(
    VOLUME,
    type="object",
    path="",
    object={"bucket": "datasets", "prefix": "runs/7", "access": "read_only", "mode": "object"},
)


@pytest.mark.parametrize(
    ("name", "example"),
    [
        ("Snapshot", SNAPSHOT),
        ("MetricSummaryResponse", SUMMARY),
        ("SandboxMetricsResponse", SERIES),
        ("Volume", OBJECT_VOLUME),
    ],
)
def test_s3_examples_round_trip_through_generated_models(name: str, example: dict[str, Any]) -> None:
    from porter_sandbox_api import models

    assert getattr(models, name).from_dict(example).to_dict() == example


def test_unknown_s3_enum_values_parse() -> None:
    from porter_sandbox_api.models import Snapshot, SnapshotStatus

    newer = Snapshot.from_dict(dict(SNAPSHOT, mode="memory-only", status="expired"))
    assert (newer.mode, newer.status) == ("memory-only", "expired")
    assert Snapshot.from_dict(SNAPSHOT).status is SnapshotStatus.READY
