"""How the agent's code gets into a sandbox: a one-line bootstrap, then the code over the control socket.

The sandbox's first process is the host's ``python3 -I -S -c BOOTSTRAP FD``.
The bootstrap reads one packet from the control socket (descriptor ``FD``):
the agent's code, led by a byte that says its form, and runs it. Sending
the code keeps the command line short (``ps`` shows it) and lets the code be
marshalled bytecode when the sandbox's python reads the server's bytecode
format, which saves compiling it at every start.

The payload is ``agent.py`` with its import of ``protocol`` replaced by
``protocol.py``'s own code, so both ends speak from one definition.
"""

from __future__ import annotations

import asyncio
import importlib.util
import marshal
import sys
from pathlib import Path

#: The first byte of a payload: marshalled code, or source text to compile.
CODE_MARSHALLED = b"M"
CODE_SOURCE = b"C"

BOOTSTRAP = (
    "import _socket,marshal,sys;c=_socket.socket(fileno=int(sys.argv[1]));s=c.recv(1<<20);c.detach();"
    f"exec(marshal.loads(s[1:]) if s[:1]=={CODE_MARSHALLED!r} else compile(s[1:],'porter-sandbox-agent','exec'))"
)

_HERE = Path(__file__).parent
_PROTOCOL_IMPORT = b"from .protocol import "


def agent_source() -> bytes:
    """The agent's code as it runs in a sandbox: ``agent.py`` with ``protocol.py`` in place of its import."""
    agent = (_HERE / "agent.py").read_bytes()
    protocol = (_HERE / "protocol.py").read_bytes()
    lines = agent.splitlines(keepends=True)
    imports = [index for index, line in enumerate(lines) if line.startswith(_PROTOCOL_IMPORT)]
    if len(imports) != 1:
        raise RuntimeError("agent.py must import protocol in exactly one statement")
    first = last = imports[0]
    if b"(" in lines[first]:
        # A parenthesized import (as the formatter writes a long one) ends at its closing parenthesis.
        while b")" not in lines[last]:
            last += 1
    lines[first : last + 1] = [protocol + b"\n"]
    return b"".join(lines)


async def agent_payload(python: str) -> bytes:
    """What the bootstrap reads first: the agent's code, marshalled when ``python`` can load ours."""
    source = agent_source()
    if python != sys.executable:
        probe = await asyncio.create_subprocess_exec(
            python,
            "-I",
            "-S",
            "-c",
            "import importlib.util;print(importlib.util.MAGIC_NUMBER.hex())",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        magic, _ = await probe.communicate()
        if magic.decode().strip() != importlib.util.MAGIC_NUMBER.hex():
            return CODE_SOURCE + source
    return CODE_MARSHALLED + marshal.dumps(compile(source, "porter-sandbox-agent", "exec"))
