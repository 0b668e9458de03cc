"""``porter-sandbox``: the command line for the Porter Sandbox API.

    porter-sandbox serve [--port 8080] ...          run a local server (needs the [server] extra)
    porter-sandbox run IMAGE [--name N] [-- CMD...] create a sandbox; prints its name
    porter-sandbox exec [-i] [-t] NAME -- CMD...    run a command in it (streamed; -it: a terminal); its exit code is ours
    porter-sandbox shell NAME [-- CMD...]           an interactive shell in it (a terminal)
    porter-sandbox cp SRC DST                       copy files in or out (NAME:PATH names a path in a sandbox)
    porter-sandbox logs NAME [-f] [--since 5m] [--limit 100]
    porter-sandbox inspect NAME [-o json]           its fields, why it ended, its last error output
    porter-sandbox ls [-a] [--tag k=v] [--phase running] [--limit N] [-o wide|json]
    porter-sandbox rm NAME... | rm --all [--tag k=v] [--yes]
    porter-sandbox prune [--tag k=v] [--volumes] [--yes]
    porter-sandbox volumes ls [-o wide|json] | create [NAME] | rm NAME...
    porter-sandbox completion bash|zsh              a shell completion script

Every command but ``serve`` talks to the server the SDK's configuration points
at (``PORTER_SANDBOX_BASE_URL``, ``PORTER_SANDBOX_API_KEY``, ``PORTER_CLUSTER_ID``,
or ``--base-url`` / ``--api-key``). Failures print one line to stderr and exit
non-zero: 1 for an error from the API or the connection, 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TextIO

from ._version import __version__

if TYPE_CHECKING:
    from ._client import Porter
    from ._models import LogLine
    from ._sandboxes import Sandbox
    from ._volumes import ObjectVolume, Volume

PROG = "porter-sandbox"
PHASES = ("queued", "creating", "running", "succeeded", "failed", "terminated")
LIVE_PHASES = ("queued", "creating", "running")
OUTPUTS = ("table", "wide", "json")
#: How many of a sandbox's newest log lines ``inspect`` reads for its last error output.
_INSPECT_SCAN = 200

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
        first = _first_command(args)
        if first == "serve":
            return _serve(args[args.index("serve") + 1 :])
        if first == "exec" and "--" not in args:
            _exec_without_dashes(args)
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


_VALUED_OPTIONS = ("--base-url", "--api-key", "--timeout")


def _positionals(args: Sequence[str]) -> list[str]:
    """The words that are neither options nor an option's value, up to ``--``."""
    words: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word in _VALUED_OPTIONS:
            skip = True
        elif word == "--":
            break
        elif not word.startswith("-"):
            words.append(word)
    return words


def _first_command(args: Sequence[str]) -> str | None:
    """The first word that is not a global option (or its value)."""
    words = _positionals(args)
    return words[0] if words else None


def _exec_without_dashes(args: Sequence[str]) -> None:
    """``exec NAME CMD...`` without ``--``: say where the command goes, rather than argparse's puzzle."""
    words = _positionals(args)
    if len(words) < 3:
        return
    name = words[1]
    command = args[args.index(name, args.index("exec") + 1) + 1 :]
    raise UsageError(
        f"put the command after '--', so that its options stay its own: {PROG} exec {name} -- {' '.join(command)}"
    )


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
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
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
        description="Run CMD in the sandbox NAME (a name or an id). Its stdout and stderr go to ours as it "
        "writes them, and its exit code becomes ours. Our stdin goes to it when it is not a terminal "
        "(a pipe or a file); Ctrl-C stops the command. With -it it runs on a terminal: an interactive "
        "program, keys and all.",
        usage=f"{PROG} exec [-i] [-t] NAME -- CMD...",
    )
    exec_.add_argument("name", metavar="NAME", help="the sandbox's name or id")
    exec_.add_argument(
        "-i", "--interactive", action="store_true", help="pass our stdin on even when it is a terminal (until Ctrl-D)"
    )
    exec_.add_argument(
        "-t", "--tty", action="store_true", help="run it on a terminal (with -i: an interactive session)"
    )
    exec_.add_argument("--no-stdin", action="store_true", help="do not pass our stdin on; the command reads nothing")
    exec_.set_defaults(handler=_exec)

    shell = commands.add_parser(
        "shell",
        parents=[connection],
        help="open an interactive shell in a sandbox",
        description="Open a terminal in the sandbox NAME running CMD (bash where the sandbox has it, else sh). "
        "Keys go to it as typed; its exit code becomes ours.",
        usage=f"{PROG} shell NAME [-- CMD...]",
    )
    shell.add_argument("name", metavar="NAME", help="the sandbox's name or id")
    shell.set_defaults(handler=_shell)

    cp = commands.add_parser(
        "cp",
        parents=[connection],
        help="copy files and directories between a sandbox and this machine",
        description="Copy SRC to DST, one of them NAME:PATH (a path in the sandbox NAME), the other a local path. "
        "Directories are copied whole. Onto an existing directory, SRC keeps its name inside it; otherwise it "
        "takes DST's. The sandbox needs tar.",
        usage=f"{PROG} cp SRC DST",
    )
    cp.add_argument("source", metavar="SRC", help="what to copy: a local path, or NAME:PATH")
    cp.add_argument("destination", metavar="DST", help="where to: NAME:PATH, or a local path")
    cp.set_defaults(handler=_cp)

    inspect = commands.add_parser(
        "inspect",
        parents=[connection],
        help="show a sandbox: its fields, why it ended, its last error output",
        description="Show the sandbox NAME (a name or an id): phase, image, times, exit code, why it ended, "
        "and the last lines it wrote to stderr.",
    )
    inspect.add_argument("name", metavar="NAME", help="the sandbox's name or id")
    _output_option(inspect, "wide adds its last log lines of every kind")
    inspect.set_defaults(handler=_inspect)

    logs = commands.add_parser(
        "logs",
        parents=[connection],
        help="print a sandbox's logs",
        description="Print what the sandbox's main process and its execs wrote, oldest first "
        "(lines written to stderr go to stderr).",
    )
    logs.add_argument("name", metavar="NAME", help="the sandbox's name or id")
    logs.add_argument("--since", help="only lines after this: an RFC 3339 time or a duration such as 30s, 5m, 2h")
    logs.add_argument(
        "--limit", type=_positive_int, default=100, help="the newest N lines (default 100, as sandbox.logs() answers)"
    )
    logs.add_argument("-t", "--timestamps", action="store_true", help="prefix each line with its time and level")
    logs.add_argument(
        "-f", "--follow", action="store_true", help="then print each new line as it is written, until the sandbox ends"
    )
    logs.set_defaults(handler=_logs)

    ls = commands.add_parser(
        "ls",
        parents=[connection],
        help="list sandboxes (the live ones; -a for all)",
        description="List sandboxes, newest first, as a table: the live ones (queued, creating, running) "
        "unless -a or --phase says otherwise.",
    )
    ls.add_argument("-a", "--all", action="store_true", help="every sandbox, also those that ended")
    ls.add_argument("--tag", action="append", default=[], metavar="K=V", help="only those with this tag (repeatable)")
    ls.add_argument(
        "--phase", action="append", default=[], choices=PHASES, help="only those in this phase (repeatable)"
    )
    ls.add_argument("--limit", type=_positive_int, metavar="N", help="at most the N newest")
    ls.add_argument("-q", "--quiet", action="store_true", help="print names only")
    _output_option(ls, "wide adds times, exit codes, reasons and mounts")
    ls.set_defaults(handler=_ls)

    rm = commands.add_parser(
        "rm",
        parents=[connection],
        help="terminate sandboxes",
        description="Terminate each sandbox NAME (terminating an ended one does nothing), or with --all every "
        "live one that the filters match, after asking.",
        usage=f"{PROG} rm NAME... | {PROG} rm --all [--tag K=V]... [--phase P]... [--yes]",
    )
    rm.add_argument("names", nargs="*", metavar="NAME", help="a sandbox's name or id")
    rm.add_argument("--all", action="store_true", help="every live sandbox the filters match")
    _bulk_options(rm)
    rm.set_defaults(handler=_rm)

    prune = commands.add_parser(
        "prune",
        parents=[connection],
        help="terminate every live sandbox (and with --volumes, delete unused volumes)",
        description="Terminate every live sandbox the filters match, after asking: what crashed scripts and "
        "tests left running. With --volumes, also delete every volume no live sandbox mounts.",
    )
    _bulk_options(prune)
    prune.add_argument("--volumes", action="store_true", help="also delete volumes that no live sandbox mounts")
    prune.set_defaults(handler=_prune)

    volumes = commands.add_parser(
        "volumes",
        help="list, create and delete volumes",
        description="Volumes are directories that outlive sandboxes and can be mounted by several at once.",
    )
    volume_commands = volumes.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    volumes.set_defaults(handler=lambda _options: _usage(volumes))
    volumes_ls = volume_commands.add_parser("ls", parents=[connection], help="list volumes")
    volumes_ls.add_argument("-q", "--quiet", action="store_true", help="print names only")
    _output_option(volumes_ls, "wide adds the type and where its data lives")
    volumes_ls.set_defaults(handler=_volumes_ls)
    volumes_create = volume_commands.add_parser(
        "create",
        parents=[connection],
        help="create a volume and print its name",
        description="Create a volume and print its name (its id when NAME is not given), as 'run' does.",
    )
    volumes_create.add_argument("name", nargs="?", metavar="NAME", help="a unique name: a-z, 0-9 and '-'")
    volumes_create.set_defaults(handler=_volumes_create)
    volumes_rm = volume_commands.add_parser("rm", parents=[connection], help="delete volumes")
    volumes_rm.add_argument("names", nargs="+", metavar="NAME", help="a volume's name or id")
    volumes_rm.set_defaults(handler=_volumes_rm)

    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description="Print a completion script for SHELL. Load it in your shell's startup file: "
        f'eval "$({PROG} completion bash)" in ~/.bashrc, or eval "$({PROG} completion zsh)" in ~/.zshrc.',
    )
    completion.add_argument("shell", choices=("bash", "zsh"), metavar="SHELL", help="bash or zsh")
    completion.set_defaults(handler=lambda options: _completion(parser, options))
    return parser


def _output_option(parser: argparse.ArgumentParser, wide: str) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=OUTPUTS,
        default="table",
        help=f"table (the default), wide or json; {wide}",
    )


def _bulk_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tag", action="append", default=[], metavar="K=V", help="only those with this tag (repeatable)"
    )
    parser.add_argument(
        "--phase", action="append", default=[], choices=LIVE_PHASES, help="only those in this phase (repeatable)"
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask first")


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


def _pairs(values: Iterable[str], option: str, form: str = "KEY=VALUE") -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, equals, rest = value.partition("=")
        if not equals or not key:
            raise UsageError(f"{option} expects {form}, got {value!r}")
        pairs[key] = rest
    return pairs


def _no_command(options: argparse.Namespace, usage: str) -> None:
    if options.command is not None:
        raise UsageError(f"unexpected '--' and command: {usage}")


# -- serve ---------------------------------------------------------------------------------------


def _serve(args: list[str]) -> int:
    from ._extras import missing_server_modules, server_extra_message

    missing = missing_server_modules()
    if missing:
        _fail(f"error: {server_extra_message(missing)}")
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

    mounts = _pairs(
        options.volume, "--volume", "PATH=VOLUME (an absolute path in the sandbox, such as /data=my-volume)"
    )
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
    if options.tty:
        if not sys.stdin.isatty():
            raise UsageError("the input is not a terminal: -t needs one (leave -t out to stream with a pipe)")
        with _client(options) as porter:
            return _terminal(porter, options.name, options.command)
    stdin = _stdin_to_pass(options)
    with _client(options) as porter:
        sandbox = porter.sandboxes.get(options.name)
        return _stream(sandbox, options.command, stdin, explicit=options.interactive)


def _shell(options: argparse.Namespace) -> int:
    if not sys.stdin.isatty():
        raise UsageError(f"the input is not a terminal: {PROG} shell needs one (use exec to stream with a pipe)")
    with _client(options) as porter:
        return _terminal(porter, options.name, options.command or [])


def _terminal(porter: Porter, name: str, command: Sequence[str]) -> int:
    from ._terminal import run_terminal

    sandbox = porter.sandboxes.get(name)
    return _exit_status(run_terminal(porter, sandbox.id, command))


def _stdin_to_pass(options: argparse.Namespace) -> BinaryIO | None:
    """Our stdin, when it goes to the command: not a terminal (unless -i), not /dev/null, not an empty file."""
    if options.no_stdin:
        if options.interactive:
            raise UsageError("-i passes stdin on and --no-stdin keeps it: give one of them")
        return None
    try:
        stdin = sys.stdin.buffer
        fd = sys.stdin.fileno()
        info = os.fstat(fd)
    except (AttributeError, ValueError, OSError):
        return None
    if sys.stdin.isatty():
        return stdin if options.interactive else None
    if stat.S_ISCHR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_size == 0):
        return None  # /dev/null, or an empty file: nothing to pass
    return stdin


def _stream(sandbox: Sandbox, command: Sequence[str], stdin: BinaryIO | None, *, explicit: bool) -> int:
    """Run ``command`` with its output streamed to ours; Ctrl-C stops it. A server without streams: a plain exec."""
    from ._exceptions import SandboxError, UnsupportedByServerError

    try:
        stream = sandbox.exec_stream(command, stdin=stdin)
    except UnsupportedByServerError:
        if stdin is not None and explicit:
            raise
        if stdin is not None:
            _fail("warning: this server cannot pass stdin to a command (it has no streamed exec): stdin is not passed")
        result = sandbox.exec(command)
        _write(sys.stdout, result.stdout)
        _write(sys.stderr, result.stderr)
        return _exit_status(result.exit_code)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    try:
        with stream:
            for event in stream:
                if event.kind == "stdout":
                    out.write(event.data)
                    out.flush()
                elif event.kind == "stderr":
                    err.write(event.data)
                    err.flush()
    except KeyboardInterrupt:
        stream.close()  # the server kills the command
        _fail("interrupted: the command was stopped")
        return 130
    if stream.exit_code is None:
        raise SandboxError("the command's end is unknown: the stream ended early")
    return _exit_status(stream.exit_code)


def _cp(options: argparse.Namespace) -> int:
    from ._copy import copy_from_sandbox, copy_into_sandbox, parse_location

    _no_command(options, f"{PROG} cp SRC DST")
    source, destination = parse_location(options.source), parse_location(options.destination)
    if (source.sandbox is None) == (destination.sandbox is None):
        raise UsageError(
            f"name a sandbox on exactly one side: {PROG} cp ./local NAME:/path, or {PROG} cp NAME:/path ./local"
        )
    with _client(options) as porter:
        if destination.sandbox is not None:
            copy_into_sandbox(porter.sandboxes.get(destination.sandbox), source.path, destination.path)
        else:
            assert source.sandbox is not None
            copy_from_sandbox(porter.sandboxes.get(source.sandbox), source.path, destination.path)
    return 0


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
    _no_command(options, f"{PROG} logs NAME [-f] [--since S] [--limit N]")
    with _client(options) as porter:
        sandbox = porter.sandboxes.get(options.name)
        if not options.follow:
            for entry in sandbox.logs(since=options.since, limit=options.limit):
                _print_line(entry, options.timestamps)
            sys.stdout.flush()
            return 0
        try:
            with sandbox.logs(since=options.since, limit=options.limit, follow=True) as lines:
                for entry in lines:
                    _print_line(entry, options.timestamps)
                    (sys.stdout if entry.level == "info" else sys.stderr).flush()
        except KeyboardInterrupt:
            return 130  # stopped following; the sandbox runs on
    return 0


def _print_line(entry: LogLine, timestamps: bool) -> None:
    stream = sys.stdout if entry.level == "info" else sys.stderr
    text = entry.line
    if timestamps:
        text = f"{_time(entry.timestamp)}  {entry.level:<7} {text}"
    print(text, file=stream)


def _ls(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} ls [-a] [--tag K=V] [--phase P] [--limit N]")
    tags = _pairs(options.tag, "--tag")
    phases = options.phase or (None if options.all else list(LIVE_PHASES))
    with _client(options) as porter:
        found = porter.sandboxes.iter(tags=tags or None, phase=phases)
        sandboxes = list(itertools.islice(found, options.limit))
    if options.quiet:
        for sandbox in sandboxes:
            print(sandbox.name)
        return 0
    if options.output == "json":
        _json([_sandbox_fields(sandbox) for sandbox in sandboxes])
        return 0
    header = ["NAME", "PHASE", "IMAGE", "CREATED", "TAGS", "ID"]
    if options.output == "wide":
        header += ["STARTED", "FINISHED", "EXIT", "REASON", "MOUNTS"]
    rows = []
    for sandbox in sandboxes:
        row = [
            sandbox.name,
            str(sandbox.phase or ""),
            sandbox.image,
            _time(sandbox.created_at),
            _mapping_text(sandbox.tags),
            sandbox.id if sandbox.id != sandbox.name else "",
        ]
        if options.output == "wide":
            row += [
                _time(sandbox.started_at),
                _time(sandbox.finished_at),
                "" if sandbox.exit_code is None else str(sandbox.exit_code),
                sandbox.termination_reason or "",
                _mapping_text(sandbox.volume_mounts),
            ]
        rows.append(row)
    _table(header, rows)
    return 0


def _inspect(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} inspect NAME [-o json]")
    from ._exceptions import SandboxError
    from ._sandboxes import error_tail

    with _client(options) as porter:
        sandbox = porter.sandboxes.get(options.name)
        try:
            lines = sandbox.logs(limit=_INSPECT_SCAN)
        except SandboxError:
            lines = []
    fields = _sandbox_fields(sandbox)
    fields["last_error_output"] = list(error_tail(lines))
    if options.output == "wide":
        fields["last_log_lines"] = [f"{_time(line.timestamp)} {line.level} {line.line}" for line in lines[-20:]]
    if options.output == "json":
        _json(fields)
        return 0
    width = max(len(key) for key in fields) + 2
    for key, value in fields.items():
        if isinstance(value, list) and value:
            print(f"{key}:")
            for item in value:
                print(f"  {item}")
            continue
        if isinstance(value, (dict, list)):
            shown = _mapping_text(value) if isinstance(value, dict) else ""
        else:
            shown = "" if value is None else str(value)
        print(f"{key + ':':<{width}}{shown or '-'}")
    sys.stdout.flush()
    return 0


def _sandbox_fields(sandbox: Sandbox) -> dict[str, Any]:
    """A sandbox's fields, as ``inspect`` and ``ls -o json`` show them (times in RFC 3339, with their zone)."""
    return {
        "name": sandbox.name,
        "id": sandbox.id,
        "phase": sandbox.phase,
        "image": sandbox.image,
        "tags": dict(sandbox.tags),
        "created_at": _iso(sandbox.created_at),
        "started_at": _iso(sandbox.started_at),
        "finished_at": _iso(sandbox.finished_at),
        "exit_code": sandbox.exit_code,
        "termination_reason": sandbox.termination_reason,
        "volume_mounts": dict(sandbox.volume_mounts),
        "host": sandbox.host,
        "internal_address": sandbox.internal_address,
    }


def _rm(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} rm NAME... | {PROG} rm --all")
    if options.all:
        if options.names:
            raise UsageError(f"give NAMEs or --all, not both (see '{PROG} rm --help')")
        return _terminate_matching(options, volumes=False)
    if not options.names:
        raise UsageError(f"say which sandboxes: {PROG} rm NAME..., or {PROG} rm --all (see '{PROG} rm --help')")
    if options.tag or options.phase:
        raise UsageError("--tag and --phase choose sandboxes for --all; with NAMEs, leave them out")
    with _client(options) as porter:
        return _each_name(options.names, lambda name: _terminate(porter, name))


def _prune(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} prune [--tag K=V] [--volumes] [--yes]")
    return _terminate_matching(options, volumes=options.volumes)


def _terminate_matching(options: argparse.Namespace, *, volumes: bool) -> int:
    """Terminate the live sandboxes the filters match (and unused volumes), after asking unless ``--yes``."""
    tags = _pairs(options.tag, "--tag")
    with _client(options) as porter:
        doomed = list(porter.sandboxes.iter(tags=tags or None, phase=options.phase or list(LIVE_PHASES)))
        doomed_ids = {sandbox.id for sandbox in doomed}
        unused: list[Volume | ObjectVolume] = []
        if volumes:
            unused = [v for v in porter.volumes.list() if not set(v.attached_to) - doomed_ids]
        if not doomed and not unused:
            print("nothing to do: no live sandbox matches" + (" and no volume is unused" if volumes else ""))
            return 0
        what = [f"terminate {len(doomed)} sandbox{'es' if len(doomed) != 1 else ''}"] if doomed else []
        if unused:
            what.append(f"delete {len(unused)} volume{'s' if len(unused) != 1 else ''} and their files")
        names = ", ".join([s.name for s in doomed] + [f"volume {v.name}" for v in unused])
        if not options.yes and not _confirm(f"{' and '.join(what)} ({_shorten(names)})?"):
            _fail("nothing done")
            return EXIT_ERROR
        failed = _each_name(
            [s.id for s in doomed],
            lambda sandbox_id: _terminate(porter, sandbox_id),
            shown={s.id: s.name for s in doomed},
        )
        if unused:
            failed |= _each_name([v.id for v in unused], porter.volumes.delete, shown={v.id: v.name for v in unused})
    return failed


def _confirm(question: str) -> bool:
    """Ask on stderr, read the answer from stdin: only y or yes (any case) is a yes; end of input is a no."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print(file=sys.stderr)
    return answer.strip().lower() in ("y", "yes")


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _each_name(names: Sequence[str], act: Callable[[str], object], shown: Mapping[str, str] | None = None) -> int:
    """Act on each name, printing the ones done; one line per failure, and carry on with the rest."""
    failed = 0
    for name in names:
        label = (shown or {}).get(name, name)
        try:
            act(name)
        except Exception as exc:
            if _is_connection_error(exc):
                raise
            _fail(f"{label}: {_describe(exc)}")
            failed += 1
        else:
            print(label, flush=True)
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
    if options.output == "json":
        _json([_volume_fields(volume) for volume in volumes])
        return 0
    header = ["NAME", "PHASE", "CREATED", "ATTACHED TO", "ID"]
    if options.output == "wide":
        header += ["TYPE", "PATH"]
    rows = []
    for volume in volumes:
        row = [volume.name, volume.phase, _time(volume.created_at), ",".join(volume.attached_to), volume.id]
        if options.output == "wide":
            row += [volume.type, volume.path]
        rows.append(row)
    _table(header, rows)
    return 0


def _volume_fields(volume: Volume | ObjectVolume) -> dict[str, Any]:
    return {
        "name": volume.name,
        "id": volume.id,
        "type": volume.type,
        "phase": volume.phase,
        "path": volume.path,
        "attached_to": list(volume.attached_to),
        "created_at": _iso(volume.created_at),
    }


def _volumes_create(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} volumes create [NAME]")
    with _client(options) as porter:
        volume = porter.volumes.create(name=options.name)
    print(volume.name, flush=True)  # as `run` prints the sandbox's: its name, which is its id when unnamed
    return 0


def _volumes_rm(options: argparse.Namespace) -> int:
    _no_command(options, f"{PROG} volumes rm NAME...")
    with _client(options) as porter:
        return _each_name(options.names, porter.volumes.delete)


# -- output --------------------------------------------------------------------------------------


def _time(value: datetime | str | None) -> str:
    """A time for a table: local, to the second, with its UTC offset, so that it is never ambiguous."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.astimezone().isoformat(sep=" ", timespec="seconds")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    print(flush=True)


def _completion(parser: argparse.ArgumentParser, options: argparse.Namespace) -> int:
    from ._completion import completion_script

    print(completion_script(parser, options.shell), end="", flush=True)
    return 0


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
