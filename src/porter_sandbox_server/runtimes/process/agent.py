"""The agent: a tiny init process that runs inside each process-runtime sandbox.

The process runtime does not import this module: it runs the host's
``python3 -I -S -c BOOTSTRAP FD`` as the first process of the sandbox (PID 1
of its PID namespace under bubblewrap), and the bootstrap reads this module's
code (marshalled when that python reads the server's bytecode, else its
source) as the first packet on the control socket and runs it. So it uses
only built-in modules, which import in no time (``_socket``, ``_signal``,
``select``, ``os``), and it must run on whatever python3 the host has (3.8 or
newer: it needs ``os.posix_spawn``).

It talks to the server over one ``SOCK_SEQPACKET`` socket (its file
descriptor number is ``argv[1]``) in the messages of ``protocol``. Its other
arguments: ``bwrap`` or ``none`` (isolated or not), ``UID:GID`` to become
before anything else (a root server's sandbox uid; ``-`` for none), and the
process limit to set on itself and so on everything it starts (``RLIMIT_NPROC``;
0 for none).

Before it serves, it drops every supplementary group and becomes ``UID:GID``
(it holds ``CAP_SETUID``/``CAP_SETGID`` only for this, and the change empties
its capabilities and makes it non-dumpable), then lowers ``RLIMIT_NPROC``,
soft and hard. Every process it starts has ``oom_score_adj`` 1000, its own
stays as it was: when the sandbox runs out of memory the kernel kills the
workload, never PID 1 first.

A process spawned here reads ``/dev/null`` (or, started by ``RUN``, a pipe
the server writes) and writes straight into the server's pipes, so output
never passes through the agent. A ``RUN`` process on a terminal gets a
pseudo-terminal the agent opens here, in the sandbox's own devpts (so
``tty`` inside names it), and the server gets its master over the socket.
Each ``RUN`` process leads a process group of its own, which ``SIGNAL``
reaches whole. When the server's end of the socket closes (the server died)
the agent kills everything it started and exits; under bubblewrap the PID
namespace ends with it.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # built in; ``signal`` would import ``enum``, which is slow
import _socket
import os
import select
import sys

# In a sandbox this line is replaced by protocol.py's own code (bootstrap.agent_payload).
from .protocol import (
    EXITED,
    MAIN,
    ON_TERMINAL,
    READY,
    RUN,
    SIGNAL,
    SPAWN,
    SPAWN_FAILED,
    STARTED,
    STDIN_PIPE,
    decode,
    encode,
)

NOT_FOUND = 127
CANNOT_RUN = 126
_CATCHABLE = [
    getattr(_signal, name)
    for name in ("SIGHUP", "SIGINT", "SIGQUIT", "SIGPIPE", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGXFSZ")
    if hasattr(_signal, name)
]


def find_program(name: str, env: dict[str, str]) -> str | None:
    """The path to run for ``name`` (looked up in the spawn's PATH), or None."""
    if "/" in name:
        return name
    for directory in env.get("PATH", "/usr/bin:/bin").split(":"):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


#: What every process the agent starts gets as ``oom_score_adj``: the kernel's first choice to kill.
WORKLOAD_OOM_SCORE_ADJ = b"1000"


def become(who: str) -> None:
    """Drop every supplementary group and become ``UID:GID`` for good (real, effective and saved ids)."""
    uid, _, gid = who.partition(":")
    os.setgroups([])
    os.setresgid(int(gid), int(gid), int(gid))
    os.setresuid(int(uid), int(uid), int(uid))
    if os.getresuid() != (int(uid),) * 3 or os.getresgid() != (int(gid),) * 3 or os.getgroups():
        raise PermissionError(1, "could not become the sandbox user", who)


def limit_processes(count: int) -> None:
    """At most ``count`` processes (and threads) counted with ours: soft and hard, so nothing started raises it."""
    import resource

    resource.setrlimit(resource.RLIMIT_NPROC, (count, count))


def spawn(
    argv: list[str],
    env: dict[str, str],
    out_fd: int,
    err_fd: int,
    rlimit_as: int,
    own_session: bool,
    oom: tuple[int, bytes],
) -> int:
    """Start one process writing into ``out_fd``/``err_fd``; answer its pid.

    ``oom`` is a descriptor of our ``/proc/self/oom_score_adj`` and our own value (-1: leave it):
    raised around the start, so that only the new process keeps the raised value.
    """
    path = find_program(argv[0], env)
    if path is None:
        raise FileNotFoundError(2, "command not found", argv[0])
    oom_fd, own_adj = oom
    if oom_fd < 0:
        return _spawn(path, argv, env, out_fd, err_fd, rlimit_as, own_session)
    os.write(oom_fd, WORKLOAD_OOM_SCORE_ADJ)
    try:
        return _spawn(path, argv, env, out_fd, err_fd, rlimit_as, own_session)
    finally:
        os.write(oom_fd, own_adj)


def _spawn(
    path: str, argv: list[str], env: dict[str, str], out_fd: int, err_fd: int, rlimit_as: int, own_session: bool
) -> int:
    if not rlimit_as:
        return os.posix_spawn(
            path,
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out_fd, 1),
                (os.POSIX_SPAWN_DUP2, err_fd, 2),
            ],
            setsigdef=_CATCHABLE,
            setsigmask=[],
            setsid=own_session,
        )
    # posix_spawn cannot set a resource limit on the child: fork instead.
    import resource

    errors_r, errors_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open("/dev/null", os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            for signum in _CATCHABLE:
                _signal.signal(signum, _signal.SIG_DFL)
            _signal.pthread_sigmask(_signal.SIG_SETMASK, [])
            if own_session:
                os.setsid()
            resource.setrlimit(resource.RLIMIT_AS, (rlimit_as, rlimit_as))
            os.execve(path, argv, env)
        except OSError as error:
            os.write(errors_w, str(error.errno).encode())
        finally:
            os._exit(NOT_FOUND)
    return _started(pid, errors_r, errors_w, argv[0])


def run_process(
    argv: list[str],
    env: dict[str, str],
    fds: list[int],
    flags: bytes,
    rlimit_as: int,
    size: tuple[int, int],
    own_session: bool,
    oom: tuple[int, bytes],
) -> tuple[int, int]:
    """Start a ``RUN`` process in a process group of its own; answer its pid and its terminal's master (or -1).

    The caller has changed into its working directory. Without a terminal,
    ``fds`` are the stdout and stderr pipes, then its stdin's when ``flags``
    say so. On a terminal it leads a new session, so that opening the
    terminal makes it its controlling terminal. ``oom`` is as ``spawn`` takes it.
    """
    path = find_program(argv[0], env)
    if path is None:
        raise FileNotFoundError(2, "command not found", argv[0])
    master = -1
    tty_name = ""
    if ON_TERMINAL in flags:
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        try:
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
            tty_name = os.ttyname(slave)
        except OSError:
            os.close(master)
            raise
        finally:
            os.close(slave)
        session = True
    else:
        session = own_session
    oom_fd, own_adj = oom
    if oom_fd >= 0:
        os.write(oom_fd, WORKLOAD_OOM_SCORE_ADJ)
    try:
        pid = _start_run(path, argv, env, fds, tty_name, STDIN_PIPE in flags, rlimit_as, session)
    except OSError:
        if master >= 0:
            os.close(master)
        raise
    finally:
        if oom_fd >= 0:
            os.write(oom_fd, own_adj)
    return pid, master


def _start_run(
    path: str,
    argv: list[str],
    env: dict[str, str],
    fds: list[int],
    tty_name: str,
    stdin_pipe: bool,
    rlimit_as: int,
    session: bool,
) -> int:
    if not rlimit_as:
        if tty_name:
            actions = [
                (os.POSIX_SPAWN_OPEN, 0, tty_name, os.O_RDWR, 0),
                (os.POSIX_SPAWN_DUP2, 0, 1),
                (os.POSIX_SPAWN_DUP2, 0, 2),
            ]
        else:
            stdin = (
                (os.POSIX_SPAWN_DUP2, fds[2], 0)
                if stdin_pipe
                else (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0)
            )
            actions = [stdin, (os.POSIX_SPAWN_DUP2, fds[0], 1), (os.POSIX_SPAWN_DUP2, fds[1], 2)]
        if session:
            return os.posix_spawn(
                path, argv, env, file_actions=actions, setsid=True, setsigdef=_CATCHABLE, setsigmask=[]
            )
        # A process group of its own, in the agent's session.
        return os.posix_spawn(path, argv, env, file_actions=actions, setpgroup=0, setsigdef=_CATCHABLE, setsigmask=[])
    # posix_spawn cannot set a resource limit on the child: fork instead.
    import resource

    errors_r, errors_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            if session:
                os.setsid()
            else:
                os.setpgid(0, 0)
            if tty_name:
                terminal = os.open(tty_name, os.O_RDWR)  # a session leader's first terminal: its controlling one
                for target in (0, 1, 2):
                    if terminal != target:
                        os.dup2(terminal, target)
            else:
                os.dup2(fds[2] if stdin_pipe else os.open("/dev/null", os.O_RDONLY), 0)
                os.dup2(fds[0], 1)
                os.dup2(fds[1], 2)
            for signum in _CATCHABLE:
                _signal.signal(signum, _signal.SIG_DFL)
            _signal.pthread_sigmask(_signal.SIG_SETMASK, [])
            resource.setrlimit(resource.RLIMIT_AS, (rlimit_as, rlimit_as))
            os.execve(path, argv, env)
        except OSError as error:
            os.write(errors_w, str(error.errno).encode())
        finally:
            os._exit(NOT_FOUND)
    return _started(pid, errors_r, errors_w, argv[0])


def _started(pid: int, errors_r: int, errors_w: int, program: str) -> int:
    """``pid`` once its ``execve`` succeeded (the error pipe closed empty); its ``OSError`` when it failed."""
    os.close(errors_w)
    try:
        failure = os.read(errors_r, 64)
    finally:
        os.close(errors_r)
    if failure:
        os.waitpid(pid, 0)
        code = int(failure)
        raise OSError(code, os.strerror(code), program)
    return pid


def signal_group(group: int, signum: int) -> None:
    """Send ``signum`` to process group ``group`` and, when its leader leads a session, to all of that session.

    A shell on a terminal gives each job a process group of its own, in its
    session: signalling the session reaches them too.
    """
    try:
        session = os.getsid(group) == group
    except OSError:
        session = False
    try:  # noqa: SIM105  (contextlib would slow the agent's start)
        os.killpg(group, signum)
    except OSError:
        pass
    if not session:
        return
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/" + name + "/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:
            continue
        # After the command's name (in parentheses): state, ppid, process group, session.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 3 and fields[3] == str(group).encode():
            try:  # noqa: SIM105
                os.kill(int(name), signum)
            except OSError:
                pass


def main() -> None:
    """Serve the server until the main process ends or the server goes away."""
    control_fd = int(sys.argv[1])
    isolated = sys.argv[2] == "bwrap"
    os.set_inheritable(control_fd, False)
    oom = (-1, b"")
    if isolated:
        # Opened before the uid changes: a non-dumpable process cannot open its own /proc files later.
        oom_fd = os.open("/proc/self/oom_score_adj", os.O_RDWR | os.O_CLOEXEC)
        oom = (oom_fd, os.read(oom_fd, 16).strip() or b"0")
    if sys.argv[3] != "-":
        become(sys.argv[3])
    if int(sys.argv[4]):
        limit_processes(int(sys.argv[4]))
    control = _socket.socket(fileno=control_fd)  # the bootstrap detached its own
    control.setblocking(True)

    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    _signal.set_wakeup_fd(wake_w)
    _signal.signal(_signal.SIGCHLD, lambda signum, frame: None)
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)

    tokens: dict[int, bytes] = {}  # pid -> token
    groups: dict[bytes, int] = {}  # token -> process group of a RUN process, while the group has members
    main_pid = -1

    def send(kind: bytes, *fields: bytes | str | int) -> None:
        control.send(encode(kind, *(field if isinstance(field, bytes) else str(field).encode() for field in fields)))

    def finish() -> None:
        # Under bubblewrap this process is PID 1: when it exits the kernel
        # kills everything else in the sandbox. Without it, kill our group,
        # and the groups of RUN processes.
        if not isolated:
            for group in [*groups.values(), 0]:
                try:  # noqa: SIM105  (contextlib would slow the agent's start)
                    os.killpg(group, _signal.SIGKILL)
                except OSError:
                    pass
        os._exit(0)

    def forget_empty_groups() -> None:
        # A group outlives its leader while its other members run; it is forgotten once they all ended.
        for token, group in list(groups.items()):
            if group in tokens:
                continue
            try:
                os.killpg(group, 0)
            except OSError:
                del groups[token]

    def reap() -> None:
        main_ended = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            token = tokens.pop(pid, None)
            if token is not None:
                send(EXITED, token, status)
            main_ended = main_ended or pid == main_pid
        if groups:
            forget_empty_groups()
        if main_ended:
            # Only now: execs that ended at the same moment as the main process are reported too.
            finish()

    def handle_run(fields: list[bytes], fds: list[int]) -> None:
        token, flags, rlimit_as, cwd = fields[0], fields[1], int(fields[2]), os.fsdecode(fields[3])
        size, argc = (int(fields[4]), int(fields[5])), int(fields[6])
        argv = [os.fsdecode(arg) for arg in fields[7 : 7 + argc]]
        env = {}
        for entry in fields[7 + argc :]:
            key, _, value = entry.partition(b"=")
            env[os.fsdecode(key)] = os.fsdecode(value)
        here = os.open(".", os.O_RDONLY | os.O_CLOEXEC)
        try:
            if cwd:
                try:
                    os.chdir(cwd)
                except OSError as error:
                    send(
                        SPAWN_FAILED,
                        token,
                        CANNOT_RUN,
                        os.fsencode(f"{argv[0]}: cannot run in {cwd}: {error.strerror}"),
                    )
                    return
            try:
                pid, master = run_process(argv, env, fds, flags, rlimit_as, size, isolated, oom)
            except OSError as error:
                not_found = error.errno in (2, 20)  # ENOENT, ENOTDIR
                reason = "command not found" if not_found else (error.strerror or "cannot run")
                send(SPAWN_FAILED, token, NOT_FOUND if not_found else CANNOT_RUN, os.fsencode(f"{argv[0]}: {reason}"))
                return
        finally:
            os.fchdir(here)
            os.close(here)
            for fd in fds:
                os.close(fd)
        tokens[pid] = token
        groups[token] = pid
        if master < 0:
            send(STARTED, token)
            return
        try:
            control.sendmsg(
                [encode(STARTED, token)],
                [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, master.to_bytes(4, sys.byteorder))],
            )
        finally:
            os.close(master)

    def handle_signal(fields: list[bytes]) -> None:
        group = groups.get(fields[0]) if fields else None
        if group is not None and len(fields) > 1 and fields[1].isdigit():
            signal_group(group, int(fields[1]))

    def handle(packet: bytes, fds: list[int]) -> None:
        nonlocal main_pid
        kind_of_message, fields = decode(packet)
        if (
            kind_of_message == RUN
            and len(fields) >= 7
            and len(fds) == (0 if ON_TERMINAL in fields[1] else 2 + (STDIN_PIPE in fields[1]))
        ):
            handle_run(fields, fds)
            return
        if kind_of_message == SIGNAL and not fds:
            handle_signal(fields)
            return
        if kind_of_message != SPAWN or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            return
        token, kind, rlimit_as, argc = fields[0], fields[1], int(fields[2]), int(fields[3])
        argv = [os.fsdecode(arg) for arg in fields[4 : 4 + argc]]
        env = {}
        for entry in fields[4 + argc :]:
            key, _, value = entry.partition(b"=")
            env[os.fsdecode(key)] = os.fsdecode(value)
        try:
            pid = spawn(argv, env, fds[0], fds[1], rlimit_as, isolated, oom)
        except OSError as error:
            # As a shell answers: 127 when there is no such program, 126 when it cannot run.
            not_found = error.errno in (2, 20)  # ENOENT, ENOTDIR
            reason = "command not found" if not_found else (error.strerror or "cannot run")
            code = NOT_FOUND if not_found else CANNOT_RUN
            send(SPAWN_FAILED, token, code, os.fsencode(f"{argv[0] if argv else ''}: {reason}"))
            if kind == MAIN:
                finish()
            return
        finally:
            for fd in fds:
                os.close(fd)
        tokens[pid] = token
        if kind == MAIN:
            main_pid = pid
            send(STARTED, token)

    poller = select.poll()
    poller.register(control_fd, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    fd_space = _socket.CMSG_SPACE(8 * 4)
    send(READY)
    while True:
        for fd, _events in poller.poll():
            if fd == wake_r:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                reap()
                continue
            packet, ancillary, _flags, _address = control.recvmsg(1 << 22, fd_space, _socket.MSG_CMSG_CLOEXEC)
            if not packet:
                finish()
            fds: list[int] = []
            for level, kind, data in ancillary:
                if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                    usable = len(data) - len(data) % 4
                    fds.extend(int.from_bytes(data[i : i + 4], sys.byteorder) for i in range(0, usable, 4))
            handle(packet, fds)
        reap()


if __name__ == "__main__":
    main()
