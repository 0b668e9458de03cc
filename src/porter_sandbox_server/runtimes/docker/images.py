"""What a sandbox's container runs: the image's own command, or an idle keep-alive when that would exit at once."""

from __future__ import annotations

import io
import os
import re
import tarfile
import time
from collections.abc import Sequence

WORKSPACE = "/workspace"
KEEP_ALIVE = ["/bin/sh", "-c", "while :; do sleep 3600; done"]

#: Programs that, run with no script and no terminal, read an empty stdin and exit.
_INTERACTIVE = re.compile(
    r"(sh|ash|bash|dash|zsh|ksh|mksh|fish|csh|tcsh"
    r"|python|python\d+(\.\d+)?|pypy\d*|ipython\d*|node|nodejs|deno|bun"
    r"|irb|ruby|php|perl|lua|R|julia|ghci|jshell|clojure|scala|erl|iex|elixir)"
)


def needs_keep_alive(entrypoint: Sequence[str] | None, cmd: Sequence[str] | None) -> bool:
    """Whether an image with this ``Entrypoint`` and ``Cmd`` would exit at once when run as is.

    True when both are empty, or when ``Cmd`` is a lone interactive shell or
    interpreter, followed by nothing but option flags (``bash``, ``python3``,
    ``/bin/sh -l``): without a terminal these read an empty stdin and end.
    """
    entrypoint = list(entrypoint or [])
    cmd = list(cmd or [])
    if not entrypoint and not cmd:
        return True
    if not cmd:
        return False
    program = os.path.basename(cmd[0])
    return _INTERACTIVE.fullmatch(program) is not None and all(arg.startswith("-") for arg in cmd[1:])


def workspace_archive() -> bytes:
    """A tar archive holding the empty ``/workspace`` directory, for images that lack it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(WORKSPACE.lstrip("/"))
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        info.mtime = int(time.time())
        archive.addfile(info)
    return buffer.getvalue()
