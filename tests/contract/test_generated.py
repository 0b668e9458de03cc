"""generated/ is exactly what the pinned generator (with scripts/templates/) makes from openapi.yaml, and reads times right."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


# RFC 3339 date-times as servers write them, and spellings the standard allows that are rarer.
RFC3339_TIMES = [
    "2026-01-31T12:00:00Z",
    "2026-01-31T12:00:00.5Z",
    "2026-01-31T12:00:00.123456Z",
    "2026-01-31T12:00:00.123456789Z",  # nanoseconds, as Go writes them: cut to microseconds
    "2026-01-31T12:00:00+02:00",
    "2026-01-31T12:00:00.25-05:30",
    "2026-01-31T12:00:00-00:00",
    "2026-01-31t12:00:00z",  # lowercase, which datetime.fromisoformat refuses
    "2026-01-31T24:00:00Z",  # the end of the day, likewise
]


@pytest.mark.parametrize("text", RFC3339_TIMES)
def test_generated_models_read_date_times_as_dateutil_does(text: str) -> None:
    from dateutil.parser import isoparse
    from porter_sandbox_api.models import StatusResponse
    from porter_sandbox_api.types import parse_datetime

    expected = isoparse(text)
    assert parse_datetime(text) == expected
    assert parse_datetime(text).utcoffset() == expected.utcoffset()
    status = StatusResponse.from_dict(
        {"id": "a", "name": "a", "image": "i", "phase": "running", "created_at": text, "host": ""}
    )
    assert status.created_at == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-01-31T12:00:60Z"])
def test_generated_models_refuse_what_is_not_a_date_time(text: str) -> None:
    from porter_sandbox_api.types import parse_datetime

    with pytest.raises(ValueError):
        parse_datetime(text)
