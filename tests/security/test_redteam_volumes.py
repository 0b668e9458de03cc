"""Attacks through volumes: mount paths redirected by planted links, and link tricks on the volume file API."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import httpx
import pytest
from redteam import Target, sh

from porter_sandbox import BadRequestError, Porter, SandboxError

pytestmark = pytest.mark.slow


def test_a_mount_path_through_a_link_planted_in_another_volume_is_refused(target: Target, porter: Porter) -> None:
    """The attack of the issue: A plants ``/data/sub -> <host dir>`` in volume V; B asks for ``/data`` = V and
    ``/data/sub/x`` = W. The host directory is one the test made; nothing may appear in it."""
    outer, inner = target.volume(porter), target.volume(porter)
    with tempfile.TemporaryDirectory(prefix="porter-redteam-target-") as host_dir:
        planter = target.sandbox(porter, volume_mounts={"/data": outer.id})
        for link in (f"/oldroot{host_dir}", host_dir):
            planted = sh(planter, f"rm -f /data/sub; ln -s {link} /data/sub && echo planted")
            assert "planted" in planted.stdout, planted
            with pytest.raises(BadRequestError) as refused:
                target.sandbox(porter, volume_mounts={"/data": outer.id, "/data/sub/x": inner.id})
            assert "/data/sub/x" in refused.value.message and "inside" in refused.value.message
            assert list(Path(host_dir).iterdir()) == []


@pytest.mark.parametrize("mount_path", ["/data/", "/data//x", "/data/./x", "/data/x/.."])
def test_mount_paths_that_are_not_plain_are_refused(target: Target, porter: Porter, mount_path: str) -> None:
    volume = target.volume(porter)
    with httpx.Client(base_url=target.server.url, timeout=30) as http:
        answer = http.post("/v1/sandbox/run", json={"image": target.image, "volume_mounts": {mount_path: volume.id}})
    assert answer.status_code == 400, answer.text
    assert "mount path" in answer.json()["error"]


def test_links_a_sandbox_plants_lead_the_volume_file_api_nowhere(target: Target, porter: Porter) -> None:
    volume = target.volume(porter)
    with tempfile.TemporaryDirectory(prefix="porter-redteam-target-") as host_dir:
        Path(host_dir, "host-secret.txt").write_text("host-secret\n")
        sandbox = target.sandbox(porter, volume_mounts={"/data": volume.id})
        planted = sh(
            sandbox,
            f"ln -s {host_dir}/host-secret.txt /data/file-link; ln -s {host_dir} /data/dir-link; "
            "ln -s / /data/root-link; ln -s /etc/passwd /data/passwd-link; mkdir /data/real; "
            "ln /etc/hostname /data/hard-etc 2>&1; ln /proc/self/status /data/hard-proc 2>&1; echo planted",
        )
        assert "planted" in planted.stdout, planted
        # Hard links across mounts are refused by the kernel: nothing of the host gets a name in the volume.
        assert not (target.volume_dir(volume) / "hard-etc").exists()
        assert not (target.volume_dir(volume) / "hard-proc").exists()
        for path in ("/file-link", "/dir-link/host-secret.txt", "/root-link/etc/passwd", "/passwd-link"):
            with pytest.raises(BadRequestError, match="symbolic link"):
                volume.read_text(path)
        for path in ("/file-link", "/dir-link/new.txt", "/root-link/tmp/new.txt"):
            with pytest.raises(BadRequestError, match="symbolic link"):
                volume.write_text(path, "written through a link\n")
        with pytest.raises(BadRequestError, match="symbolic link"):
            volume.move_file("/dir-link", "/real/moved")
        with pytest.raises(BadRequestError, match="symbolic link"):
            volume.listdir("/dir-link")
        assert Path(host_dir, "host-secret.txt").read_text() == "host-secret\n"
        assert sorted(entry.name for entry in Path(host_dir).iterdir()) == ["host-secret.txt"]
        # The links themselves are listed as nothing (only files and directories are).
        assert [entry.path for entry in volume.listdir("/")] == ["/real"]


def test_a_directory_swapped_for_a_link_during_uploads_leads_nowhere(target: Target, porter: Porter) -> None:
    """A sandbox swaps a directory for a link to a host directory, over and over, while the API writes into it."""
    volume = target.volume(porter)
    with tempfile.TemporaryDirectory(prefix="porter-redteam-target-") as host_dir:
        sandbox = target.sandbox(porter, volume_mounts={"/data": volume.id})
        swapper = (
            f"for i in $(seq 400); do rm -rf /data/d; mkdir /data/d; rm -rf /data/d; ln -s {host_dir} /data/d; done "
            ">/dev/null 2>&1 &"
        )
        sh(sandbox, swapper)
        for index in range(60):
            # Refused (a link, or the directory gone meanwhile) about half the time: that is the point.
            with contextlib.suppress(SandboxError):
                volume.write_text(f"/d/upload-{index}.txt", "through the race\n")
        assert list(Path(host_dir).iterdir()) == []
