"""What the SDK tells a user who took a wrong turn, against a real local server: each message says what to do."""

from __future__ import annotations

from typing import Any

import pytest

from porter_sandbox import AsyncPorter, NotFoundError, Porter, RouteNotFoundError, SandboxEndedError


def test_a_wrong_base_url_is_an_unknown_route_not_a_missing_sandbox(server: Any) -> None:
    with Porter(base_url=server.url + "/api/v2", api_key=server.api_key) as porter:
        with pytest.raises(RouteNotFoundError) as caught:
            porter.sandboxes.get("x")
        with pytest.raises(RouteNotFoundError):
            porter.volumes.delete("x")
        with pytest.raises(NotFoundError):  # still a NotFoundError, for code that catches those
            porter.sandboxes.list()
    message = caught.value.message
    assert "no route for GET /api/v2/v1/sandbox/lookup" in message
    assert "base_url" in message
    assert "no sandbox is named" not in message


async def test_a_wrong_base_url_is_an_unknown_route_async(server: Any) -> None:
    async with AsyncPorter(base_url=server.url + "/v1", api_key=server.api_key) as porter:
        with pytest.raises(RouteNotFoundError, match="check base_url"):
            await porter.volumes.get("x")


def test_a_missing_sandbox_on_the_right_base_url_is_still_named(porter: Porter) -> None:
    with pytest.raises(NotFoundError) as caught:
        porter.sandboxes.get("no-such-sandbox")
    assert not isinstance(caught.value, RouteNotFoundError)
    assert "no sandbox is named or has the id 'no-such-sandbox'" in caught.value.message


def test_volume_mounts_take_a_volumes_name(porter: Porter, server: Any, unique_name: str) -> None:
    volume = porter.volumes.create(name=unique_name)
    sandbox = porter.sandboxes.create(image=server.image, volume_mounts={"/data": unique_name})
    try:
        assert sandbox.volume_mounts == {"/data": volume.id}
        sandbox.exec(["sh", "-c", "echo by-name > /data/note"], check=True)
        assert volume.read_text("/note") == "by-name\n"
        by_id = porter.sandboxes.create(image=server.image, volume_mounts={"/data": volume.id})
        assert by_id.refresh().volume_mounts == {"/data": volume.id}
        by_id.terminate()
    finally:
        sandbox.terminate()
    volume.delete()


async def test_a_mount_of_no_volume_says_what_to_pass(server: Any, unique_name: str) -> None:
    async with server.async_client() as porter:
        before = len(await porter.sandboxes.list(tags={"case": unique_name}))
        with pytest.raises(NotFoundError) as caught:
            await porter.sandboxes.create(
                image=server.image, volume_mounts={"/data": f"{unique_name}-nope"}, tags={"case": unique_name}
            )
        assert len(await porter.sandboxes.list(tags={"case": unique_name})) == before == 0
    message = caught.value.message
    assert f"no volume is named or has the id '{unique_name}-nope'" in message
    assert "Pass a volume's name, its id or the Volume itself" in message


def test_a_failed_sandbox_says_why_in_the_error(porter: Porter, server: Any) -> None:
    sandbox = porter.sandboxes.create(
        image=server.image, command=["sh", "-c", "echo fine; echo 'config.yaml: no such file' >&2; exit 3"]
    )
    with pytest.raises(SandboxEndedError) as caught:
        sandbox.wait("succeeded", timeout=60)
    error = caught.value
    assert (error.phase, error.termination_reason, error.exit_code) == ("failed", "workload_exited", 3)
    if not server.separate_main_streams:
        # A pod's log merges stdout and stderr: no line of the main process is known to be an error.
        assert error.log_tail == () and "ended failed (workload_exited), exit code 3" in error.message
        return
    assert error.log_tail == ("config.yaml: no such file",)
    assert "ended failed (workload_exited), exit code 3 while waiting for 'succeeded'" in error.message
    assert "its last error output: config.yaml: no such file" in error.message
    assert "\n" not in error.message


async def test_a_sandbox_that_cannot_start_says_why_async(server: Any) -> None:
    async with server.async_client() as porter:
        sandbox = await porter.sandboxes.create(image=server.image, command=["no-such-binary-here"])
        with pytest.raises(SandboxEndedError) as caught:
            await sandbox.wait("succeeded", timeout=60)
    error = caught.value
    assert error.phase == "failed"
    assert error.termination_reason in ("launch_failed", "workload_exited")
    assert "no-such-binary-here" in error.message
