"""Attacks on the host's files from inside a sandbox: setuid files in volumes, other sandboxes' files, the data dir."""

from __future__ import annotations

import os
import stat

import pytest
from redteam import Target, run_as, sh

from porter_sandbox import Porter

pytestmark = pytest.mark.slow

#: A local user of the host who is neither root, nor the server, nor a sandbox.
LOCAL_USER = 65533


def test_a_setuid_binary_made_in_a_volume_gives_no_one_root(target: Target, porter: Porter) -> None:
    """The attack of the issue: ``cp /bin/sh /data/rootsh; chmod 4755 /data/rootsh`` in a sandbox with a volume."""
    volume = target.volume(porter)
    sandbox = target.sandbox(porter, volume_mounts={"/data": volume.id})
    # (Busybox, the Docker test image's shell, runs as a multi-call binary only under a name that says so.)
    name = "busybox-rootsh" if target.runtime == "docker" else "rootsh"
    made = sh(sandbox, f"cp /bin/sh /data/{name} && chmod 4755 /data/{name} && echo made")
    assert "made" in made.stdout, made
    planted = target.volume_dir(volume) / name
    info = planted.lstat()
    # On the host it belongs to the uid sandboxes run as: never root, unless Docker's engine makes it so.
    assert info.st_uid == target.sandbox_uid, (info.st_uid, target.sandbox_uid)
    if target.runtime == "process":
        assert info.st_uid != 0
    # No local user can even reach it: the data directory is the server's alone.
    assert stat.S_IMODE(target.data_dir().stat().st_mode) == 0o700
    assert target.data_dir().stat().st_uid == target.server_uid
    if os.geteuid() == 0:
        code, said = run_as(LOCAL_USER, [str(planted), "-c", "id -u"])  # (busybox or dash: it never starts)
        assert code != 0 and "Permission denied" in said, said
    # And in a sandbox that mounts the volume, a setuid bit gives nothing, even one of root's (as a file
    # that an older server's root sandbox left would have): volumes are nosuid, sandboxes no_new_privs.
    if os.geteuid() == 0:
        os.chown(planted, 0, 0)
        os.chmod(planted, 0o4755)
    other = target.sandbox(porter, volume_mounts={"/data": volume.id})
    own = sh(other, "id -u").stdout.strip()
    shell = f"/data/{name} sh" if target.runtime == "docker" else f"/data/{name}"
    ran = sh(other, f"{shell} -c 'grep ^Uid: /proc/self/status'")
    assert ran.stdout.split()[1:] == [own] * 4, (ran, own)  # real, effective, saved and filesystem uid


def test_files_a_sandbox_makes_in_a_volume_are_the_sandbox_uids_and_the_api_can_change_them(
    target: Target, porter: Porter
) -> None:
    volume = target.volume(porter)
    sandbox = target.sandbox(porter, volume_mounts={"/data": volume.id})
    sh(sandbox, "mkdir -p /data/dir && echo from-sandbox > /data/dir/made.txt")
    made = target.volume_dir(volume) / "dir" / "made.txt"
    assert made.lstat().st_uid == target.sandbox_uid
    # What the API writes, the sandbox can change, and the other way round.
    volume.write_text("/dir/api.txt", "from-api\n")
    assert (target.volume_dir(volume) / "dir" / "api.txt").lstat().st_uid == target.sandbox_uid
    changed = sh(sandbox, "echo changed >> /data/dir/api.txt && rm /data/dir/made.txt && echo ok")
    assert changed.stdout.strip() == "ok", changed
    volume.write_text("/dir/api.txt", "rewritten\n")
    assert sh(sandbox, "cat /data/dir/api.txt").stdout == "rewritten\n"


def test_another_sandboxs_files_cannot_be_reached_by_guessing_their_host_path(target: Target, porter: Porter) -> None:
    victim = target.sandbox(porter)
    sh(victim, "echo victim-secret > /workspace/secret.txt; echo victim-secret > /tmp/secret.txt")
    attacker = target.sandbox(porter)
    # The attacker learns where its own workspace lives on the host, and guesses the victim's.
    own = sh(attacker, 'awk \'$5 == "/workspace" || $5 == "/" {print $4}\' /proc/self/mountinfo').stdout.split()
    guesses = {path.replace(attacker.id, victim.id) for path in own} | {
        f"{target.data_dir()}/sandboxes/{victim.id}/workspace",
        f"{target.data_dir()}/porter-sandbox.db",
        str(target.data_dir()),
    }
    for guess in guesses:
        for prefix in ("", "/oldroot", "/proc/1/root", "/proc/self/root", "/.."):
            probe = (
                f"cat '{prefix}{guess}/secret.txt' 2>/dev/null || cat '{prefix}{guess}' 2>/dev/null || echo unreachable"
            )
            result = sh(attacker, probe)
            assert "victim-secret" not in result.stdout, (prefix, guess)
            assert "SQLite" not in result.stdout, (prefix, guess)
    assert "victim-secret" not in sh(attacker, "cat /tmp/secret.txt /workspace/secret.txt 2>&1").stdout


def test_no_descriptor_in_a_sandbox_leads_outside_it(target: Target, porter: Porter) -> None:
    """An inherited descriptor of a host directory would undo every mount (``openat`` from it, ``fchdir``)."""
    sandbox = target.sandbox(porter)
    result = sh(sandbox, 'for fd in /proc/[0-9]*/fd/*; do readlink "$fd"; done 2>/dev/null | sort -u')
    data_dir = str(target.data_dir())
    for line in result.stdout.splitlines():
        assert data_dir not in line, line
        assert not line.startswith("/") or line.startswith(("/dev/", "/proc/", "/workspace", "/root", "/tmp")), line
