"""``make demo``, as a newcomer runs it: scripts/demo.py starts a server, runs the quickstart, stops it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scripts" / "demo.py"


def _run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for variable in (
        "PORTER_SANDBOX_BASE_URL",
        "PORTER_SANDBOX_API_KEY",
        "PORTER_CLUSTER_ID",
        "KUBERNETES_SERVICE_HOST",
    ):
        env.pop(variable, None)
    return env


def test_demo_prints_the_sandboxs_output_and_exits_0() -> None:
    done = _run_demo(_clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hello from porter" in done.stdout
    assert "Traceback" not in done.stderr
    assert "terminated sandbox" in done.stdout
    assert "server stopped" in done.stdout
    assert "make serve" in done.stdout  # and what to do next


def test_demo_without_bubblewrap_says_so_loudly_and_still_works(tmp_path: Path) -> None:
    # A PATH where every program is found except bwrap: the machine of a newcomer without bubblewrap.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = Path(directory, name)
            link = bin_dir / name
            if name != "bwrap" and not link.exists() and os.access(target, os.X_OK) and target.is_file():
                link.symlink_to(target)
    env = dict(_clean_env(), PATH=str(bin_dir))
    done = _run_demo(env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hello from porter" in done.stdout
    assert "--isolation none" in done.stderr
    assert "UNISOLATED" in done.stderr
