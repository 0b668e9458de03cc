"""Every code block in README.md runs here, as a reader would run it.

How a block is checked depends on its language and on a marker, an HTML
comment on the line just above the fence: ``<!-- readme-test: KIND -->``.

- ``python`` (no marker): runs as a script in a fresh interpreter, with
  ``PORTER_SANDBOX_BASE_URL`` pointing at a real local server, twice: an
  example must run again as written on the same server (names are never
  reused, and the server keeps its data).
- ``python`` + ``cluster``: configures a client for a Porter cluster; it runs
  with fake cluster variables and a network that refuses every request, and
  must resolve the URL those variables name without sending anything.
- ``python`` + ``pytest``: a user's test file; it runs under pytest (in a
  fresh process) with only the plugin's fixtures, and must pass.
- ``python`` + ``standalone``: runs as a script with no server configured (it
  starts its own).
- ``python`` + ``isolated``: like a plain block, on a server with bubblewrap
  isolation (volumes at their mount paths need it); skips without bubblewrap
  unless ``PORTER_SANDBOX_REQUIRE_BWRAP=1``.
- ``python`` + ``env-groups``: like a plain block, on a server started with
  ``--env-group team=team.env``, where ``team.env`` is the README's
  ``env-file`` block.
- ``sh`` (no marker): each line is a ``porter-sandbox`` command (or ``export``
  of a variable for the following lines, possibly ``VAR=$(porter-sandbox ...)``,
  what that command prints); each runs against the local server and must exit
  0 (or, with a trailing ``# exits N`` comment, N). The block runs twice, as
  the python ones do.
- ``sh`` + ``make``: each line is ``make TARGET``; the Makefile must have it
  (``make demo`` and ``make test`` themselves run in test_demo.py and CI).
- ``sh`` + ``serve``: each line starts a server (``porter-sandbox serve ...``);
  it runs with ``--port 0`` and a temporary data dir added, in a directory
  holding the README's ``team.env``, must print its ``serving`` line, and
  stops on SIGTERM with exit 0. (The docker runtime starts without an engine
  too: it reports it as not ready.)
- ``sh`` + ``pip``: ``pip install`` lines of this project: from a checkout
  (``-e '.[server]'``), a wheel in ``dist/`` (named for pyproject.toml's
  version), or ``porter-sandbox[...] @ URL``; the extras they name must be the
  ones pyproject.toml declares (test_dist.py installs the wheel for real).
- ``text`` + ``server-tree``: the server's folders and modules; each name must
  exist in ``src/porter_sandbox_server``, and each module there must be named.
- ``text`` + ``env-file``: the one dotenv file the README configures as the
  environment group ``team`` (``team.env``); the server must read it.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from runtimes import require_bwrap, require_kubernetes

from porter_sandbox.testing import LocalServer, bubblewrap_available, local_server

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONFIG_VARIABLES = ("PORTER_SANDBOX_BASE_URL", "PORTER_SANDBOX_API_KEY", "PORTER_CLUSTER_ID", "KUBERNETES_SERVICE_HOST")
KINDS = {
    "python": {"", "cluster", "pytest", "standalone", "isolated", "env-groups"},
    "sh": {"", "make", "serve", "pip", "deploy"},
    "text": {"server-tree", "env-file"},
}
ENV_GROUP, ENV_FILE = "team", "team.env"

_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*([\w-]+)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    line: int
    language: str
    kind: str
    code: str

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.language}{'-' + self.kind if self.kind else ''}"


def readme_blocks(text: str) -> list[Block]:
    """The README's fenced blocks, with the marker above each (or "")."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index
        marker = _MARKER.match(lines[start - 1]) if start > 0 else None
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].rstrip() != "```":
            body.append(lines[index])
            index += 1
        assert index < len(lines), f"README.md:{start + 1}: a code block is never closed"
        blocks.append(Block(start + 1, opening.group(1), marker.group(1) if marker else "", "\n".join(body) + "\n"))
        index += 1
    return blocks


BLOCKS = readme_blocks(README.read_text())


def _of(language: str, kind: str) -> list[Block]:
    return [block for block in BLOCKS if block.language == language and block.kind == kind]


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}


@pytest.fixture(scope="module")
def readme_server() -> Iterator[LocalServer]:
    """The server the README's examples talk to (sandbox names in the README are all different)."""
    with local_server() as server:
        yield server


def _write_env_file(directory: Path) -> Path:
    """The README's ``team.env``, written into ``directory``."""
    (block,) = _of("text", "env-file")
    path = directory / ENV_FILE
    path.write_text(block.code)
    return path


@pytest.fixture(scope="module")
def env_group_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server with the README's environment group, as its ``serve --env-group`` line starts one."""
    path = _write_env_file(tmp_path_factory.mktemp("env-group"))
    with local_server(extra_args=["--env-group", f"{ENV_GROUP}={path}"]) as server:
        yield server


# -- the README's shape ------------------------------------------------------------------------


def test_every_block_has_a_language_and_a_known_kind() -> None:
    assert BLOCKS, "README.md has no code blocks"
    for block in BLOCKS:
        assert block.language in KINDS, f"README.md:{block.line}: say python or sh, not {block.language!r}"
        assert block.kind in KINDS[block.language], f"README.md:{block.line}: unknown marker {block.kind!r}"


def test_the_server_tree_names_every_module_and_nothing_else() -> None:
    (block,) = _of("text", "server-tree")
    source = ROOT / "src" / "porter_sandbox_server"
    named = set(re.findall(r"[\w.]+\.py|[\w]+/", block.code))
    modules = {path.name for path in source.rglob("*.py") if path.name != "__init__.py"}
    folders = {f"{path.name}/" for path in source.rglob("*") if path.is_dir() and path.name != "__pycache__"}
    folders.add("porter_sandbox_server/")
    assert named - modules - folders == set(), "named in the README's tree but not in the source"
    assert modules - named == set(), "modules the README's tree leaves out"
    assert folders - named == set(), "folders the README's tree leaves out"


def test_the_readme_starts_with_the_two_commands_and_the_quickstart() -> None:
    first = BLOCKS[0]
    assert first.kind == "make"
    assert [line.split()[:2] for line in first.code.splitlines() if line.strip()] == [
        ["make", "demo"],
        ["make", "test"],
    ]
    quickstart = next(block for block in BLOCKS if block.language == "python")
    assert "hello from porter" in quickstart.code
    assert (ROOT / "examples" / "quickstart.py").read_text().count("hello from porter") >= 1


def test_after_the_demo_the_readme_says_how_to_run_a_server() -> None:
    text = README.read_text()
    demo_end = text.index("make test")
    assert "make serve" in text[demo_end : demo_end + 1500]
    assert ".venv/bin/porter-sandbox serve" in text[demo_end : demo_end + 1500]


# -- python ------------------------------------------------------------------------------------


def _run_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=240, check=False
    )


@pytest.mark.parametrize("block", _of("python", ""), ids=lambda b: b.id)
def test_python_block_runs(block: Block, readme_server: LocalServer, tmp_path: Path) -> None:
    env = dict(_base_env(), PORTER_SANDBOX_BASE_URL=readme_server.url)
    for run in ("first", "second"):  # the second time on the same server, as a reader trying it again would
        done = _run_python(block.code, env, tmp_path)
        assert done.returncode == 0, f"README.md:{block.line} ({run} run):\n{done.stdout}\n{done.stderr}"


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_each_example_runs_twice_on_the_same_server(example: Path, readme_server: LocalServer, tmp_path: Path) -> None:
    env = dict(_base_env(), PORTER_SANDBOX_BASE_URL=readme_server.url)
    for run in ("first", "second"):
        done = subprocess.run(
            [sys.executable, str(example)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, f"{example.name} ({run} run):\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("block", _of("python", "isolated"), ids=lambda b: b.id)
def test_isolated_python_block_runs(block: Block, readme_server: LocalServer, tmp_path: Path) -> None:
    if readme_server.isolation == "none":
        require_bwrap()
    test_python_block_runs(block, readme_server, tmp_path)


@pytest.mark.parametrize("block", _of("python", "env-groups"), ids=lambda b: b.id)
def test_env_groups_python_block_runs(block: Block, env_group_server: LocalServer, tmp_path: Path) -> None:
    test_python_block_runs(block, env_group_server, tmp_path)


def test_the_readme_serves_the_env_file_it_shows() -> None:
    serve_lines = [line for block in _of("sh", "serve") for line in _commands(block)]
    assert any(f"--env-group {ENV_GROUP}={ENV_FILE}" in line for line in serve_lines)
    assert _of("python", "env-groups"), "an env-file block with no example that uses it"


@pytest.mark.parametrize("block", _of("python", "standalone"), ids=lambda b: b.id)
def test_standalone_python_block_runs(block: Block, tmp_path: Path) -> None:
    done = _run_python(block.code, _base_env(), tmp_path)
    assert done.returncode == 0, f"README.md:{block.line}:\n{done.stdout}\n{done.stderr}"


FAKE_PROJECT_ID = 4242
FAKE_CLUSTER_ID = "7"


def _fake_porter_api_key() -> str:
    import base64
    import json

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'project_id': FAKE_PROJECT_ID, 'sub': 'readme'})}.c2lnbmF0dXJl"


# Runs the block with every httpx request refused, then says where its client would have gone.
_CLUSTER_HARNESS = """
import httpx, json, sys

def refuse(self, request, *args, **kwargs):
    raise AssertionError(f"the README's cluster example sent a request: {request.method} {request.url}")

httpx.HTTPTransport.handle_request = refuse
httpx.AsyncHTTPTransport.handle_async_request = refuse
namespace = {"__name__": "__readme__"}
exec(compile(sys.argv[1], "README.md", "exec"), namespace)
from porter_sandbox import AsyncPorter, Porter
clients = [v for v in namespace.values() if isinstance(v, (Porter, AsyncPorter))]
print(json.dumps([client.base_url for client in clients]))
"""


@pytest.mark.parametrize("block", _of("python", "cluster"), ids=lambda b: b.id)
def test_cluster_block_resolves_the_clusters_url_without_a_request(block: Block, tmp_path: Path) -> None:
    import json

    env = dict(_base_env(), PORTER_SANDBOX_API_KEY=_fake_porter_api_key(), PORTER_CLUSTER_ID=FAKE_CLUSTER_ID)
    done = subprocess.run(
        [sys.executable, "-c", _CLUSTER_HARNESS, block.code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"README.md:{block.line}:\n{done.stdout}\n{done.stderr}"
    urls = json.loads(done.stdout.strip().splitlines()[-1])
    assert urls, f"README.md:{block.line}: the block leaves no Porter client to check"
    expected = f"https://dashboard.porter.run/api/v2/alpha/projects/{FAKE_PROJECT_ID}/clusters/{FAKE_CLUSTER_ID}"
    assert set(urls) == {expected}


@pytest.mark.parametrize("block", _of("python", "pytest"), ids=lambda b: b.id)
def test_pytest_block_passes_with_the_plugin_fixtures(block: Block, tmp_path: Path) -> None:
    import importlib.metadata

    (tmp_path / "test_readme_example.py").write_text(block.code)
    installed = any(
        ep.value == "porter_sandbox.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11")
    )
    if not installed:  # until the pytest11 entry point is declared, load the plugin by hand
        (tmp_path / "conftest.py").write_text('pytest_plugins = ["porter_sandbox.pytest_plugin"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        env=_base_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"README.md:{block.line}:\n{done.stdout}\n{done.stderr}"
    assert " passed" in done.stdout and "skipped" not in done.stdout


# -- shell -------------------------------------------------------------------------------------


def _commands(block: Block) -> list[str]:
    return [line.strip() for line in block.code.splitlines() if line.strip() and not line.strip().startswith("#")]


_EXPECTED_EXIT = re.compile(r"#\s*exits\s+(\d+)\s*$")


_CAPTURE = re.compile(r"^\$\((.*)\)$")
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def _expand(word: str, env: dict[str, str]) -> str:
    """``word`` with the variables the block exported put in (others are left as written)."""
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), word)


def _porter_sandbox(words: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "porter_sandbox._cli", *words[1:]],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("block", _of("sh", ""), ids=lambda b: b.id)
def test_cli_block_runs(block: Block, readme_server: LocalServer, tmp_path: Path) -> None:
    for run in ("first", "second"):  # the second time on the same server, as a reader trying it again would
        env = dict(_base_env(), PORTER_SANDBOX_BASE_URL=readme_server.url)
        for line in _commands(block):
            expected = _EXPECTED_EXIT.search(line)
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                captured = _CAPTURE.match(value.strip())
                if captured:
                    words = [_expand(word, env) for word in shlex.split(captured.group(1))]
                    assert words[0] == "porter-sandbox", f"README.md:{block.line}: {line!r}"
                    done = _porter_sandbox(words, env, tmp_path)
                    assert done.returncode == 0, f"README.md:{block.line} ({run} run): {line}\n{done.stderr}"
                    env[name.strip()] = done.stdout.strip()
                else:
                    env[name.strip()] = _expand(shlex.split(value)[0], env)
                continue
            words = shlex.split(line, comments=True)
            assert words[0] == "porter-sandbox", f"README.md:{block.line}: {line!r} is not a porter-sandbox command"
            assert words[1] != "serve", f"README.md:{block.line}: mark server commands with readme-test: serve"
            done = _porter_sandbox([_expand(word, env) for word in words], env, tmp_path)
            want = int(expected.group(1)) if expected else 0
            assert done.returncode == want, f"README.md:{block.line} ({run} run): {line}\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stderr


@pytest.mark.parametrize("block", _of("sh", "make"), ids=lambda b: b.id)
def test_make_block_names_real_targets(block: Block) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for line in _commands(block):
        words = shlex.split(line, comments=True)
        assert words[0] == "make", f"README.md:{block.line}: {line!r}"
        for target in words[1:]:
            assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"no make target {target!r}"


@pytest.mark.parametrize("block", _of("sh", "pip"), ids=lambda b: b.id)
def test_pip_block_names_this_package(block: Block) -> None:
    # pyproject.toml, read without tomllib (Python 3.11+): the project's name and its extras' names.
    pyproject = (ROOT / "pyproject.toml").read_text()
    name_match = re.search(r'^name = "([^"]+)"', pyproject, re.MULTILINE)
    assert name_match is not None
    version_match = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE)
    assert name_match is not None and version_match is not None
    wheel = f"dist/{name_match.group(1).replace('-', '_')}-{version_match.group(1)}-py3-none-any.whl"
    extras_section = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = set(re.findall(r"^(\w[\w-]*) = \[", extras_section, re.MULTILINE))
    for line in _commands(block):
        words = shlex.split(line, comments=True)
        assert words[:2] == ["pip", "install"], f"README.md:{block.line}: {line!r}"
        requirement = words[-1]
        where, _, wanted = requirement.partition("[")
        wanted, _, url = wanted.partition("]")
        # This project, never the package index's porter-sandbox: a checkout, the wheel make dist builds, or a URL.
        if words[2:] == ["-e", requirement]:
            assert where == "."
        else:
            assert len(words) == 3, f"README.md:{block.line}: {line!r}"
            assert where == wheel or (where == name_match.group(1) and url.strip().startswith("@ ")), line
        for extra in wanted.split(","):
            assert not extra or extra in extras, f"no extra {extra!r}"


@pytest.mark.parametrize("block", _of("sh", "deploy"), ids=lambda b: b.id)
def test_deploy_block_names_real_scripts_and_manifests(block: Block) -> None:
    for line in _commands(block):
        words = shlex.split(line, comments=True)
        if words[0].startswith("scripts/"):
            assert os.access(ROOT / words[0], os.X_OK), f"README.md:{block.line}: no script {words[0]}"
            continue
        assert words[0] == "kubectl", f"README.md:{block.line}: {line!r}"
        for flag in ("-f", "-k"):
            if flag in words:
                assert (ROOT / words[words.index(flag) + 1]).exists(), f"README.md:{block.line}: {line!r}"


SERVE_LINES = [(block, line) for block in _of("sh", "serve") for line in _commands(block)]


@pytest.mark.parametrize(("block", "line"), SERVE_LINES, ids=[f"{b.id}-{n}" for n, (b, _) in enumerate(SERVE_LINES)])
def test_serve_line_starts_a_server(block: Block, line: str, tmp_path: Path) -> None:
    words = shlex.split(line, comments=True)
    assert words[:2] == ["porter-sandbox", "serve"], f"README.md:{block.line}: {line!r}"
    runtime = words[words.index("--runtime") + 1] if "--runtime" in words else "process"
    isolation = words[words.index("--isolation") + 1] if "--isolation" in words else "auto"
    if runtime == "process" and isolation != "none" and not bubblewrap_available():
        require_bwrap()  # the server refuses to start unisolated unless told: that is the point
    if runtime == "kubernetes":
        require_kubernetes()  # without any cluster configuration the server refuses to start
    argv = [sys.executable, "-m", "porter_sandbox._cli", *words[1:], "--port", "0", "--data-dir", str(tmp_path)]
    _write_env_file(tmp_path)  # a line may name it, as a reader who saved it would
    process = subprocess.Popen(argv, env=_base_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        first = process.stdout.readline().decode() if ready else ""
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert first.startswith("porter-sandbox: serving http://"), f"README.md:{block.line}: {line}\n{err.decode()}"
    assert process.returncode == 0, f"README.md:{block.line}: {line}\n{err.decode()}"
