"""generated/ is exactly what the pinned generator makes from openapi.yaml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_generated_fails_when_the_spec_changes_without_regenerating(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for part in ("openapi.yaml", "scripts", "generated"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.mkdir(exist_ok=True)
            shutil.copy(source, copy / part)
    check = [sys.executable, str(copy / "scripts" / "generate.py"), "--check"]
    assert subprocess.run(check, capture_output=True).returncode == 0

    spec = copy / "openapi.yaml"
    spec.write_text(spec.read_text().replace("Check that the API process is up", "Check that the process is alive"))
    edited = subprocess.run(check, capture_output=True, text=True)
    assert edited.returncode != 0
    assert "Check that the process is alive" in edited.stdout


def test_generated_package_imports_outside_the_repo(tmp_path: Path) -> None:
    code = "import porter_sandbox_api, pathlib; print(pathlib.Path(porter_sandbox_api.__file__).name)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "__init__.py"
