"""Environment groups: named sets of variables configured on the server, that sandboxes ask for by name.

``porter-sandbox serve --env-group NAME=FILE`` adds the group ``NAME`` from a
dotenv file; ``--env-group DIR`` adds every ``*.env`` file in a directory,
each named after its file (``DIR/shared.env`` is the group ``shared``). A
sandbox created with ``env_groups: [a, b]`` gets ``a``'s variables, then
``b``'s (a later group wins on a conflict), then its own ``env`` (which wins
over any group). A group is read again when its file changed, so a sandbox
gets the latest version at create time; a directory is looked at again when
a sandbox asks for a group it does not know yet.

The dotenv format: one ``KEY=VALUE`` per line, optionally after
``export``; blank lines and lines starting with ``#`` are skipped; a value in
single quotes is taken literally, one in double quotes understands ``\\n``,
``\\t``, ``\\"`` and ``\\\\``; an unquoted value ends at `` #`` (a comment) and
is stripped.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import errors

logger = logging.getLogger("porter_sandbox_server")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


class EnvGroupError(ValueError):
    """A group that cannot be configured (a bad name, an unreadable file, a malformed line); the message says which."""


def parse_dotenv(text: str, source: str) -> dict[str, str]:
    """The variables of a dotenv file's ``text``; ``EnvGroupError`` naming ``source`` and the line when malformed."""
    variables: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise EnvGroupError(f"{source}, line {number}: expected KEY=VALUE, found {raw.strip()!r}")
        parsed = _value(value.strip(), f"{source}, line {number}")
        if "\0" in parsed:
            raise EnvGroupError(
                f"{source}, line {number}: the value holds a NUL character, which no program can receive"
            )
        variables[key] = parsed
    return variables


def _value(text: str, where: str) -> str:
    if text[:1] in ("'", '"'):
        quote = text[0]
        end = _closing_quote(text, quote)
        if end < 0:
            raise EnvGroupError(f"{where}: the value's {quote} is not closed (values span one line)")
        rest = text[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise EnvGroupError(f"{where}: unexpected {rest!r} after the quoted value")
        inner = text[1:end]
        if quote == "'":
            return inner
        return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(0)), inner)
    comment = re.search(r"\s#", text)
    if comment is not None:
        text = text[: comment.start()]
    return text.strip()


def _closing_quote(text: str, quote: str) -> int:
    index = 1
    while index < len(text):
        if text[index] == "\\" and quote == '"':
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return -1


@dataclass
class _Group:
    path: Path
    variables: dict[str, str]
    #: (mtime_ns, size) of the file when read, to read it again once it changed.
    seen: tuple[int, int]


@dataclass
class EnvGroups:
    """The environment groups a server has (see the module doc)."""

    _groups: dict[str, _Group] = field(default_factory=dict)
    _directories: list[Path] = field(default_factory=list)

    @classmethod
    def load(cls, specs: Sequence[str]) -> EnvGroups:
        """Groups from ``--env-group`` values (``NAME=FILE`` or a directory); ``EnvGroupError`` on any fault."""
        groups = cls()
        for spec in specs:
            name, sep, file = spec.partition("=")
            if sep:
                if not _NAME.fullmatch(name):
                    raise EnvGroupError(
                        f"--env-group {spec!r}: the group name {name!r} is invalid; "
                        "use letters, digits, '.', '_' and '-' (up to 128)"
                    )
                groups._add(name, Path(file).expanduser().resolve())
            else:
                directory = Path(spec).expanduser().resolve()
                if not directory.is_dir():
                    raise EnvGroupError(
                        f"--env-group {spec!r}: give NAME=FILE (a dotenv file), or a directory of NAME.env files"
                    )
                groups._directories.append(directory)
                groups._scan(directory, strict=True)
        return groups

    def _add(self, name: str, path: Path) -> None:
        if name in self._groups and self._groups[name].path != path:
            raise EnvGroupError(f"environment group {name!r} is configured twice ({self._groups[name].path}, {path})")
        self._groups[name] = _read(name, path)

    def _scan(self, directory: Path, *, strict: bool) -> None:
        for path in sorted(directory.glob("*.env")):
            name = path.stem
            if name in self._groups or not _NAME.fullmatch(name) or not path.is_file():
                continue
            try:
                self._groups[name] = _read(name, path)
            except EnvGroupError:
                if strict:
                    raise
                logger.warning("environment group %r in %s cannot be read; skipped", name, path, exc_info=True)

    @property
    def names(self) -> list[str]:
        """The names of the groups known now, sorted."""
        return sorted(self._groups)

    def merge(self, names: Sequence[str], env: Mapping[str, str]) -> dict[str, str]:
        """The variables of the groups ``names``, in order, with ``env`` over them; ``BadRequest`` naming an unknown group."""
        unknown = [name for name in names if name not in self._groups]
        if unknown:
            for directory in self._directories:
                self._scan(directory, strict=False)
            unknown = [name for name in names if name not in self._groups]
        if unknown:
            known = ", ".join(self.names) or "none"
            raise errors.BadRequest(
                f"env_groups: no environment group is named {', '.join(repr(name) for name in unknown)} on this "
                f"server (it has: {known}); configure one with `porter-sandbox serve --env-group NAME=FILE`"
            )
        merged: dict[str, str] = {}
        for name in names:
            merged.update(self._current(name).variables)
        merged.update(env)
        return merged

    def _current(self, name: str) -> _Group:
        group = self._groups[name]
        try:
            info = os.stat(group.path)
        except OSError:
            logger.warning("environment group %r: %s is gone; using the variables read before", name, group.path)
            return group
        if (info.st_mtime_ns, info.st_size) != group.seen:
            try:
                group = self._groups[name] = _read(name, group.path)
            except EnvGroupError as error:
                logger.warning("environment group %r: %s; using the variables read before", name, error)
        return group


def _read(name: str, path: Path) -> _Group:
    try:
        info = os.stat(path)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EnvGroupError(f"environment group {name!r}: cannot read {path}: {error}") from None
    return _Group(path, parse_dotenv(text, str(path)), (info.st_mtime_ns, info.st_size))
