"""`make bench` keeps working: its quick mode runs end to end and reports every row.

This asserts that each measure was taken (or, for Docker without an engine,
skipped with a reason), never how fast anything was: speed is for the
benchmark's own table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from runtimes import bwrap_available

ROOT = Path(__file__).resolve().parents[1]

SDK_ROWS = [
    f"{row}_{mode}_{what}"
    for mode in ("sync", "async")
    for row, what in (
        ("sdk", "refresh"),
        ("porter", "refresh"),
        ("raw", "get"),
        ("sdk", "vs_porter"),
        ("sdk", "overhead"),
    )
]
#: The rows that need Porter's published client (from PyPI; CI has it).
PORTER_ROWS = [row for row in SDK_ROWS if row.startswith("porter_") or row.endswith("_vs_porter")]
IMPORT_ROWS = ["import", "import_limit"]
RUNTIME_ROWS = [
    "first_command",
    "create_to_running",
    "exec_round_trip",
    "limit_launch",
    "limit_exec",
    "fan_out",
    "stream_first_byte",
    "stream_throughput",
]
PROCESS_ROWS = [f"process_{name}" for name in RUNTIME_ROWS]
# The docker runtime's pooled row comes after its fan-out.
DOCKER_ROWS = [f"docker_{name}" for name in RUNTIME_ROWS]
DOCKER_ROWS.insert(DOCKER_ROWS.index("docker_fan_out") + 1, "docker_pool_first_command")
SNAPSHOT_ROWS = ["snapshot_ready", "snapshot_first_command", "snapshot_limit"]
PROCESS_SNAPSHOT_ROWS = [f"process_{name}" for name in SNAPSHOT_ROWS]
DOCKER_SNAPSHOT_ROWS = [f"docker_{name}" for name in SNAPSHOT_ROWS]
FLOOD_ROWS = ["process_flood_healthz", "process_flood_memory"]
NETWORK_ROWS = ["process_network_first_command", "process_proxy_added_latency"]
POOL_ROWS = ["process_pool_first_command", "process_pool_network_first_command"]
SCALE_ROWS = [
    "process_scale_fan_out",
    "process_scale_fan_out_floor",
    "process_scale_fan_out_network_floor",
    "process_scale_linear",
    "process_scale_idle_pss",
    "process_scale_idle_pss_floor",
    "process_scale_idle_api",
    "process_scale_idle_api_floor",
]
# The kubernetes runtime has no fan-out row, and no streamed execs yet (it answers them 501).
KUBE_ROWS = [f"kubernetes_{name}" for name in RUNTIME_ROWS if name != "fan_out" and not name.startswith("stream_")]
EVERY_ROW = [
    *IMPORT_ROWS,
    *SDK_ROWS,
    *PROCESS_ROWS,
    *FLOOD_ROWS,
    *NETWORK_ROWS,
    *POOL_ROWS,
    *SCALE_ROWS,
    *PROCESS_SNAPSHOT_ROWS,
    *DOCKER_SNAPSHOT_ROWS,
    "process_metrics_sampling",
    "docker_metrics_sampling",
    *DOCKER_ROWS,
    *KUBE_ROWS,
]


def test_quick_bench_reports_every_row(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=480,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]

    report = json.loads(output.read_text())
    rows = {row["id"]: row for row in report["rows"]}
    assert list(rows) == EVERY_ROW
    assert report["quick"] is True

    measured = [
        *IMPORT_ROWS,
        *SDK_ROWS,
        *PROCESS_ROWS,
        *FLOOD_ROWS,
        *SCALE_ROWS,
        *PROCESS_SNAPSHOT_ROWS,
        "process_metrics_sampling",
    ]
    # Porter's published client is measured, or skipped for want of PyPI; CI, which has it, wants it measured.
    if (
        os.environ.get("PORTER_SANDBOX_REQUIRE_BWRAP", "") in ("", "0", "false")
        and rows["porter_sync_refresh"]["skipped"]
    ):
        for row_id in PORTER_ROWS:
            assert "PyPI" in rows[row_id]["skipped"], f"{row_id} neither measured nor skipped for want of PyPI"
            measured.remove(row_id)
    if not bwrap_available():
        measured.remove("process_limit_launch")  # the bare bwrap launches need bubblewrap
        measured.remove("process_scale_fan_out_floor")
    # The networked launch floor needs what a root server's sandbox networks need.
    if not (bwrap_available() and os.geteuid() == 0 and shutil.which("slirp4netns")):
        measured.remove("process_scale_fan_out_network_floor")
        assert rows["process_scale_fan_out_network_floor"]["skipped"], (
            "the networked floor neither measured nor skipped"
        )
    # The pool needs a root server with bubblewrap (a row's samples are creates a pooled sandbox served).
    if bwrap_available() and os.geteuid() == 0:
        measured += POOL_ROWS
    else:
        for row_id in POOL_ROWS:
            assert "root server" in rows[row_id]["skipped"], rows[row_id]["skipped"]
    # Docker rows are all measured or all skipped with the reason (no engine); CI demanding Docker wants them.
    if (
        os.environ.get("PORTER_SANDBOX_REQUIRE_DOCKER", "") not in ("", "0", "false")
        or not rows["docker_fan_out"]["skipped"]
    ):
        measured += [*DOCKER_ROWS, *DOCKER_SNAPSHOT_ROWS, "docker_metrics_sampling"]
    else:
        for row_id in [*DOCKER_ROWS, *DOCKER_SNAPSHOT_ROWS, "docker_metrics_sampling"]:
            assert "engine" in rows[row_id]["skipped"], f"{row_id} neither measured nor skipped for want of an engine"
    # The same for the Kubernetes rows (but a bare pod's start, which is never measured).
    if (
        os.environ.get("PORTER_SANDBOX_REQUIRE_KUBERNETES", "") not in ("", "0", "false")
        or not rows["kubernetes_first_command"]["skipped"]
    ):
        measured += [row_id for row_id in KUBE_ROWS if row_id != "kubernetes_limit_launch"]
    else:
        for row_id in KUBE_ROWS:
            assert "cluster" in rows[row_id]["skipped"], f"{row_id} neither measured nor skipped for want of a cluster"
    for row_id in measured:
        row = rows[row_id]
        assert not row["skipped"], f"{row_id} skipped: {row['skipped']}"
        assert row["n"] >= 1 and row["median"] is not None and row["p95"] is not None, row_id

    # Fan-outs must not have failed a single sandbox, nor the idle ones a create.
    assert rows["process_scale_idle_pss"]["note"].startswith("failures 0/"), rows["process_scale_idle_pss"]["note"]
    for row_id in ("process_fan_out", "process_scale_fan_out", "docker_fan_out"):
        if row_id in measured:
            assert rows[row_id]["note"].startswith("failures 0/"), rows[row_id]["note"]

    # The table on stdout carries a line for every row, with its target column.
    table = completed.stdout
    assert "\n| measure | median | p95 | n | target | met | note |\n" in table
    for row in report["rows"]:
        assert f"| {row['label']} |" in table, row["id"]
