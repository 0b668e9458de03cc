"""``porter-sandbox``: the command line for the Porter Sandbox API.

    porter-sandbox serve [--port 8080] ...          run a local server (needs the [server] extra)
    porter-sandbox run IMAGE [--name N] [-- CMD...] create a sandbox; prints its name
    porter-sandbox exec NAME -- CMD...              run a command in it; its exit code is ours
    porter-sandbox logs NAME [--since 5m] [--limit 100]
    porter-sandbox ls [--tag k=v] [--phase running]
    porter-sandbox rm NAME...
    porter-sandbox volumes ls | create NAME | rm NAME...

Every command but ``serve`` talks to the server the SDK's configuration points
at (``PORTER_SANDBOX_BASE_URL``, ``PORTER_SANDBOX_API_KEY``, ``PORTER_CLUSTER_ID``,
or ``--base-url`` / ``--api-key``). Failures print one line to stderr and exit
non-zero: 1 for an error from the API or the connection, 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    from ._client import Porter

PROG = "porter-sandbox"
PHASES = ("queued", "creating", "running", "succeeded", "failed", "terminated")

#: Exit code for errors from the API, the connection or the configuration.
EXIT_ERROR = 1
#: Exit code for a command line that does not parse (argparse's own).
EXIT_USAGE = 2


class _State:
    """What the error messages may mention: the server this run talked to."""

    base_url: str | None = None


_state = _State()


class UsageError(Exception):
    """A command line argument is malformed; the message says which and how."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is a ``UsageError`` we print as one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``porter-sandbox`` command line; answer its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    _state.base_url = None
    try:
        if _first_command(args) == "serve":
            return _serve(args[args.index("serve") + 1 :])
        words, command = _split_command(args)
        parser = _build_parser()
        options = parser.parse_args(words)
        options.command = command
        handler: Callable[[argparse.Namespace], int] | None = getattr(options, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return handler(options)
    except UsageError as exc:
        _fail(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        # `porter-sandbox ls | head`: the reader left; nothing more to say.
        _silence_stdout()
        return EXIT_ERROR
    except Exception as exc:  # every failure is one line, never a traceback
        _fail(_describe(exc) + _hint(exc))
        return EXIT_ERROR


def _describe(exc: BaseException) -> str:
    """One line for an error: the API's own message and status, or the exception's words."""
    from ._exceptions import ConfigurationError, SandboxError

    if isinstance(exc, ConfigurationError):
        # The SDK names its constructor's arguments; here they are options.
        return "error: " + _first_line(exc.message).replace("base_url=", "--base-url").replace("api_key=", "--api-key")
    if isinstance(exc, SandboxError):
        message = _first_line(exc.message) or type(exc).__name__
        return f"error: {message} (HTTP {exc.status_code})" if exc.status_code is not None else f"error: {message}"
    message = _first_line(str(exc))
    if isinstance(exc, ValueError) and message:
        return f"error: {message}"
    return f"error: {type(exc).__name__}: {message}" if message else f"error: {type(exc).__name__}"


def _hint(exc: BaseException) -> str:
    """What to check next, for the failures a newcomer meets first."""
    from ._exceptions import APIConnectionError

    if isinstance(exc, APIConnectionError) and _state.base_url:
        return f" (is a server running at {_state.base_url}? 'porter-sandbox serve' starts one)"
    return ""


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def _fail(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# -- parsing -------------------------------------------------------------------------------------


def _first_command(args: Sequence[str]) -> str | None:
    """The first word that is not a global option (or its value)."""
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word in ("--base-url", "--api-key", "--timeout"):
            skip = True
        elif not word.startswith("-"):
            return word
        elif word == "--":
            return None
    return None


def _split_command(args: list[str]) -> tuple[list[str], list[str] | None]:
    """Split at the first ``--``: our options before it, the sandbox's command after it."""
    if "--" in args:
        at = args.index("--")
        return args[:at], args[at + 1 :]
    return args, None


def _build_parser() -> _Parser:
    connection = _Parser(add_help=False)
    group = connection.add_argument_group("connection (default: the SDK's configuration from the environment)")
    # SUPPRESS keeps a value given before the command from being reset by the subcommand's default.
    group.add_argument(
        "--base-url", default=argparse.SUPPRESS, help="the Sandbox API's URL (env PORTER_SANDBOX_BASE_URL)"
    )
    group.add_argument("--api-key", default=argparse.SUPPRESS, help="the API key (env PORTER_SANDBOX_API_KEY)")
    group.add_argument(
        "--timeout", type=float, default=argparse.SUPPRESS, help="seconds to wait for each answer (default 30)"
    )

    parser = _Parser(
        prog=PROG,
        description="Run and manage sandboxes through the Porter Sandbox API, or serve that API locally.",
        epilog=(
            "Configuration: PORTER_SANDBOX_BASE_URL (e.g. http://127.0.0.1:8080 for 'porter-sandbox serve'), "
            "PORTER_SANDBOX_API_KEY, or PORTER_CLUSTER_ID with a Porter API key. "
            f"Run '{PROG} COMMAND --help' for a command's options."
        ),
        parents=[connection],
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    commands.add_parser(
        "serve",
        help="run a local Sandbox API server (options: 'porter-sandbox serve --help')",
        add_help=False,
    )

    run = commands.add_parser(
        "run",
        parents=[connection],
        help="create a sandbox and print its name",
        description="Create a sandbox from IMAGE and print its name (its id when --name is not given). "
        "Without a command it idles, ready for 'exec'.",
        usage=f"{PROG} run IMAGE [--name NAME] [--tag K=V]... [--env K=V]... [--volume PATH=VOLUME]... [options] [-- CMD...]",
    )
    run.add_argument("image", help="the container image (the local process runtime records it but runs no image)")
    run.add_argument("--name", help="a unique name: a-z, 0-9 and '-', at most 63 characters")
    run.add_argument("--tag", action="append", default=[], metavar="K=V", help="a tag to find it by (repeatable)")
    run.add_argument("--env", action="append", default=[], metavar="K=V", help="an environment variable (repeatable)")
    run.add_argument(
        "--volume",
        action="append",
        default=[],
        metavar="PATH=VOLUME",
        help="mount a volume (by name or id) at an absolute PATH (repeatable)",
    )
    run.add_argument("--cpu", help="at most this much CPU: a Kubernetes quantity such as 500m or 2")
    run.add_argument("--memory", help="at most this much memory: a Kubernetes quantity such as 512Mi or 2Gi")
    run.add_argument("--ttl", type=_positive_int, metavar="SECONDS", help="terminate it this long after it starts")
    run.add_argument(
        "--wait", action="store_true", help="wait until the sandbox is running (or has ended) before printing"
    )
    run.add_argument(
        "--wait-timeout", type=float, default=60.0, metavar="SECONDS", help="how long --wait waits (default 60)"
    )
    run.set_defaults(handler=_run)

    exec_ = commands.add_parser(
        "exec",
        parents=[connection],
        help="run a command in a sandbox; exits with its exit code",
        description="Run CMD in the sandbox NAME (a name or an id). Its stdout and stderr go to ours, "
        "and its exit code becomes ours.",
        usage=f"{PROG} exec NAME -- CMD...",
    )
    exec_.add_argument("name", metavar="NAME", help="the sandbox's name or id")
    exec_.set_defaults(handler=_exec)

    logs = commands.add_parser(
        "logs",
        parents=[connection],
        help="print a sandbox's logs",
        description="Print what the sandbox's main process and its execs wrote, oldest first "
        "(lines written to stderr go to stderr).",
    )
    logs.add_argument("name", metavar="NAME", help="the sandbox's name or id")
    logs.add_argument("--since", help="only lines after this: an RFC 3339 time or a duration such as 30s, 5m, 2h")
    logs.add_argument("--limit", type=_positive_int, help="only the newest N lines")
    logs.add_argument("-t", "--timestamps", action="store_true", help="prefix each line with its time and level")
    logs.set_defaults(handler=_logs)

    ls = commands.add_parser(
        "ls",
        parents=[connection],
        help="list sandboxes",
        description="List sandboxes, newest first, as a table.",
    )
    ls.add_argument("--tag", action="append", default=[], metavar="K=V", help="only those with this tag (repeatable)")
    ls.add_argument(
        "--phase", action="append", default=[], choices=PHASES, help="only those in this phase (repeatable)"
    )
    ls.add_argument("-q", "--quiet", action="store_true", help="print names only")
    ls.set_defaults(handler=_ls)

    rm = commands.add_parser(
        "rm",
        parents=[connection],
        help="terminate sandboxes",
        description="Terminate each sandbox (terminating an ended one does nothing).",
    )
    rm.add_argument("names", nargs="+", metavar="NAME", help="a sandbox's name or id")
    rm.set_defaults(handler=_rm)

    volumes = commands.add_parser(
        "volumes",
        help="list, create and delete volumes",
        description="Volumes are directories that outlive sandboxes and can be mounted by several at once.",
    )
    volume_commands = volumes.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    volumes.set_defaults(handler=lambda _options: _usage(volumes))
    volumes_ls = volume_commands.add_parser("ls", parents=[connection], help="list volumes")
    volumes_ls.add_argument("-q", "--quiet", action="store_true", help="print names only")
    volumes_ls.set_defaults(handler=_volumes_ls)
    volumes_create = volume_commands.add_parser("create", parents=[connection], help="create a volume and print its id")
    volumes_create.add_argument("name", metavar="NAME", help="a unique name: a-z, 0-9 and '-'")
    volumes_create.set_defaults(handler=_volumes_create)
    volumes_rm = volume_commands.add_parser("rm", parents=[connection], help="delete volumes")
    volumes_rm.add_argument("names", nargs="+", metavar="NAME", help="a volume's name or id")
    volumes_rm.set_defaults(handler=_volumes_rm)
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _pairs(values: Iterable[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, equals, rest = value.partition("=")
        if not equals or not key:
            raise UsageError(f"{option} expects KEY=VALUE, got {value!r}")
        pairs[key] = rest
    return pairs


def _no_command(options: argparse.Namespace, usage: str) -> None:
    if options.command is not None:
        raise UsageError(f"unexpected '--' and command: {usage}")


# -- serve ---------------------------------------------------------------------------------------


def _serve(args: list[str]) -> int:
    if importlib.util.find_spec("porter_sandbox_server") is None:
        _fail("error: the local server is not installed: pip install 'porter-sandbox[server]'")
        return EXIT_ERROR
    argv = [sys.executable, "-m", "porter_sandbox_server", "serve", *args]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


# -- commands ------------------------------------------------------------------------------------


def _client(options: argparse.Namespace) -> Porter:
    from ._client import Porter

    settings: dict[str, Any] = {}
    for option in ("base_url", "api_key", "timeout"):
        if getattr(options, option, None) is not None:
            settings[option] = getattr(options, option)
    porter = Porter(**settings)
    _state.base_url = porter.base_url
    return porter


def _run(options: argparse.Namespace) -> int:
    tags = _pairs(options.tag, "--tag")
    env = _pairs(options.env, "--env")
    from ._exceptions import SandboxEndedError, SandboxError

    mounts = _pairs(options.volume, "--volume")
    resources = {k: v for k, v in (("cpu", options.cpu), ("memory", options.memory)) if v is not None}
    with _client(options) as porter:
        sandbox = porter.sandboxes.create(
            image=options.image,
            name=options.name,
            command=options.command or None,
            env=env or None,
            tags=tags or None,
            volume_mounts=dict(mounts) or None,
            resources=resources or None,
            ttl_seconds=options.ttl,
        )
        ended: SandboxError | None = None
        if options.wait:
            try:
                sandbox.wait("running", timeout=options.wait_timeout)
            except SandboxEndedError as exc:
                # Ended already: fine for a short command that succeeded, an error otherwise.
                if exc.phase != "succeeded":
                    ended = exc
        print(sandbox.name, flush=True)  # also when it failed: its logs say why
    if ended is not None:
        raise ended
    return 0


def _exec(options: argparse.Namespace) -> int:
    if not options.command:
        raise UsageError(f"say which command to run: {PROG} exec {options.name} -- CMD...")
    with _client(options) as porter:
        result = porter.sandboxes.get(options.name).exec(options.command)
    _write(sys.stdout, result.stdout)
    _write(sys.stderr, result.stderr)
    return _exit_status(result.exit_code)


def _write(stream: TextIO, text: str) -> None:
    if text:
        stream.write(text)
        stream.flush()


def _exit_status(code: int) -> int:
    """A process exit status for the command's exit code (a signal -N becomes 128+N, as shells do)."""
    if code < 0:
        return min(128 - code, 255)
    return code if code <= 255 else 255


def _logs(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} logs NAME [--since S] [--limit N]")
    with _client(options) as porter:
        sandbox = porter.sandboxes.get(options.name)
        lines = sandbox.logs(since=options.since, limit=options.limit)
    for entry in lines:
        level = entry.level
        stream = sys.stdout if level == "info" else sys.stderr
        text = entry.line
        if options.timestamps:
            text = f"{_time(entry.timestamp)}  {level:<7} {text}"
        print(text, file=stream)
    sys.stdout.flush()
    return 0


def _ls(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} ls [--tag K=V] [--phase P]")
    tags = _pairs(options.tag, "--tag")
    with _client(options) as porter:
        sandboxes = list(porter.sandboxes.iter(tags=tags or None, phase=options.phase or None))
    if options.quiet:
        for sandbox in sandboxes:
            print(sandbox.name)
        return 0
    rows = [
        (
            sandbox.name,
            sandbox.phase,
            sandbox.image,
            _time(sandbox.created_at),
            _mapping_text(sandbox.tags),
            sandbox.id if sandbox.id != sandbox.name else "",
        )
        for sandbox in sandboxes
    ]
    _table(("NAME", "PHASE", "IMAGE", "CREATED", "TAGS", "ID"), rows)
    return 0


def _rm(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} rm NAME...")
    with _client(options) as porter:
        return _each_name(options.names, lambda name: _terminate(porter, name))


def _each_name(names: Sequence[str], act: Callable[[str], object]) -> int:
    """Act on each name, printing the ones done; one line per failure, and carry on with the rest."""
    failed = 0
    for name in names:
        try:
            act(name)
        except Exception as exc:
            if _is_connection_error(exc):
                raise
            _fail(f"{name}: {_describe(exc)}")
            failed += 1
        else:
            print(name, flush=True)
    return EXIT_ERROR if failed else 0


def _terminate(porter: Porter, name: str) -> None:
    """Terminate through the API with ``source=cli``, so the sandbox records who ended it."""
    from porter_sandbox_api.models import TerminationSource

    from ._exceptions import error_for_status

    sandbox = porter.sandboxes.get(name)
    answer = porter.sandboxes.raw.delete_sandbox(sandbox.id, source=TerminationSource.CLI)
    if answer.status_code >= 400:
        raise error_for_status(answer.status_code, answer.content)


def _is_connection_error(exc: BaseException) -> bool:
    from ._exceptions import APIConnectionError

    return isinstance(exc, APIConnectionError)


def _volumes_ls(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} volumes ls")
    with _client(options) as porter:
        volumes = list(porter.volumes.list())
    if options.quiet:
        for volume in volumes:
            print(volume.name)
        return 0
    rows = [
        (
            volume.name,
            volume.phase,
            _time(volume.created_at),
            ",".join(volume.attached_to) if volume.attached_to else "",
            volume.id,
        )
        for volume in volumes
    ]
    _table(("NAME", "PHASE", "CREATED", "ATTACHED TO", "ID"), rows)
    return 0


def _volumes_create(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} volumes create NAME")
    with _client(options) as porter:
        volume = porter.volumes.create(name=options.name)
    print(volume.id, flush=True)
    return 0


def _volumes_rm(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} volumes rm NAME...")
    with _client(options) as porter:
        return _each_name(options.names, porter.volumes.delete)


# -- output --------------------------------------------------------------------------------------


def _time(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)
    out.flush()


def _mapping_text(values: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(values.items()))


if __name__ == "__main__":
    sys.exit(main())
