"""Sandboxes over real HTTP on the process runtime: phases, names, exec, delete, list, logs, counts."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx
from server_calls import TERMINAL, create, wait_for

from porter_sandbox.testing import LocalServer


def test_idle_sandbox_runs_until_deleted(api: httpx.Client, name: str) -> None:
    response = api.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "name": name, "tags": {"team": "a"}})
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == name
    assert created["id"].startswith("sb-")
    status = wait_for(api, created["id"], {"running"})
    assert status["image"] == "python:3.12-slim"
    assert status["tags"] == {"team": "a"}
    assert status["host"] == ""
    assert "started_at" in status and "termination_reason" not in status and "exit_code" not in status
    assert api.get("/v1/sandbox/lookup", params={"name": name}).json() == {"id": created["id"]}

    assert api.delete(f"/v1/sandbox/{created['id']}").status_code == 204
    status = api.get(f"/v1/sandbox/{created['id']}").json()
    assert status["phase"] == "terminated"
    assert status["termination_reason"] == "sdk"
    assert "finished_at" in status


def test_main_process_exit_codes(api: httpx.Client) -> None:
    ok = create(api, command=["sh", "-c", "echo done"])
    bad = create(api, command=["sh", "-c", "echo oops >&2; exit 3"])
    ok_status = wait_for(api, ok, TERMINAL)
    bad_status = wait_for(api, bad, TERMINAL)
    assert (ok_status["phase"], ok_status["exit_code"], ok_status["termination_reason"]) == (
        "succeeded",
        0,
        "workload_exited",
    )
    assert (bad_status["phase"], bad_status["exit_code"], bad_status["termination_reason"]) == (
        "failed",
        3,
        "workload_exited",
    )
    logs = api.get(f"/v1/sandbox/{bad}/logs").json()["logs"]
    assert {"line": "oops", "level": "error", "exec_id": ""}.items() <= logs[-1].items()


def test_args_follow_command(api: httpx.Client) -> None:
    sandbox_id = create(api, command=["sh", "-c", 'echo "$0 $1"'], args=["first", "second"])
    wait_for(api, sandbox_id, TERMINAL)
    lines = [entry["line"] for entry in api.get(f"/v1/sandbox/{sandbox_id}/logs").json()["logs"]]
    assert lines == ["first second"]


def test_launch_failure_is_failed_with_reason_and_log(api: httpx.Client) -> None:
    sandbox_id = create(api, command=["/no/such/program-here"])
    status = wait_for(api, sandbox_id, TERMINAL)
    assert status["phase"] == "failed"
    # A program that cannot start fails either at launch or as an exit (127), depending on the runtime.
    assert status["termination_reason"] in ("launch_failed", "workload_exited")
    assert api.get(f"/v1/sandbox/{sandbox_id}/logs").json()["logs"]
    exec_answer = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]})
    assert exec_answer.status_code == 409


def test_twenty_concurrent_creates_of_one_name_one_wins(api_server: LocalServer, name: str) -> None:
    def attempt(_: int) -> int:
        with httpx.Client(base_url=api_server.url, timeout=60) as client:
            return client.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "name": name}).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(attempt, range(20)))
    assert sorted(codes) == [201] + [409] * 19


def test_names_are_never_reused(api: httpx.Client, name: str) -> None:
    sandbox_id = create(api, name=name, command=["true"])
    wait_for(api, sandbox_id, TERMINAL)
    again = api.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "name": name})
    assert again.status_code == 409
    assert name in again.json()["error"]


def test_exec_answers(api: httpx.Client) -> None:
    sandbox_id = create(api)
    # Sent at once: waits for the sandbox to run.
    first = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", "echo hi; echo err >&2"]})
    assert first.status_code == 200
    assert first.json()["stdout"] == "hi\n"
    assert first.json()["stderr"] == "err\n"
    assert first.json()["exit_code"] == 0
    assert first.json()["exec_id"]

    failing = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", "exit 7"]})
    assert failing.status_code == 200 and failing.json()["exit_code"] == 7

    missing = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["no-such-program-xyz"]})
    assert missing.status_code == 200
    assert missing.json()["exit_code"] == 127
    assert missing.json()["stderr"]

    empty = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": []})
    assert empty.status_code == 400 and "command" in empty.json()["error"]

    logs = api.get(f"/v1/sandbox/{sandbox_id}/logs").json()["logs"]
    assert {"line": "hi", "level": "info", "exec_id": first.json()["exec_id"]}.items() <= logs[0].items()
    assert {"line": "err", "level": "error", "exec_id": first.json()["exec_id"]}.items() <= logs[1].items()

    api.delete(f"/v1/sandbox/{sandbox_id}")
    after = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]})
    assert after.status_code == 409 and "terminated" in after.json()["error"]


def test_exec_with_many_megabytes_of_output(api: httpx.Client) -> None:
    sandbox_id = create(api)
    size = 8 * 1024 * 1024
    script = f"import sys; sys.stdout.write(('x' * 1023 + chr(10)) * {size // 1024})"
    answer = api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["python3", "-c", script]})
    assert answer.status_code == 200
    assert len(answer.json()["stdout"]) == size
    # The server kept serving others meanwhile and still answers.
    assert api.get("/healthz").json() == {"status": "ok"}
    api.delete(f"/v1/sandbox/{sandbox_id}")


def test_delete_is_idempotent_and_records_source(api: httpx.Client) -> None:
    by_cli = create(api)
    by_dashboard = create(api)
    wait_for(api, by_cli, {"running"})
    assert api.delete(f"/v1/sandbox/{by_cli}", params={"source": "cli"}).status_code == 204
    assert api.delete(f"/v1/sandbox/{by_dashboard}", params={"source": "dashboard"}).status_code == 204
    assert api.delete(f"/v1/sandbox/{by_cli}").status_code == 204
    assert api.get(f"/v1/sandbox/{by_cli}").json()["termination_reason"] == "cli"
    assert api.get(f"/v1/sandbox/{by_dashboard}").json()["termination_reason"] == "dashboard"
    assert api.delete(f"/v1/sandbox/{by_cli}", params={"source": "nobody"}).status_code == 400
    assert api.delete("/v1/sandbox/sb-000000000000").status_code == 404


def test_list_filters_pages_and_filter_values(api: httpx.Client, name: str) -> None:
    marker = name
    ids = [
        create(api, name=f"{marker}-{index:02d}", image=f"img-{index % 2}", tags={"run": marker, "n": str(index)})
        for index in range(53)
    ]
    first = api.get("/v1/sandbox", params={"tag": f"run={marker}"}).json()
    assert [s["id"] for s in first["sandboxes"]] == ids[::-1][:50]
    assert first["pagination"] == {"current_page": 1, "total_pages": 2, "has_next_page": True}
    second = api.get("/v1/sandbox", params={"tag": f"run={marker}", "page": 2}).json()
    assert [s["id"] for s in second["sandboxes"]] == ids[::-1][50:]
    assert second["pagination"]["has_next_page"] is False
    assert "filter_values" not in second

    both_tags = api.get("/v1/sandbox", params=[("tag", f"run={marker}"), ("tag", "n=7")]).json()
    assert [s["id"] for s in both_tags["sandboxes"]] == [ids[7]]
    prefix = api.get("/v1/sandbox", params={"search": f"{marker}-1"}).json()
    assert sorted(s["id"] for s in prefix["sandboxes"]) == sorted(ids[10:20])
    image = api.get("/v1/sandbox", params={"search": marker, "image": "img-1"}).json()
    assert len(image["sandboxes"]) == 26

    api.delete(f"/v1/sandbox/{ids[0]}")
    terminated = api.get("/v1/sandbox", params=[("search", marker), ("phase", "terminated")]).json()
    assert [s["id"] for s in terminated["sandboxes"]] == [ids[0]]
    either = api.get(
        "/v1/sandbox", params=[("search", marker), ("phase", "terminated"), ("phase", "running"), ("phase", "queued")]
    ).json()
    assert len(either["sandboxes"]) == 50

    now = datetime.now(timezone.utc)
    future = api.get("/v1/sandbox", params={"search": marker, "start_time": (now + timedelta(hours=1)).isoformat()})
    assert future.json()["sandboxes"] == []
    window = api.get(
        "/v1/sandbox",
        params={
            "search": marker,
            "start_time": (now - timedelta(hours=1)).isoformat(),
            "end_time": now.isoformat().replace("+00:00", "Z"),
        },
    )
    assert len(window.json()["sandboxes"]) == 50

    values = api.get("/v1/sandbox", params={"search": marker, "include_filter_values": "true"}).json()["filter_values"]
    assert f"run={marker}" in values["tags"]
    assert {"img-0", "img-1"} <= set(values["images"])
    # Every phase the filter takes, whether or not a sandbox is in it now.
    assert values["phases"] == ["queued", "creating", "running", "succeeded", "failed", "terminated"]
    for sandbox_id in ids[1:]:
        api.delete(f"/v1/sandbox/{sandbox_id}")


def test_logs_limit_and_since(api: httpx.Client) -> None:
    sandbox_id = create(api, command=["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done"])
    wait_for(api, sandbox_id, TERMINAL)
    logs = api.get(f"/v1/sandbox/{sandbox_id}/logs").json()
    assert logs["sandbox_id"] == sandbox_id
    assert [entry["line"] for entry in logs["logs"]] == [f"line{i}" for i in range(1, 6)]
    limited = api.get(f"/v1/sandbox/{sandbox_id}/logs", params={"limit": 2}).json()["logs"]
    assert [entry["line"] for entry in limited] == ["line4", "line5"]
    assert len(api.get(f"/v1/sandbox/{sandbox_id}/logs", params={"since": "5m"}).json()["logs"]) == 5
    future = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    assert api.get(f"/v1/sandbox/{sandbox_id}/logs", params={"since": future}).json()["logs"] == []
    bad = api.get(f"/v1/sandbox/{sandbox_id}/logs", params={"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()["error"]
    assert api.get("/v1/sandbox/sb-000000000000/logs").status_code == 404


def test_readyz_counts_live_sandboxes(api: httpx.Client) -> None:
    before = api.get("/readyz")
    assert before.status_code == 200 and before.json()["status"] == "ready"
    sandbox_id = create(api)
    assert api.get("/readyz").json()["active_sandboxes"] == before.json()["active_sandboxes"] + 1
    api.delete(f"/v1/sandbox/{sandbox_id}")
    assert api.get("/readyz").json()["active_sandboxes"] == before.json()["active_sandboxes"]


def test_counts_buckets_without_gaps(api: httpx.Client, name: str) -> None:
    ids = [create(api, name=f"{name}-{index}", tags={"counted": name}) for index in range(3)]
    now = datetime.now(timezone.utc)
    answer = api.get(
        "/v1/sandbox/counts",
        params={
            "tag": f"counted={name}",
            "start_time": (now - timedelta(hours=1)).isoformat(),
            "end_time": (now + timedelta(seconds=5)).isoformat(),
        },
    ).json()
    granularity = answer["granularity_ms"]
    points = answer["points"]
    assert granularity > 0
    stamps = [datetime.fromisoformat(point["timestamp"]) for point in points]
    assert all(b - a == timedelta(milliseconds=granularity) for a, b in itertools.pairwise(stamps))
    assert sum(point["count"] for point in points) == 3
    assert stamps[0] <= now - timedelta(hours=1) < stamps[0] + timedelta(milliseconds=granularity)

    default_window = api.get("/v1/sandbox/counts", params={"tag": f"counted={name}"}).json()
    assert sum(point["count"] for point in default_window["points"]) == 3
    all_time = api.get(
        "/v1/sandbox/counts", params={"start_time": "0001-01-01T00:00:00Z", "end_time": "9999-12-31T23:59:59Z"}
    )
    assert all_time.status_code == 200 and sum(point["count"] for point in all_time.json()["points"]) >= 3
    backwards = api.get(
        "/v1/sandbox/counts", params={"start_time": now.isoformat(), "end_time": (now - timedelta(hours=1)).isoformat()}
    )
    assert backwards.status_code == 200 and backwards.json()["points"] == []
    for sandbox_id in ids:
        api.delete(f"/v1/sandbox/{sandbox_id}")


def test_ttl_terminates_about_a_second_after_running(api: httpx.Client) -> None:
    sandbox_id = create(api, ttl_seconds=1)
    status = wait_for(api, sandbox_id, TERMINAL, timeout=15)
    assert status["phase"] == "terminated"
    assert status["termination_reason"] == "ttl_expired"
    lived = datetime.fromisoformat(status["finished_at"]) - datetime.fromisoformat(status["started_at"])
    assert timedelta(seconds=1) <= lived < timedelta(seconds=3)


def test_resources_are_checked(api: httpx.Client) -> None:
    sandbox_id = create(api, resources={"cpu": "500m", "memory": "256Mi"})
    assert api.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["true"]}).json()["exit_code"] == 0
    api.delete(f"/v1/sandbox/{sandbox_id}")
    for resources, word in [({"cpu": "lots"}, "cpu"), ({"memory": "12Zi"}, "memory"), ({"cpu": "0.0001"}, "cpu")]:
        answer = api.post("/v1/sandbox/run", json={"image": "x", "resources": resources})
        assert answer.status_code == 400, resources
        assert word in answer.json()["error"]
