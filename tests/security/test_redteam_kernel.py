"""Attacks on the host's kernel from inside a sandbox: its knobs, mounts, namespaces, chroot, devices, capabilities."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from redteam import Target, sh

from porter_sandbox import Porter

pytestmark = pytest.mark.slow

#: Host-wide kernel settings a sandbox must not write (each is written with its current value).
KERNEL_KNOBS = (
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/kernel/panic",
    "/proc/sys/kernel/sysrq",
    "/proc/sys/kernel/pid_max",
    "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/shmmax",
    "/proc/sys/vm/overcommit_memory",
    "/proc/sys/fs/suid_dumpable",
)


def test_core_pattern_pointing_at_a_script_in_the_workspace_cannot_be_set(target: Target, porter: Porter) -> None:
    """The attack of the issue: learn the workspace's host path, put a script there, aim core_pattern at it."""
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    sandbox = target.sandbox(porter)
    script = r"""
    host_dir=$(awk '$5 == "/workspace" {print $4}' /proc/self/mountinfo | head -n 1)
    printf '#!/bin/sh\ntouch /tmp/porter-redteam-pwned\n' > /workspace/pwn.sh && chmod +x /workspace/pwn.sh
    # The same value the host has: were the write to succeed, nothing on the host would change.
    current=$(cat /proc/sys/kernel/core_pattern)
    if printf '%s' "$current" > /proc/sys/kernel/core_pattern; then echo WRITABLE; else echo refused; fi
    echo "host dir: ${host_dir:-unknown}"
    """
    result = sh(sandbox, script)
    assert "refused" in result.stdout, (result.stdout, result.stderr)
    assert "WRITABLE" not in result.stdout
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before


@pytest.mark.parametrize("knob", KERNEL_KNOBS)
def test_kernel_settings_under_proc_sys_are_not_writable(target: Target, porter: Porter, knob: str) -> None:
    if not Path(knob).exists():
        pytest.skip(f"{knob} does not exist on this kernel")
    before = Path(knob).read_text()
    sandbox = target.sandbox(porter)
    result = sh(sandbox, f"v=$(cat {knob}) && printf '%s' \"$v\" > {knob} && echo WRITABLE || echo refused")
    assert result.stdout.strip().endswith("refused"), (knob, result.stdout, result.stderr)
    assert Path(knob).read_text() == before


def test_sysrq_trigger_is_absent_or_refused(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    # 'h' only prints the help to the kernel log, were the write ever to pass.
    result = sh(sandbox, "if printf h > /proc/sysrq-trigger; then echo WRITABLE; else echo refused; fi")
    assert "refused" in result.stdout and "WRITABLE" not in result.stdout, result


def test_mount_fails(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    result = sh(
        sandbox,
        "mkdir -p /tmp/m; "
        "mount -t tmpfs none /tmp/m && echo MOUNTED-TMPFS; "
        "mount --bind / /tmp/m && echo MOUNTED-BIND; "
        "mount -t proc proc /tmp/m && echo MOUNTED-PROC; "
        "mount -o remount,rw / && echo REMOUNTED; "
        "echo done",
    )
    assert "MOUNTED" not in result.stdout and "REMOUNTED" not in result.stdout, result
    assert result.stdout.strip().endswith("done")


def test_new_namespaces_cannot_be_made(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    script = (
        "for ns in -U -Ur -m -n -p -i -u; do "
        '  if unshare $ns true 2>/dev/null; then echo "UNSHARED $ns"; fi; '
        "done; echo done"
    )
    result = sh(sandbox, script)
    assert "UNSHARED" not in result.stdout, result
    assert result.stdout.strip().endswith("done")
    if target.runtime == "process":
        # And by the system call itself, whatever a tool does.
        probe = (
            "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
            "print(libc.unshare(0x10000000), os.strerror(ctypes.get_errno()))"
        )
        result = sandbox.exec(["python3", "-c", probe])
        assert result.stdout.startswith("-1 "), result


def test_chroot_and_escape_through_an_open_directory_fail(target: Target, porter: Porter) -> None:
    """The classic breakout: chroot into a subdirectory while holding a descriptor of the old root, then climb."""
    sandbox = target.sandbox(porter)
    result = sh(sandbox, "mkdir -p /tmp/jail && chroot /tmp/jail /bin/true && echo CHROOTED || echo refused")
    assert "refused" in result.stdout and "CHROOTED" not in result.stdout, result
    if target.runtime == "process":
        breakout = (
            "import os\n"
            "outside = os.open('/', os.O_RDONLY)\n"
            "os.makedirs('/tmp/jail2', exist_ok=True)\n"
            "try:\n"
            "    os.chroot('/tmp/jail2')\n"
            "except OSError as error:\n"
            "    print('refused', error.errno)\n"
            "else:\n"
            "    os.fchdir(outside)\n"
            "    for _ in range(64): os.chdir('..')\n"
            "    os.chroot('.')\n"
            "    print('ESCAPED', os.listdir('/'))\n"
        )
        result = sandbox.exec(["python3", "-c", breakout])
        assert result.stdout.startswith("refused"), result


def test_device_nodes_cannot_be_made_and_host_devices_are_absent(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    result = sh(
        sandbox,
        "mknod /tmp/disk b 8 0 && echo MADE-BLOCK; mknod /tmp/mem c 1 1 && echo MADE-MEM; ls /dev; echo done",
    )
    assert "MADE" not in result.stdout, result
    listed = set(result.stdout.split())
    assert not listed & {"mem", "kmem", "port", "sda", "vda", "nvme0n1", "kmsg", "loop0"}, listed


def test_a_device_node_in_a_volume_is_inert(target: Target, porter: Porter) -> None:
    """A device node that reached a volume (made on the host) opens nothing in a sandbox: volumes are nodev."""
    if target.runtime == "docker":
        pytest.skip("Docker binds volumes without nodev (its API cannot say it); no container can make a node")
    if os.geteuid() != 0:
        pytest.skip("making a device node on the host needs root")
    volume = target.volume(porter)
    os.mknod(target.volume_dir(volume) / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
    sandbox = target.sandbox(porter, volume_mounts={"/data": volume.id})
    result = sh(sandbox, "echo x > /data/null && echo OPENED || echo refused")
    assert "refused" in result.stdout and "OPENED" not in result.stdout, result


def test_no_capabilities_and_no_new_privileges(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    status = sh(sandbox, "grep -E '^(CapPrm|CapEff|CapAmb|NoNewPrivs)' /proc/self/status").stdout
    fields = dict(line.split(":\t") for line in status.strip().splitlines())
    assert fields["NoNewPrivs"] == "1", status
    assert fields["CapAmb"] == "0000000000000000", status
    if target.runtime == "process":
        assert fields["CapPrm"] == fields["CapEff"] == "0000000000000000", status
    else:
        # Docker keeps a few for container root over its own files; never these.
        effective = int(fields["CapEff"], 16)
        for forbidden in (
            21,
            16,
            19,
            27,
            12,
            13,
            18,
        ):  # SYS_ADMIN, SYS_MODULE, SYS_PTRACE, MKNOD, NET_ADMIN, NET_RAW, SYS_CHROOT
            assert not effective & (1 << forbidden), (forbidden, status)
