"""Type-checking a user's snippet with mypy, as their editor or CI would: what the SDK's types accept and refuse.

    from typecheck import mypy_errors

    errors = mypy_errors(tmp_path, "porter.sandboxes.raw.get_sandbox(123)  # error: incompatible type")

Each line that should be refused ends with a comment ``# error: TEXT``; every
other line must pass. ``mypy_errors`` answers what did not go as marked.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_EXPECTED = re.compile(r"#\s*error:\s*(.+?)\s*$")
_REPORTED = re.compile(r"^snippet\.py:(\d+): error: (.*)$")


def mypy_errors(tmp_path: Path, code: str) -> list[str]:
    """Run ``mypy --strict`` on ``code``; answer the mismatches with its ``# error:`` marks (empty when all agree)."""
    source = textwrap.dedent(code)
    (tmp_path / "snippet.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(ROOT / ".mypy_cache"), "snippet.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    reported: dict[int, list[str]] = {}
    for line in done.stdout.splitlines():
        match = _REPORTED.match(line)
        if match:
            reported.setdefault(int(match.group(1)), []).append(match.group(2))
    problems: list[str] = []
    for number, line in enumerate(source.splitlines(), start=1):
        expected = _EXPECTED.search(line)
        errors = reported.pop(number, [])
        if expected and not any(expected.group(1) in error for error in errors):
            problems.append(f"line {number} should be refused with {expected.group(1)!r}: {line.strip()} -> {errors}")
        if not expected and errors:
            problems.append(f"line {number} should pass: {line.strip()} -> {errors}")
    problems += [f"line {number}: {errors}" for number, errors in reported.items()]
    if done.returncode not in (0, 1):
        problems.append(f"mypy failed: {done.stdout}{done.stderr}")
    return problems
