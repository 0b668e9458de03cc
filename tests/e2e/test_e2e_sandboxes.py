"""The SDK reference's examples, run with ``Porter`` against a real local server over HTTP.

Commands go through ``sh`` so that the same test runs on every runtime
(the process runtime runs host programs; the Docker one runs a busybox image).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from porter_sandbox import (
    TERMINAL_PHASES,
    CommandError,
    ConflictError,
    ExecResult,
    Health,
    InvalidNameError,
    NotFoundError,
    Porter,
    Readiness,
    Sandbox,
    SandboxEndedError,
    SandboxError,
    SandboxPage,
    SandboxTimeoutError,
)


def sh(script: str) -> list[str]:
    """A shell command line, as an exec or a sandbox's command."""
    return ["sh", "-c", script]


class CountingTransport(httpx.HTTPTransport):
    """The real network transport, counting the requests that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return super().handle_request(request)


def test_the_reference_example(porter: Porter, server: Any, unique_name: str) -> None:
    sandbox = porter.sandboxes.create(
        image=server.image,
        name=unique_name,
        command=None,
        args=None,
        env=None,
        tags={"workflow": unique_name},
        volume_mounts=None,
    )
    assert isinstance(sandbox, Sandbox)
    assert (sandbox.name, sandbox.tags) == (unique_name, {"workflow": unique_name})
    assert sandbox.phase == "queued"

    sandbox = porter.sandboxes.get(unique_name)
    assert sandbox.name == unique_name and sandbox.created_at is not None
    sandboxes = porter.sandboxes.list(tags={"workflow": unique_name}, page=1)
    assert isinstance(sandboxes, SandboxPage)
    assert [s.id for s in sandboxes] == [sandbox.id]

    status = sandbox.refresh()
    assert status.phase in ("queued", "creating", "running")
    result = sandbox.exec(sh("echo hi; echo oops >&2; exit 0"))
    assert isinstance(result, ExecResult)
    assert (result.stdout, result.stderr, result.exit_code) == ("hi\n", "oops\n", 0)
    assert result.exec_id

    logs = sandbox.logs(since=None, limit=100)
    lines = [(line.line, line.level, line.exec_id) for line in logs]
    assert ("hi", "info", result.exec_id) in lines
    assert ("oops", "error", result.exec_id) in lines

    sandbox.terminate()
    assert sandbox.phase == "terminated"
    assert sandbox.termination_reason == "sdk"
    assert porter.sandboxes.get(sandbox.id).phase == "terminated"
    assert "oops" in [line.line for line in sandbox.logs()]  # logs outlive the sandbox


def test_a_handle_shows_its_id_name_and_phase(porter: Porter, server: Any, unique_name: str) -> None:
    with porter.sandboxes.create(image=server.image, name=unique_name) as sandbox:
        assert repr(sandbox) == f"<Sandbox id={sandbox.id!r} name={unique_name!r} phase='queued'>"
        assert sandbox.wait("running") is sandbox
        assert repr(sandbox) == f"<Sandbox id={sandbox.id!r} name={unique_name!r} phase='running'>"
        assert porter.sandboxes.get(sandbox.id) == sandbox


def test_a_sandbox_without_a_name_is_named_after_its_id_and_found_by_it(porter: Porter, server: Any) -> None:
    with porter.sandboxes.create(image=server.image) as sandbox:
        assert sandbox.name == sandbox.id
        assert porter.sandboxes.get(sandbox.id).id == sandbox.id


def test_exec_reports_failures_and_check_raises_with_the_output(porter: Porter, server: Any) -> None:
    with porter.sandboxes.create(image=server.image) as sandbox:
        failed = sandbox.exec(sh("echo partial; echo 'it broke' >&2; exit 3"))
        assert (failed.exit_code, failed.stdout, failed.stderr) == (3, "partial\n", "it broke\n")
        assert not failed.ok
        with pytest.raises(CommandError) as caught:
            sandbox.exec(sh("echo partial; echo 'it broke' >&2; exit 3"), check=True)
        assert (caught.value.exit_code, caught.value.stdout, caught.value.stderr) == (3, "partial\n", "it broke\n")
        with pytest.raises(CommandError):
            failed.check()
        assert sandbox.exec(sh("exit 0"), check=True).exit_code == 0
        missing = sandbox.exec(["no-such-program-here"])
        assert missing.exit_code == 127 and missing.stderr


def test_exec_timeout_is_per_call_and_raises_a_timeout_error(porter: Porter, server: Any) -> None:
    with porter.sandboxes.create(image=server.image) as sandbox:
        sandbox.wait("running")
        with pytest.raises(SandboxTimeoutError):
            sandbox.exec(["sleep", "30"], timeout=0.5)
        assert sandbox.exec(sh("echo still here"), timeout=30).stdout == "still here\n"


def test_environment_command_and_args(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(
        image=server.image, command=["sh", "-c"], args=['echo "$GREETING from main"; exit 0'], env={"GREETING": "hello"}
    )
    sandbox.wait("succeeded")
    assert sandbox.exit_code == 0
    assert "hello from main" in [line.line for line in sandbox.logs()]


def test_the_context_manager_terminates_on_exit_and_on_exception(porter: Porter, server: Any) -> None:
    with porter.sandboxes.create(image=server.image) as sandbox:
        sandbox.wait("running")
    assert sandbox.phase == "terminated"

    with pytest.raises(RuntimeError, match="the block failed"), porter.sandboxes.create(image=server.image) as doomed:
        doomed.wait("running")
        raise RuntimeError("the block failed")
    assert porter.sandboxes.get(doomed.id).phase == "terminated"


def test_wait_for_running_then_terminal(porter: Porter, server: Any) -> None:
    quick = porter.sandboxes.create(image=server.image, command=sh("exit 0"))
    assert quick.wait("terminal", timeout=server.start_timeout).phase == "succeeded"
    assert quick.is_terminal and quick.phase in TERMINAL_PHASES
    assert quick.exit_code == 0 and quick.finished_at is not None

    failing = porter.sandboxes.create(image=server.image, command=sh("exit 7"))
    with pytest.raises(SandboxEndedError) as caught:
        failing.wait("succeeded", timeout=server.start_timeout)
    assert caught.value.phase == "failed" and failing.exit_code == 7

    with porter.sandboxes.create(image=server.image) as idle:
        assert idle.wait("running").phase == "running"
        with pytest.raises(SandboxTimeoutError):
            idle.wait("terminal", timeout=0.3)


def test_a_name_is_never_reused_even_after_termination(porter: Porter, server: Any, unique_name: str) -> None:
    first = porter.sandboxes.create(image=server.image, name=unique_name)
    with pytest.raises(ConflictError) as caught:
        porter.sandboxes.create(image=server.image, name=unique_name)
    assert caught.value.status_code == 409 and unique_name in caught.value.message
    first.terminate()
    with pytest.raises(ConflictError):
        porter.sandboxes.create(image=server.image, name=unique_name)


def test_unknown_sandboxes_are_a_typed_404(porter: Porter, server: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        porter.sandboxes.get("no-such-sandbox")
    assert caught.value.status_code == 404
    with pytest.raises(NotFoundError):
        porter.sandboxes.get("sb-000000000000")


def test_exec_in_an_ended_sandbox_is_a_conflict(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(image=server.image)
    sandbox.terminate()
    with pytest.raises(ConflictError):
        sandbox.exec(sh("echo too late"))
    sandbox.terminate()  # terminating again is a no-op


def test_bad_names_are_rejected_without_a_request(server: Any) -> None:
    transport = CountingTransport()
    with Porter(base_url=server.url, api_key=server.api_key, transport=transport) as porter:
        for bad in ("Upper", "under_score", "-dash", "a" * 64, ""):
            with pytest.raises(InvalidNameError):
                porter.sandboxes.create(image=server.image, name=bad)
            with pytest.raises(InvalidNameError):
                porter.volumes.create(name=bad)
        with pytest.raises(InvalidNameError):
            porter.sandboxes.create(image=server.image, volume_mounts={"relative/path": "vol-1"})
        assert transport.requests == 0
        porter.health()
        assert transport.requests == 1


def test_list_pages_and_iter_walks_every_page(porter: Porter, server: Any, unique_name: str) -> None:
    tags = {"batch": unique_name}
    created = [porter.sandboxes.create(image=server.image, command=sh("exit 0"), tags=tags) for _ in range(55)]

    first = porter.sandboxes.list(tags=tags, page=1)
    assert (len(first), first.page, first.total_pages, first.has_next_page) == (50, 1, 2, True)
    second = porter.sandboxes.list(tags=tags, page=2)
    assert (len(second), second.page, second.has_next_page) == (5, 2, False)
    # Newest first, across both pages.
    assert [s.id for s in [*first, *second]] == [s.id for s in reversed(created)]

    walked = list(porter.sandboxes.iter(tags=tags))
    assert [s.id for s in walked] == [s.id for s in reversed(created)]
    assert list(porter.sandboxes.iter(tags={"batch": "nobody-has-this"})) == []

    counts = porter.sandboxes.counts(tags=tags)
    assert counts.total == 55 and counts.granularity_ms > 0

    assert [s.id for s in porter.sandboxes.list(tags=tags, search=created[0].name)] == [created[0].id]
    assert len(porter.sandboxes.list(tags=tags, image=server.image)) == 50
    assert len(porter.sandboxes.list(tags=tags, image="some/other-image")) == 0

    # Sandboxes created while walking push older ones onto later pages: none is yielded twice.
    walk = porter.sandboxes.iter(tags=tags)
    seen = [next(walk).id for _ in range(50)]
    for _ in range(3):
        porter.sandboxes.create(image=server.image, command=sh("exit 0"), tags=tags)
    seen += [s.id for s in walk]
    assert seen == [s.id for s in reversed(created)]


def test_list_by_phase_and_creation_window(porter: Porter, server: Any, unique_name: str) -> None:
    tags = {"phases": unique_name}
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    done = porter.sandboxes.create(image=server.image, command=sh("exit 0"), tags=tags)
    with porter.sandboxes.create(image=server.image, tags=tags) as live:
        done.wait("succeeded", timeout=server.start_timeout)
        live.wait("running", timeout=server.start_timeout)
        assert [s.id for s in porter.sandboxes.list(tags=tags, phase="running")] == [live.id]
        assert {s.id for s in porter.sandboxes.list(tags=tags, phase=["running", "succeeded"])} == {live.id, done.id}
        assert len(porter.sandboxes.list(tags=tags, start_time=before)) == 2
        assert len(porter.sandboxes.list(tags=tags, end_time=before)) == 0
    with pytest.raises(ValueError, match="unknown phase"):
        porter.sandboxes.list(phase="sleeping")


def test_logs_since_and_limit(porter: Porter, server: Any) -> None:
    with porter.sandboxes.create(image=server.image) as sandbox:
        sandbox.exec(sh("for i in 1 2 3 4 5; do echo line-$i; done"))
        assert [line.line for line in sandbox.logs(limit=2)] == ["line-4", "line-5"]
        assert len(sandbox.logs(since=timedelta(minutes=5))) == 5
        assert len(sandbox.logs(since="5m")) == 5
        assert sandbox.logs(since=datetime.now(timezone.utc) + timedelta(minutes=1)) == []
        marker = datetime.now(timezone.utc)
        time.sleep(0.05)  # so the next line is written strictly after the marker
        sandbox.exec(sh("echo later"))
        assert [line.line for line in sandbox.logs(since=marker)] == ["later"]


def test_health_and_readiness_under_both_names(porter: Porter) -> None:
    assert porter.health() == Health(status="ok") == porter.healthz.health_check()
    readiness = porter.readiness()
    assert isinstance(readiness, Readiness) and readiness.ready and readiness.status == "ready"
    assert isinstance(readiness.active_sandboxes, int)
    assert porter.readyz.readiness_check().ready


def test_raw_is_the_generated_client_on_the_same_connection(porter: Porter, server: Any) -> None:
    from porter_sandbox_api.api.sandboxes import get_sandbox

    with porter.sandboxes.create(image=server.image) as sandbox:
        response = porter.sandboxes.raw.get_sandbox(sandbox.id)
        assert response.status_code == 200 and response.parsed.id == sandbox.id
        direct = get_sandbox.sync_detailed(sandbox.id, client=porter.raw)
        assert direct.parsed.name == sandbox.name
        missing = porter.sandboxes.raw.get_sandbox("sb-missing")
        assert missing.status_code == 404  # the low-level layer answers; it does not raise
        assert porter.raw.get_httpx_client() is porter.sandboxes.raw.client.get_httpx_client()


def test_every_error_is_a_sandbox_error(porter: Porter) -> None:
    for call in (lambda: porter.sandboxes.get("missing-one"), lambda: porter.volumes.delete("missing-one")):
        with pytest.raises(SandboxError):
            call()
