"""A local Sandbox API server for your tests: no cluster needed.

    from porter_sandbox.testing import local_server

    with local_server() as server:
        with server.client() as porter:
            sandbox = porter.sandboxes.create(image="python:3.12-slim")
            print(sandbox.exec(["echo", "hi"]).stdout)

``local_server`` starts ``python -m porter_sandbox_server serve`` (it needs the
``server`` extra: ``pip install -e '.[server]'`` from a checkout) as a child
process on a free loopback port with a temporary data directory, waits until
it answers, and stops it on exit. The pytest plugin in
``porter_sandbox.pytest_plugin`` builds its fixtures on it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import AsyncPorter, Porter
    from ._sandboxes import SandboxPhase

__all__ = [
    "LIVE_PHASES",
    "LocalServer",
    "SandboxLeftRunningWarning",
    "ServerStartError",
    "bubblewrap_available",
    "live_sandboxes",
    "local_server",
]

logger = logging.getLogger("porter_sandbox.testing")

_SERVING = re.compile(r"serving (http://\S+)")


LIVE_PHASES: tuple[SandboxPhase, ...] = ("queued", "creating", "running")
"""The phases of a sandbox that has not ended: it still holds what it was given."""


class ServerStartError(RuntimeError):
    """The local server did not start; the message carries what it printed (or which extra to install)."""


class SandboxLeftRunningWarning(UserWarning):
    """Sandboxes were still running on the test server when the test session ended: a test did not terminate them.

    Terminate them in the test (``with porter.sandboxes.create(...) as sandbox:``
    does it on exit), or ask for the ``sandbox`` fixture, which always does.
    """


@functools.cache
def bubblewrap_available() -> bool:
    """Whether bubblewrap (``bwrap``) is installed and can create namespaces on this machine.

    Installed is not enough: inside an unprivileged container ``bwrap`` is often
    present but not allowed to create namespaces, so this runs it once.
    """
    path = shutil.which("bwrap")
    if path is None:
        return False
    probe = [path, "--ro-bind", "/", "/", "--unshare-pid", "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class LocalServer:
    """A ``porter-sandbox serve`` child process on a free loopback port.

    ``isolation=None`` picks ``bwrap`` when bubblewrap works on this machine
    (``bubblewrap_available()``) and ``none`` otherwise (commands then run
    unisolated: fine for your own test code, never for untrusted code).
    ``default_ttl`` (seconds; 0 for none) is the lifetime of sandboxes created
    without ``ttl_seconds`` (the server's own default, a day, when not given).
    """

    def __init__(
        self,
        *,
        runtime: str = "process",
        isolation: str | None = None,
        api_key: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        default_ttl: int | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        from ._extras import missing_server_modules, server_extra_message

        missing = missing_server_modules()
        if missing:
            raise ServerStartError(server_extra_message(missing))
        if isolation is None:
            isolation = "bwrap" if bubblewrap_available() else "none"
        self.runtime = runtime
        self.isolation = isolation
        self.api_key = api_key
        self.extra_args = list(extra_args)
        if default_ttl is not None:
            self.extra_args += ["--default-ttl", str(default_ttl)]
        self.startup_timeout = startup_timeout
        self._owns_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="porter-sandbox-"))
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.server.log"
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server process's id."""
        if self.process is None:
            raise RuntimeError("the server is not running")
        return self.process.pid

    def start(self) -> LocalServer:
        """Start the server (again, on the same data directory) and wait until it serves.

        Each start picks a free port, so ``url`` changes on a restart: make new clients after it.
        """
        if self.process is not None and self.process.poll() is None:
            return self
        env = dict(os.environ)
        env.pop("PORTER_SANDBOX_SERVER_API_KEY", None)
        if self.api_key is not None:
            env["PORTER_SANDBOX_SERVER_API_KEY"] = self.api_key
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self._command(), stdout=subprocess.PIPE, stderr=log, env=env)
        self.url = self._wait_for_url(self.process)
        return self

    def _command(self) -> list[str]:
        """The ``serve`` command line this server runs."""
        argv = [
            sys.executable,
            "-m",
            "porter_sandbox_server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--runtime",
            self.runtime,
            *self.extra_args,
        ]
        if self.runtime == "process":
            argv += ["--isolation", self.isolation]
        return argv

    def _wait_for_url(self, process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        buffered = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                buffered += chunk
                match = _SERVING.search(buffered.decode(errors="replace"))
                if match:
                    # Keep draining stdout so the server never blocks on a full pipe.
                    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
                    return match.group(1)
                if not chunk and process.poll() is not None:
                    break
            elif process.poll() is not None:
                break
        exited = process.poll() is not None
        code = self._terminate(process, timeout=5)
        why = f"exited with code {code}" if exited else f"did not serve within {self.startup_timeout:g}s"
        raise ServerStartError(f"porter-sandbox serve {why}; it said:\n{self.log().strip()}")

    def log(self) -> str:
        """What the server wrote to stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 20.0) -> int | None:
        """Stop the server with SIGTERM (SIGKILL after ``timeout``); answer its exit code."""
        if self.process is None:
            return None
        code = self._terminate(self.process, timeout)
        self.process = None
        return code

    def kill(self) -> None:
        """Kill the server outright (SIGKILL), as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes], timeout: float) -> int:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def client(self, **options: Any) -> Porter:
        """A ``Porter`` client pointed at this server (``options`` go to ``Porter``)."""
        from ._client import Porter

        return Porter(**self._client_options(options))

    def async_client(self, **options: Any) -> AsyncPorter:
        """An ``AsyncPorter`` client pointed at this server (``options`` go to ``AsyncPorter``)."""
        from ._client import AsyncPorter

        return AsyncPorter(**self._client_options(options))

    def _client_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if not self.url:
            raise RuntimeError("the server has not started: call start() or use it in a with block")
        # "" rather than None: a key for a real cluster in PORTER_SANDBOX_API_KEY must not be sent here.
        return {"base_url": self.url, "api_key": self.api_key or "", **options}

    def close(self) -> None:
        """Stop the server and remove its temporary data directory."""
        self.stop()
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                self.log_path.unlink()

    def __enter__(self) -> LocalServer:
        try:
            return self.start()
        except BaseException:
            self.close()  # no temporary directory left behind by a server that did not start
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalServer(url={self.url!r}, runtime={self.runtime!r}, data_dir={str(self.data_dir)!r})"


def live_sandboxes(server: LocalServer) -> list[str]:
    """The sandboxes on ``server`` that have not ended, newest first, each as ``name (id, image, since ...)``."""
    with server.client() as porter:
        return [
            f"{sandbox.name} ({sandbox.id}, {sandbox.image}, created {sandbox.created_at:%H:%M:%S})"
            if sandbox.name != sandbox.id
            else f"{sandbox.id} ({sandbox.image}, created {sandbox.created_at:%H:%M:%S})"
            for sandbox in porter.sandboxes.iter(phase=list(LIVE_PHASES))
        ]


def _drain(stream: object) -> None:
    read = getattr(stream, "read", None)
    with contextlib.suppress(OSError, ValueError):
        while read is not None and read(65536):
            pass


@contextlib.contextmanager
def local_server(
    *,
    runtime: str = "process",
    isolation: str | None = None,
    api_key: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    default_ttl: int | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 30.0,
) -> Iterator[LocalServer]:
    """Start a local server for the duration of a ``with`` block; yield it (``.url``, ``.client()``)."""
    server = LocalServer(
        runtime=runtime,
        isolation=isolation,
        api_key=api_key,
        data_dir=data_dir,
        default_ttl=default_ttl,
        extra_args=extra_args,
        startup_timeout=startup_timeout,
    )
    with server:
        yield server
