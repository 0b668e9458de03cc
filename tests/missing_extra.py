"""Running Python as if the ``server`` extra were not installed: imports of its packages fail, as they would.

from missing_extra import run_without_server_extra

done = run_without_server_extra("from porter_sandbox._cli import main; main(['serve'])")
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

#: What ``pip install porter-sandbox`` without ``[server]`` leaves out.
SERVER_EXTRA = ("uvicorn", "starlette", "yaml", "jsonschema", "httptools", "uvloop", "docker")

_BLOCKER = """
import importlib.abc, sys

class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


def run_without_server_extra(
    code: str, *, modules: tuple[str, ...] = SERVER_EXTRA, cwd: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where importing any of ``modules`` fails."""
    program = _BLOCKER.format(blocked=set(modules)) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env=dict(os.environ),
    )
