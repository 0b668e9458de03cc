"""The system-call filter every sandbox process runs under (bwrap's ``--seccomp``): a short deny list.

Namespaces and the sandbox uid already refuse what needs privilege (mount,
chroot, kernel knobs, device nodes). The filter refuses, with ``EPERM``, the
calls that stay open to an unprivileged user and that a sandbox must not use:

- new user namespaces (``unshare`` or ``clone`` with ``CLONE_NEWUSER``), where
  a process would hold every capability over a fresh namespace: much of the
  kernel's attack surface, and no sandbox needs it (``clone3`` answers
  ``ENOSYS``, as under Docker, since its flags cannot be inspected: libc falls
  back to ``clone``);
- reaching into another process through a descriptor of it, which a peer
  credential on a Unix socket hands out (``SO_PEERPIDFD``): ``pidfd_getfd``,
  ``pidfd_send_signal``; and ``process_vm_readv``/``writev``;
- kernel interfaces that sandboxes do not need and that carry much of the
  kernel's history of privilege escalations: ``bpf``, ``perf_event_open``,
  ``userfaultfd``, the key-management calls, ``io_uring``.

Any other architecture than the host's own (32-bit calls through ``int 0x80``
on x86-64, the x32 ABI) kills the process, since the numbers above would not
apply to it. ``ptrace`` stays allowed: it only reaches processes of the same
sandbox (a sandbox cannot name another's), and debuggers work.

The filter is classic BPF over ``struct seccomp_data`` (``nr`` at offset 0,
``arch`` at 4, the arguments from 16), built here for x86-64 and AArch64.
"""

from __future__ import annotations

import errno
import platform
import struct

# struct seccomp_data offsets, and the low 32 bits of args[0] (little-endian).
_NR, _ARCH, _ARG0 = 0, 4, 16
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW = 0x7FFF0000
_KILL_PROCESS = 0x80000000
_CLONE_NEWUSER = 0x10000000
_X32_SYSCALL_BIT = 0x40000000


def _errno(code: int) -> int:
    return 0x00050000 | code


#: Per machine: its audit architecture, then the numbers of the calls the filter inspects or refuses.
_TABLES: dict[str, dict[str, int]] = {
    "x86_64": {
        "arch": 0xC000003E,
        "clone": 56,
        "unshare": 272,
        "clone3": 435,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "pidfd_send_signal": 424,
        "pidfd_getfd": 438,
        "bpf": 321,
        "perf_event_open": 298,
        "userfaultfd": 323,
        "add_key": 248,
        "request_key": 249,
        "keyctl": 250,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
    },
    "aarch64": {
        "arch": 0xC00000B7,
        "clone": 220,
        "unshare": 97,
        "clone3": 435,
        "process_vm_readv": 270,
        "process_vm_writev": 271,
        "pidfd_send_signal": 424,
        "pidfd_getfd": 438,
        "bpf": 280,
        "perf_event_open": 241,
        "userfaultfd": 282,
        "add_key": 217,
        "request_key": 218,
        "keyctl": 219,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
    },
}
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

#: Refused outright.
DENIED = (
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_send_signal",
    "pidfd_getfd",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "add_key",
    "request_key",
    "keyctl",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
)


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def filter_program(machine: str | None = None) -> bytes | None:
    """The compiled filter for ``machine`` (this host's by default), or None where none is built."""
    table = _TABLES.get(_MACHINES.get((machine or platform.machine()).lower(), ""))
    if table is None:
        return None
    ops: list[bytes] = [
        _op(_LD_W_ABS, _ARCH),
        _op(_JEQ_K, table["arch"], jt=1),
        _op(_RET_K, _KILL_PROCESS),
        _op(_LD_W_ABS, _NR),
    ]
    if table["arch"] == _TABLES["x86_64"]["arch"]:
        ops += [_op(_JGE_K, _X32_SYSCALL_BIT, jf=1), _op(_RET_K, _KILL_PROCESS)]
    for name in DENIED:
        ops += [_op(_JEQ_K, table[name], jf=1), _op(_RET_K, _errno(errno.EPERM))]
    ops += [_op(_JEQ_K, table["clone3"], jf=1), _op(_RET_K, _errno(errno.ENOSYS))]
    # clone and unshare: refused only with CLONE_NEWUSER in their flags (the first argument of both).
    ops += [
        _op(_JEQ_K, table["clone"], jt=1),
        _op(_JEQ_K, table["unshare"], jf=3),
        _op(_LD_W_ABS, _ARG0),
        _op(_JSET_K, _CLONE_NEWUSER, jf=1),
        _op(_RET_K, _errno(errno.EPERM)),
        _op(_RET_K, _ALLOW),
    ]
    return b"".join(ops)
