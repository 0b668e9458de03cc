"""The command line: ``porter-sandbox serve`` (also ``python -m porter_sandbox_server serve``).

Binds its own socket (so ``--port 0`` picks a free port), opens the runtime
(refusing to start when it cannot work at all), then prints one line to
stdout once it accepts connections::

    porter-sandbox: serving http://127.0.0.1:8080 (data in /home/me/.local/share/porter-sandbox)

Everything else goes to stderr. SIGTERM or SIGINT stops accepting, terminates
the live sandboxes (reason ``user_terminated``), flushes logs and exits 0.

One server per data directory (``lock``): a second ``serve`` on a data
directory in use exits 1 at once with one line naming the first server's pid
and URL, and touches nothing.

What the server holds is bounded whatever sandboxes print or clients send:
``--max-exec-output`` per stream of an exec's answer, ``--log-max-lines`` and
``--log-max-bytes`` per sandbox's log, request heads (``http.connections``:
64 KiB, ``--header-timeout`` seconds) and stalled request bodies
(``--idle-timeout``). Volumes have no size limit of their
own: sandboxes write into them directly, so only the filesystem under the
data directory bounds them (give it its own filesystem, or a quota, to bound
them); new sandboxes, volumes and uploads are refused (507) while that
filesystem has less than 64 MiB free.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Coroutine, Generator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from .core.env_groups import EnvGroupError, EnvGroups
from .core.limits import DEFAULT_MAX_PIDS, DEFAULT_MEMORY_BYTES, SandboxLimits
from .core.logs import LogRetention
from .core.metrics import DEFAULT_INTERVAL
from .core.processes import ProcessLimits
from .core.quantities import QuantityError, parse_memory_bytes
from .http.connections import (
    BODY_IDLE_TIMEOUT,
    HEAD_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    MAX_HEAD_BYTES,
    WS_MAX_MESSAGE,
    guarded_protocol,
)
from .http.proxy_limits import FIRST_BYTE_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MAX_PER_SANDBOX, ProxyLimits
from .lock import DataDirInUse, DataDirLock
from .runtimes.base import OutputLimits, Runtime, RuntimeUnavailable

logger = logging.getLogger("porter_sandbox_server")

API_KEY_ENV = "PORTER_SANDBOX_SERVER_API_KEY"
HELPER_IMAGE_ENV = "PORTER_SANDBOX_HELPER_IMAGE"
#: How long a sandbox created without ``ttl_seconds`` lives, unless ``--default-ttl`` says otherwise.
DEFAULT_TTL_SECONDS = 86_400


def _ttl_seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError("give a number of seconds, or 0 for no default lifetime")
    return seconds


def default_data_dir() -> Path:
    """Where the server keeps its data unless told: ``$XDG_DATA_HOME/porter-sandbox``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "porter-sandbox"


def memory_limit(text: str) -> int | None:
    """``--default-memory``: a Kubernetes quantity, or ``none`` for no limit."""
    if text.strip().lower() == "none":
        return None
    try:
        return parse_memory_bytes(text)
    except QuantityError as error:
        raise argparse.ArgumentTypeError(f"{error}, or none") from None


def process_count(text: str) -> int:
    """``--max-pids`` and ``--max-total-pids``: a whole number of processes, at least 8."""
    if not text.strip().isdigit() or int(text) < 8:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes of at least 8")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The ``serve`` command's arguments."""
    parser = argparse.ArgumentParser(prog="porter-sandbox", description="A local Porter Sandbox API server.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the Sandbox API on this machine")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind; 0 picks a free one (default 8080)")
    serve.add_argument(
        "--data-dir", type=Path, default=None, help=f"where records and volumes live (default {default_data_dir()})"
    )
    serve.add_argument(
        "--runtime", choices=["process", "docker", "kubernetes"], default="process", help="what runs sandboxes"
    )
    serve.add_argument(
        "--isolation",
        choices=["auto", "bwrap", "none"],
        default="auto",
        help="process runtime: bubblewrap isolation (auto needs bwrap on PATH; none runs commands unisolated)",
    )
    serve.add_argument("--api-key", default=None, help=f"require this bearer key (default: env {API_KEY_ENV})")
    serve.add_argument("--docker-network", default=None, help="docker runtime: the network sandboxes join")
    serve.add_argument(
        "--dns-upstream",
        type=_dns_upstream,
        default=None,
        metavar="HOST:PORT",
        help="process runtime: the DNS server sandboxes' queries are forwarded to (default: the first "
        "nameserver of /etc/resolv.conf)",
    )
    serve.add_argument(
        "--default-ttl",
        type=_ttl_seconds,
        default=DEFAULT_TTL_SECONDS,
        metavar="SECONDS",
        help="lifetime of a sandbox created without ttl_seconds, so a crashed script's sandboxes do not run "
        f"forever (default {DEFAULT_TTL_SECONDS}, a day; 0 for none)",
    )
    serve.add_argument(
        "--env-group",
        action="append",
        default=[],
        metavar="NAME=FILE|DIR",
        help="an environment group sandboxes can ask for by name (env_groups): a dotenv FILE, "
        "or a DIR whose NAME.env files are groups; repeat for more",
    )
    serve.add_argument(
        "--metrics-interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"how often each running sandbox's CPU and memory are sampled (default {DEFAULT_INTERVAL:g}; 0: never)",
    )
    serve.add_argument(
        "--max-exec-output",
        type=_size,
        default=OutputLimits.exec_answer_bytes,
        metavar="SIZE",
        help="the most an exec's answer holds of each stream, such as 16Mi; past it the output is cut, "
        "and the answer says so (default 16Mi)",
    )
    serve.add_argument(
        "--log-max-lines",
        type=_count,
        default=LogRetention.max_lines,
        metavar="N",
        help="each sandbox's log keeps its newest N lines; older ones are dropped (default 100000)",
    )
    serve.add_argument(
        "--log-max-bytes",
        type=_size,
        default=LogRetention.max_bytes,
        metavar="SIZE",
        help="each sandbox's log keeps its newest lines up to SIZE of text, such as 64Mi (default 64Mi)",
    )
    serve.add_argument(
        "--max-processes",
        type=_count,
        default=ProcessLimits.max_live,
        metavar="N",
        help="the most streamed execs, background processes and terminals one sandbox runs at once "
        f"(default {ProcessLimits.max_live})",
    )
    serve.add_argument(
        "--process-output",
        type=_size,
        default=ProcessLimits.ring_bytes,
        metavar="SIZE",
        help="how much of each stream a background process keeps for reading, its newest, such as 1Mi (default 1Mi)",
    )
    serve.add_argument(
        "--header-timeout",
        type=_seconds,
        default=HEAD_TIMEOUT,
        metavar="SECONDS",
        help=f"close connections whose request head does not arrive whole within this time (default {HEAD_TIMEOUT:g})",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=BODY_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"close connections whose request body stops arriving for this long (default {BODY_IDLE_TIMEOUT:g})",
    )
    serve.add_argument(
        "--proxy-connections",
        type=_count,
        default=MAX_CONNECTIONS,
        metavar="N",
        help="the most connections to sandboxes' served ports open at once; past that they answer 503 "
        f"(default {MAX_CONNECTIONS})",
    )
    serve.add_argument(
        "--proxy-connections-per-sandbox",
        type=_count,
        default=MAX_PER_SANDBOX,
        metavar="N",
        help=f"the most of those connections to one sandbox (default {MAX_PER_SANDBOX})",
    )
    serve.add_argument(
        "--proxy-first-byte-timeout",
        type=_seconds,
        default=FIRST_BYTE_TIMEOUT,
        metavar="SECONDS",
        help="answer 504 when a sandbox's served port does not start its answer within this time "
        f"(default {FIRST_BYTE_TIMEOUT:g})",
    )
    serve.add_argument(
        "--proxy-idle-timeout",
        type=_seconds,
        default=IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"cut off an answer from a served port that pauses this long (default {IDLE_TIMEOUT:g})",
    )
    serve.add_argument(
        "--docker-read-only-root",
        action="store_true",
        help="docker runtime: make containers' root filesystem read-only, with /tmp, /run, /workspace, the "
        "working directory and /root writable (then no snapshots: a commit would hold nothing)",
    )
    serve.add_argument(
        "--default-memory",
        type=memory_limit,
        default=DEFAULT_MEMORY_BYTES,
        metavar="QUANTITY",
        help="memory of a sandbox whose request names none, such as 512Mi or 2Gi; none for no limit (default 1Gi)",
    )
    serve.add_argument(
        "--max-pids",
        type=process_count,
        default=DEFAULT_MAX_PIDS,
        metavar="N",
        help=f"processes (and threads) of one sandbox at once (default {DEFAULT_MAX_PIDS})",
    )
    serve.add_argument(
        "--pool",
        type=pool_size,
        default=0,
        metavar="N",
        help="process and docker runtimes: keep N sandboxes started ahead; each serves one sandbox of the shape "
        "it was started for: without volumes or snapshot, and for the process runtime without a CPU limit and "
        "with the default memory (needs a root server), for the docker runtime without command, args or "
        "environment of their own and like the last such launch (default 0: none)",
    )
    serve.add_argument(
        "--max-total-pids",
        type=process_count,
        default=None,
        metavar="N",
        help="process runtime: processes of all sandboxes together (default: half of what the host's kernel allows)",
    )
    add_kubernetes_arguments(serve)
    return parser


def _size(text: str) -> int:
    try:
        return parse_memory_bytes(text)
    except QuantityError as error:
        raise argparse.ArgumentTypeError(str(error).replace("memory", "size", 1)) from None


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds between 0 and 86400")
    return value


def add_kubernetes_arguments(serve: argparse.ArgumentParser) -> None:
    """The ``kubernetes`` runtime's options (the cluster itself comes from KUBECONFIG or the pod's service account)."""
    kube = serve.add_argument_group("kubernetes runtime (the cluster: KUBECONFIG, or in a pod its service account)")
    kube.add_argument(
        "--kube-namespace", default=None, help="namespace of the sandboxes' pods and claims (default: the context's)"
    )
    kube.add_argument(
        "--kube-image-pull-policy",
        choices=["Always", "IfNotPresent", "Never"],
        default=None,
        help="imagePullPolicy of every pod (default: Kubernetes' own)",
    )
    kube.add_argument(
        "--kube-helper-image",
        default=os.environ.get(HELPER_IMAGE_ENV) or None,
        help=f"image of the pods that serve volume files: one with porter-sandbox[server] (default: env {HELPER_IMAGE_ENV})",
    )
    kube.add_argument("--storage-class", default=None, help="StorageClass of volume claims (default: the cluster's)")
    kube.add_argument("--volume-size", default="1Gi", help="storage each volume claim requests (default 1Gi)")
    kube.add_argument(
        "--volume-access-mode",
        choices=["ReadWriteOnce", "ReadWriteMany"],
        default="ReadWriteOnce",
        help="access mode of volume claims; ReadWriteMany to share a volume across nodes (default ReadWriteOnce)",
    )
    kube.add_argument(
        "--kube-host-path-dir",
        default=None,
        help="clusters without a storage provisioner (one node): make a hostPath PersistentVolume per claim in this node directory",
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_runtime(
    name: str, data_dir: Path, isolation: str, docker_network: str | None, options: argparse.Namespace | None = None
) -> Runtime:
    """The runtime ``--runtime`` names, keeping its data under ``data_dir``; each is imported only when asked for.

    ``options`` are ``serve``'s parsed arguments, for each runtime's own (``--kube-*``,
    ``--docker-read-only-root``, ``--max-total-pids``); their defaults when not given.
    """
    options = options or build_parser().parse_args(["serve"])
    if name == "kubernetes":
        return make_kubernetes_runtime(data_dir, options)
    if name == "docker":
        from .runtimes.docker import DockerRuntime

        return DockerRuntime(
            data_dir, network=docker_network, read_only_root=options.docker_read_only_root, pool_size=options.pool
        )
    from .runtimes.process import ProcessRuntime
    from .runtimes.process.pool import PoolSettings

    pool = PoolSettings(size=options.pool, memory_bytes=options.default_memory, pids_max=options.max_pids)
    return ProcessRuntime(
        data_dir, isolation, max_total_pids=options.max_total_pids, dns_upstream=options.dns_upstream, pool=pool
    )


def pool_size(text: str) -> int:
    """``--pool``: how many sandboxes to keep started, 0 to 64."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{value} is out of range: keep 0 to 64 sandboxes started")
    return value


def _dns_upstream(text: str) -> tuple[str, int]:
    from .runtimes.process.network.dns import parse_upstream

    try:
        return parse_upstream(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def make_kubernetes_runtime(data_dir: Path, options: argparse.Namespace) -> Runtime:
    """The kubernetes runtime with ``serve``'s ``--kube-*``, ``--storage-class`` and ``--volume-*`` options."""
    from .core.quantities import parse_memory_bytes
    from .runtimes.kubernetes import KubernetesRuntime
    from .volumes.claims.objects import ClaimSettings

    parse_memory_bytes(options.volume_size)  # a bad quantity is refused now, not at the first volume
    claims = ClaimSettings(
        storage_class=options.storage_class,
        size=options.volume_size,
        access_mode=options.volume_access_mode,
        host_path_dir=options.kube_host_path_dir,
        helper_image=options.kube_helper_image,
    )
    return KubernetesRuntime(
        data_dir, namespace=options.kube_namespace, image_pull_policy=options.kube_image_pull_policy, claims=claims
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only turns Nagle off on sockets that say they are TCP, and
    # with Nagle on, a response written in two parts waits out the client's delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server with our signal handling: stop, clean up, exit 0 (uvicorn re-raises the signal)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()

        def stop(sig: signal.Signals) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop, sig)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def serve(args: argparse.Namespace, api_key: str | None) -> int:
    """Take the data directory, open the runtime and the store, serve until a signal, then shut down cleanly."""
    data_dir: Path = (args.data_dir or default_data_dir()).resolve()
    lock = DataDirLock(data_dir)
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the server's alone (see secure_data_dir)
        lock.acquire()
    except DataDirInUse as error:
        print(f"porter-sandbox: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"porter-sandbox: cannot use the data directory {data_dir}: {error}", file=sys.stderr)
        return 1
    try:
        return await _serve_locked(args, api_key, data_dir, lock)
    finally:
        lock.release()


async def _serve_locked(args: argparse.Namespace, api_key: str | None, data_dir: Path, lock: DataDirLock) -> int:
    from .core.service import SandboxService
    from .http.app import create_app
    from .http.port_proxy import PortProxy

    retention = LogRetention(max_lines=args.log_max_lines, max_bytes=args.log_max_bytes)
    try:
        env_groups = EnvGroups.load(args.env_group)
    except EnvGroupError as error:
        print(f"porter-sandbox: {error}", file=sys.stderr)
        return 2
    if args.metrics_interval < 0:
        print("porter-sandbox: --metrics-interval must be 0 (off) or more seconds", file=sys.stderr)
        return 2
    try:
        runtime = make_runtime(args.runtime, data_dir, args.isolation, args.docker_network, args)
    except ImportError as error:
        extra = " (pip install 'porter-sandbox[kubernetes]')" if args.runtime == "kubernetes" else ""
        print(f"porter-sandbox: the {args.runtime} runtime is not available: {error}{extra}", file=sys.stderr)
        return 1
    except ValueError as error:  # a bad --volume-size
        print(f"porter-sandbox: --volume-size: {error}", file=sys.stderr)
        return 2
    runtime.output_limits = OutputLimits(
        exec_answer_bytes=args.max_exec_output,
        exec_log_lines=retention.kept_lines,
        exec_log_bytes=retention.kept_bytes,
    )
    service = SandboxService(
        data_dir,
        runtime,
        default_ttl_seconds=args.default_ttl or None,
        env_groups=env_groups,
        metrics_interval=args.metrics_interval,
        log_retention=retention,
        limits=SandboxLimits(default_memory_bytes=args.default_memory, max_pids=args.max_pids),
        process_limits=ProcessLimits(
            max_live=args.max_processes, keep_ended=args.max_processes, ring_bytes=args.process_output
        ),
    )
    try:
        await service.start()
    except RuntimeUnavailable as error:
        print(f"porter-sandbox: {error}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as error:
        print(f"porter-sandbox: cannot use the data directory {data_dir}: {error}", file=sys.stderr)
        return 1
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as error:
        print(f"porter-sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        await service.close()
        return 1
    limits = ProxyLimits(
        max_connections=args.proxy_connections,
        max_per_sandbox=args.proxy_connections_per_sandbox,
        first_byte_timeout=args.proxy_first_byte_timeout,
        idle_timeout=args.proxy_idle_timeout,
    )
    app = PortProxy(create_app(service, api_key=api_key, host=args.host), service, limits)
    service.proxy_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_level="warning",
        http=guarded_protocol(
            "httptools" if _has("httptools") else "h11",
            head_timeout=args.header_timeout,
            body_idle_timeout=args.idle_timeout,
        ),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=min(KEEP_ALIVE_TIMEOUT, args.header_timeout),
        # Terminals (the one WebSocket): keystrokes and resizes are small; a few messages wait at most.
        ws_max_size=WS_MAX_MESSAGE,
        ws_max_queue=8,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
        backlog=2048,
    )
    server = _Server(config)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    lock.announce(f"http://{shown}:{port}")

    async def announce() -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.005)
        if server.started:
            print(f"porter-sandbox: serving http://{shown}:{port} (data in {data_dir})", flush=True)

    announcer = asyncio.ensure_future(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        logger.info("shutting down: terminating live sandboxes")
        await service.close()
        sock.close()
    return 0


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _run(coro: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; answer the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="porter-sandbox: %(levelname)s %(message)s", stream=sys.stderr)
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    if not is_loopback(args.host) and not api_key:
        print(
            f"porter-sandbox: refusing to serve on {args.host} without an API key: anyone who can reach it could "
            f"run commands here. Pass --api-key KEY (or set {API_KEY_ENV}), or bind 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    return _run(serve(args, api_key))
