"""The agent protocol: the messages between the process runtime and the agent (PID 1 of each sandbox).

Both ends use this module. The runtime imports it; the agent's code, sent
into the sandbox, carries a copy: ``bootstrap.agent_payload`` puts this
module's code in place of the agent's import of it. So it uses only
built-ins, runs on Python 3.8, and has no ``from __future__`` import of its
own (the agent's, at the top of the payload, covers it).

Each message is one ``SOCK_SEQPACKET`` packet: a kind, then fields, all
separated by NUL bytes.

server -> agent
    ``SPAWN token kind rlimit_as argc argv... env...``, with two file
    descriptors attached (the write ends of the stdout and stderr pipes):
    start a process. ``kind`` is ``MAIN`` (the sandbox's main process: when it
    ends, the agent ends, and with it the sandbox) or ``EXEC``; ``rlimit_as``
    is a byte count, 0 for none; each ``env`` field is ``NAME=value``.

    ``RUN token flags rlimit_as cwd rows cols argc argv... env...``: start a
    process in a process group of its own (a session of its own under
    bubblewrap), as an ``EXEC`` but with options. ``flags`` holds ``i`` when
    its stdin is a pipe and ``t`` when it runs on a terminal. Attached:
    without ``t``, the write ends of the stdout and stderr pipes, then (with
    ``i``) the read end of its stdin; with ``t``, nothing: the agent opens a
    pseudo-terminal in the sandbox (from its own devpts, ``rows`` by ``cols``)
    and the process gets it as its controlling terminal and its stdin, stdout
    and stderr. ``cwd`` is its working directory (empty: the agent's).
    ``SIGNAL token signum``: send ``signum`` to the process group of the
    process that ``RUN`` started for ``token`` (a no-op once that group is gone).

agent -> server
    ``READY``: the agent runs and takes commands.
    ``STARTED token``: the main process (or a ``RUN`` process) started; for a
    ``RUN`` on a terminal, the terminal's master is attached.
    ``SPAWN_FAILED token code message``: a process could not start (``code``
    127 or 126 as a shell says, ``message`` for its stderr).
    ``EXITED token status``: a process ended (``status`` as ``waitpid`` gives it).

The agent runs as the sandbox's user: a packet from it is checked before it
is believed (``decode`` never fails on a malformed one; the runtime checks
each field).
"""

SPAWN = b"S"
READY = b"R"
STARTED = b"P"
SPAWN_FAILED = b"E"
EXITED = b"X"
RUN = b"N"
SIGNAL = b"K"

#: The kinds of process a ``SPAWN`` starts.
MAIN = b"main"
EXEC = b"exec"

#: The flags of a ``RUN``: its stdin is a pipe; it runs on a terminal.
STDIN_PIPE = b"i"
ON_TERMINAL = b"t"


def encode(kind: bytes, *fields: bytes) -> bytes:
    """One message: ``kind`` and ``fields`` joined by NUL bytes (no field may hold a NUL)."""
    return b"\0".join((kind, *fields))


def decode(packet: bytes) -> tuple[bytes, list[bytes]]:
    """A message's kind and fields."""
    kind, *fields = packet.split(b"\0")
    return kind, fields
