"""The built distribution, as someone who is handed the wheel installs it: into a fresh virtual environment."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG_VARIABLES = ("PORTER_SANDBOX_BASE_URL", "PORTER_SANDBOX_API_KEY", "PORTER_CLUSTER_ID", "KUBERNETES_SERVICE_HOST")


def _version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert match is not None
    return match.group(1)


def _run(*argv: str | Path, timeout: float = 900, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(word) for word in argv], capture_output=True, text=True, timeout=timeout, check=False, **options
    )  # type: ignore[call-overload, no-any-return]


def test_make_has_a_dist_target() -> None:
    assert re.search(r"^dist:", (ROOT / "Makefile").read_text(), re.MULTILINE)


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_serves_with_the_server_extra(tmp_path: Path) -> None:
    # As `make dist` builds them: the sdist, then the wheel from the sdist (so the sdist is complete too).
    dist = tmp_path / "dist"
    built = _run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = dist / f"porter_sandbox-{_version()}-py3-none-any.whl"
    assert wheel.exists() and (dist / f"porter_sandbox-{_version()}.tar.gz").exists(), list(dist.iterdir())

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python, cli = venv / "bin" / "python", venv / "bin" / "porter-sandbox"
    env = {k: v for k, v in os.environ.items() if k not in (*CONFIG_VARIABLES, "VIRTUAL_ENV", "PYTHONPATH")}

    # The SDK alone: the CLI works, and serve says which extra it lacks and how to add it from this wheel.
    plain = _run(python, "-m", "pip", "install", "--quiet", wheel, env=env)
    assert plain.returncode == 0, plain.stderr
    version = _run(cli, "--version", env=env)
    assert (version.returncode, version.stdout) == (0, f"porter-sandbox {_version()}\n"), version.stderr
    no_server = _run(cli, "serve", "--port", "0", env=env, timeout=60)
    assert no_server.returncode == 1
    assert "needs porter-sandbox's 'server' extra" in no_server.stderr and "Traceback" not in no_server.stderr
    assert f"pip install 'porter-sandbox[server] @ {wheel.as_uri()}'" in no_server.stderr

    extra = _run(python, "-m", "pip", "install", "--quiet", f"{wheel}[server]", env=env)
    assert extra.returncode == 0, extra.stderr

    server = subprocess.Popen(
        [cli, "serve", "--port", "0", "--isolation", "none", "--data-dir", tmp_path / "data"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 120)
        first = server.stdout.readline().decode() if ready else ""
        match = re.search(r"serving (http://\S+)", first)
        assert match, first
        client = (
            "from porter_sandbox import Porter\n"
            f"with Porter(base_url={match.group(1)!r}) as porter:\n"
            "    with porter.sandboxes.create(image='python:3.12-slim') as sandbox:\n"
            "        print(sandbox.exec(['echo', 'from the wheel']).stdout, end='')\n"
        )
        used = _run(python, "-c", client, env=env, cwd=tmp_path, timeout=120)
        assert (used.returncode, used.stdout) == (0, "from the wheel\n"), used.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err.decode()
