"""The parts isolation is made of, one at a time: whose uid, the system-call filter, the Docker settings,
who owns volume files, the server's flags and data directory. The red-team suite (tests/security) attacks
the whole."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from porter_sandbox_server.cli import build_parser
from porter_sandbox_server.core.limits import DEFAULT_MAX_PIDS, DEFAULT_MEMORY_BYTES
from porter_sandbox_server.core.service import secure_data_dir
from porter_sandbox_server.runtimes.base import LaunchSpec, VolumeMount
from porter_sandbox_server.runtimes.docker.hardening import engine_users, hardening
from porter_sandbox_server.runtimes.process import identity, seccomp
from porter_sandbox_server.runtimes.tmpfs import tmpfs_sizes
from porter_sandbox_server.volumes.hostdir import FileOwner, HostDirVolumes, write_file

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another uid needs root")


def test_root_takes_the_first_id_of_its_subordinate_range(tmp_path: Path) -> None:
    table = tmp_path / "subuid"
    table.write_text("alice:100000:65536\nroot:1000000:65536\n")
    assert identity._first_subordinate(table) == 1_000_000
    table.write_text("alice:100000:65536\n")
    assert identity._first_subordinate(table) is None
    assert identity._first_subordinate(tmp_path / "missing") is None


def test_a_server_that_is_not_root_runs_sandboxes_as_itself() -> None:
    if os.geteuid() == 0:
        assert not identity.SandboxIdentity.for_this_server().is_server_uid
    else:
        found = identity.SandboxIdentity.for_this_server()
        assert (found.uid, found.is_server_uid) == (os.geteuid(), True)


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_filter_is_built_for_both_architectures(machine: str) -> None:
    program = seccomp.filter_program(machine)
    assert program is not None and len(program) % 8 == 0 and len(program) // 8 < 4096
    assert seccomp.filter_program("riscv64") is None


def test_tmpfs_sizes_leave_a_quarter_of_the_memory_for_processes() -> None:
    tmp, shm = tmpfs_sizes(64 << 20)
    assert (tmp, shm) == (32 << 20, 16 << 20)
    assert tmp + shm <= (64 << 20) * 3 // 4
    assert tmpfs_sizes(1024) == (1 << 20, 1 << 20)


def _spec(**fields: object) -> LaunchSpec:
    values: dict[str, object] = {
        "sandbox_id": "sb-1",
        "name": "one",
        "image": "img",
        "command": None,
        "args": None,
        "env": {},
        "tags": {},
        "memory_bytes": 256 << 20,
        "pids_max": 100,
    }
    values.update(fields)
    return LaunchSpec(**values)  # type: ignore[arg-type]


def test_docker_containers_drop_privileges_and_get_a_read_only_root() -> None:
    settings = hardening(_spec(), {"User": ""}, "/app", read_only_root=True)
    assert settings["cap_drop"] == ["ALL"]
    assert not {"SYS_ADMIN", "MKNOD", "NET_RAW", "SYS_CHROOT", "SYS_PTRACE"} & set(settings["cap_add"])
    assert settings["security_opt"] == ["no-new-privileges"]
    assert settings["pids_limit"] == 100
    assert settings["shm_size"] == 64 << 20
    assert settings["read_only"] is True
    assert "size=134217728" in settings["tmpfs"]["/tmp"] and "nosuid" in settings["tmpfs"]["/tmp"]
    assert [mount["Target"] for mount in settings["mounts"]] == ["/workspace", "/app", "/root"]
    # A volume the user mounts at one of those places wins; a non-root image gets no /root.
    taken = _spec(mounts=(VolumeMount("/workspace", "vol-1"), VolumeMount("/tmp", "vol-2")))
    settings = hardening(taken, {"User": "1000"}, "/workspace", read_only_root=True)
    assert [mount["Target"] for mount in settings["mounts"]] == []
    assert "/tmp" not in settings["tmpfs"]
    writable = hardening(_spec(), {}, "/workspace", read_only_root=False)
    assert "read_only" not in writable and "mounts" not in writable


def test_who_container_root_is_is_read_from_the_engine() -> None:
    plain = engine_users({"SecurityOptions": ["name=seccomp,profile=default"], "DockerRootDir": "/var/lib/docker"})
    assert not plain.safe and "HOST ROOT" in plain.describe()
    remapped = engine_users(
        {
            "SecurityOptions": ["name=seccomp,profile=default", "name=userns"],
            "DockerRootDir": "/var/lib/docker/100000.100000",
        }
    )
    assert remapped.safe and remapped.remapped_root == (100000, 100000)
    rootless = engine_users({"SecurityOptions": ["name=rootless", "name=cgroupns"]})
    assert rootless.safe and rootless.remapped_root is None


@needs_root
def test_what_the_api_writes_in_a_volume_belongs_to_the_sandboxes_uid(tmp_path: Path) -> None:
    owner = FileOwner(2_000_000_000, 2_000_000_000)
    volumes = HostDirVolumes(tmp_path / "volumes", owner)
    asyncio.run(volumes.open())
    asyncio.run(volumes.create("vol-1"))
    root = volumes.host_path("vol-1")
    assert (root.stat().st_uid, root.stat().st_gid) == owner
    write_file(root, "/made/here/file.txt", [b"data"], volumes.staging, owner)
    for path in (root / "made", root / "made" / "here", root / "made" / "here" / "file.txt"):
        assert (path.lstat().st_uid, path.lstat().st_gid) == owner, path


@needs_root
def test_claiming_volumes_gives_their_files_away_without_following_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not a volume's")
    root = tmp_path / "volumes" / "vol-1"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "setuid").write_text("#!/bin/sh\n")
    (root / "dir" / "setuid").chmod(0o4755)
    (root / "link").symlink_to(outside)
    owner = FileOwner(2_000_000_000, 2_000_000_000)
    HostDirVolumes(tmp_path / "volumes").claim(owner)
    for path in (root, root / "dir", root / "dir" / "setuid", root / "link"):
        assert (path.lstat().st_uid, path.lstat().st_gid) == owner, path
    assert not stat.S_IMODE((root / "dir" / "setuid").stat().st_mode) & stat.S_ISUID
    assert outside.stat().st_uid == os.geteuid()


def test_the_data_directory_is_narrowed_to_0700(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    secure_data_dir(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert "0700" in caplog.text
    fresh = tmp_path / "fresh" / "data"
    secure_data_dir(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_serve_flags_for_limits() -> None:
    parse = build_parser().parse_args
    defaults = parse(["serve"])
    assert (defaults.default_memory, defaults.max_pids, defaults.max_total_pids) == (
        DEFAULT_MEMORY_BYTES,
        DEFAULT_MAX_PIDS,
        None,
    )
    given = parse(["serve", "--default-memory", "512Mi", "--max-pids", "64", "--max-total-pids", "2000"])
    assert (given.default_memory, given.max_pids, given.max_total_pids) == (512 << 20, 64, 2000)
    assert parse(["serve", "--default-memory", "none"]).default_memory is None
    for bad in (["--default-memory", "lots"], ["--max-pids", "3"], ["--max-total-pids", "x"]):
        refused = subprocess.run(
            [sys.executable, "-m", "porter_sandbox_server", "serve", *bad], capture_output=True, text=True, timeout=60
        )
        assert refused.returncode == 2 and bad[0] in refused.stderr, refused.stderr
