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

agent -> server
    ``READY``: the agent runs and takes commands.
    ``STARTED token``: the main process started.
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

#: The kinds of process a ``SPAWN`` starts.
MAIN = b"main"
EXEC = b"exec"


def encode(kind: bytes, *fields: bytes) -> bytes:
    """One message: ``kind`` and ``fields`` joined by NUL bytes (no field may hold a NUL)."""
    return b"\0".join((kind, *fields))


def decode(packet: bytes) -> tuple[bytes, list[bytes]]:
    """A message's kind and fields."""
    kind, *fields = packet.split(b"\0")
    return kind, fields
