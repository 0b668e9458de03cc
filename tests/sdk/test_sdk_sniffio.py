"""AsyncPorter spares httpcore a failing ``import sniffio`` on every async request."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HIDE_SNIFFIO = """
import importlib.abc, sys

class HideSniffio(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "sniffio":
            raise ModuleNotFoundError("No module named 'sniffio'", name=name)
        return None

sys.meta_path.insert(0, HideSniffio())
"""

CHECK = """
from porter_sandbox import AsyncPorter

AsyncPorter(base_url="http://127.0.0.1:9")
print(repr(sys.modules.get("sniffio", "absent")) if "sniffio" in sys.modules else "absent")
"""


def run(prelude: str) -> str:
    code = textwrap.dedent(prelude) + "import sys\n" + CHECK
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_a_missing_sniffio_is_remembered_as_missing() -> None:
    assert run(HIDE_SNIFFIO) == "None"


def test_an_installed_sniffio_is_left_alone() -> None:
    has_sniffio = subprocess.run([sys.executable, "-c", "import sniffio"], capture_output=True).returncode == 0
    outcome = run("")
    if has_sniffio:
        assert outcome == "absent" or outcome.startswith("<module 'sniffio'")
    else:
        assert outcome == "None"
