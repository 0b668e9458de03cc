"""The Kubernetes runtime's reading of a pod's timestamped log: every line once, in any stamp order."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("kubernetes_asyncio")

from runtime_events import Recorder

from porter_sandbox_server.runtimes.kubernetes.runtime import KubernetesRuntime, _Pod
from porter_sandbox_server.runtimes.lines import LineSplitter


def _reader(tmp_path: Path) -> tuple[KubernetesRuntime, _Pod, Recorder]:
    runtime = KubernetesRuntime(tmp_path)
    recorder = Recorder()
    runtime._events = recorder
    return runtime, _Pod("sbx-1", "pod-1", {}, None), recorder


def _feed(runtime: KubernetesRuntime, entry: _Pod, lines: list[str]) -> None:
    """One read of the log, as the API returns it (``<RFC 3339 stamp> <line>``)."""
    splitter = LineSplitter()
    for line in lines:
        runtime._log_line(entry, line.encode(), splitter)


def test_a_line_stamped_before_one_already_read_is_reported(tmp_path: Path) -> None:
    # The engine copies stdout and stderr separately: a stderr line can come after a later stdout one.
    runtime, entry, recorder = _reader(tmp_path)
    _feed(runtime, entry, ["2026-01-02T03:04:05.000000200Z out", "2026-01-02T03:04:05.000000100Z oops"])
    assert recorder.of("sbx-1", "", "stdout") == ["out", "oops"]


def test_a_resumed_read_reports_only_what_is_new(tmp_path: Path) -> None:
    runtime, entry, recorder = _reader(tmp_path)
    first = ["2026-01-02T03:04:04.9Z a", "2026-01-02T03:04:05.2Z b", "2026-01-02T03:04:05.1Z c"]
    _feed(runtime, entry, first)
    # Resumed from the whole second of the last stamp: that second comes again, with a line not seen yet.
    _feed(runtime, entry, [*first[1:], "2026-01-02T03:04:05.15Z d", "2026-01-02T03:04:06.5Z e"])
    _feed(runtime, entry, ["2026-01-02T03:04:06.5Z e", "2026-01-02T03:04:06.5Z f"])
    assert recorder.of("sbx-1", "", "stdout") == ["a", "b", "c", "d", "e", "f"]


def test_lines_from_before_an_adoption_are_not_reported_again(tmp_path: Path) -> None:
    runtime, entry, recorder = _reader(tmp_path)
    entry.last_stamp = entry.report_from = 1_767_323_045_500_000_000  # 2026-01-02T03:04:05.5Z
    _feed(runtime, entry, ["2026-01-02T03:04:05.4Z old", "2026-01-02T03:04:05.6Z new"])
    assert recorder.of("sbx-1", "", "stdout") == ["new"]
