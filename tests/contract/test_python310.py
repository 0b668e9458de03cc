"""The SDK and the generated core support Python 3.10: no newer syntax may slip in."""

from __future__ import annotations

import ast
import gc
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SDK_SOURCES = sorted([*(ROOT / "src" / "porter_sandbox").rglob("*.py"), *(ROOT / "generated").rglob("*.py")])


@pytest.mark.parametrize("path", SDK_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_parses_as_python_310(path: Path) -> None:
    source = path.read_text()
    # CPython 3.11.7's parser raises "AST constructor recursion depth mismatch" when a garbage
    # collection runs Python code (a finaliser of an earlier test's object) in the middle of it
    # (gh-106905): collect first, and not during the parse.
    gc.collect()
    gc.disable()
    try:
        ast.parse(source, filename=str(path), feature_version=(3, 10))
    finally:
        gc.enable()


def python310() -> str | None:
    """A Python 3.10 interpreter on this machine, if there is one."""
    candidates = [
        shutil.which("python3.10"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python"))),
    ]
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def test_sdk_imports_and_parses_on_python_310() -> None:
    interpreter = python310()
    if interpreter is None:
        pytest.skip("no Python 3.10 interpreter on this machine")
    # The SDK's dependencies are pure Python, so the test environment's copies serve 3.10 as well.
    site_packages = [p for p in sys.path if p.endswith("site-packages")]
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT / "generated"), *site_packages])
    code = (
        "import porter_sandbox, porter_sandbox_api.models as m\n"
        "s = m.StatusResponse.from_dict({'id': 'a', 'name': 'a', 'image': 'i', 'phase': 'new-phase',"
        " 'created_at': '2026-01-01T00:00:00Z', 'started_at': '2026-01-01t00:00:00.123456789+02:00', 'host': ''})\n"
        "print(s.phase, s.created_at.isoformat(), s.started_at.isoformat())\n"
    )
    result = subprocess.run(
        [interpreter, "-I", "-c", f"import sys; sys.path[:0] = {path.split(os.pathsep)!r}\n{code}"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # Python 3.10's datetime.fromisoformat reads no "Z": the generated models read RFC 3339 with dateutil there.
    assert result.stdout.strip() == "new-phase 2026-01-01T00:00:00+00:00 2026-01-01T00:00:00.123456+02:00"
