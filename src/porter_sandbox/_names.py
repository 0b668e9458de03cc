"""Checks on names and mount paths, made before any request is sent.

Sandbox and volume names are DNS labels: 1 to 63 characters of ``a-z``,
``0-9`` and ``-``, starting and ending with a letter or digit. The server
checks again; checking here first says exactly which rule a name broke and
saves a round trip.
"""

from __future__ import annotations

import string

from ._exceptions import InvalidNameError

__all__ = ["check_mount_path", "check_name", "is_name", "name_problem"]

_MAX_LENGTH = 63
_ALLOWED = frozenset(string.ascii_lowercase + string.digits + "-")
_ALNUM = frozenset(string.ascii_lowercase + string.digits)


def name_problem(name: object) -> str | None:
    """Which DNS-label rule ``name`` breaks, in words; ``None`` when it is a valid name."""
    if not isinstance(name, str):
        return f"must be a string, not {type(name).__name__}"
    if not name:
        return "must not be empty"
    if len(name) > _MAX_LENGTH:
        return f"is {len(name)} characters long; the limit is {_MAX_LENGTH}"
    bad = sorted(set(name) - _ALLOWED)
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        hint = " (use lowercase)" if any(c.isupper() for c in bad) else ""
        return f"may only hold a-z, 0-9 and '-', but holds {shown}{hint}"
    if name[0] not in _ALNUM:
        return "must start with a letter or digit"
    if name[-1] not in _ALNUM:
        return "must end with a letter or digit"
    return None


def is_name(name: str) -> bool:
    """Whether ``name`` is a valid sandbox or volume name (a DNS label)."""
    return name_problem(name) is None


def check_name(name: str, kind: str = "sandbox") -> str:
    """Answer ``name`` when it is a valid DNS label; raise :class:`InvalidNameError` saying which rule it broke."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidNameError(
            f"invalid {kind} name {name!r}: it {problem}. A name is 1 to 63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit."
        )
    return name


def check_mount_path(path: str) -> str:
    """Answer ``path`` when it is an absolute path; raise :class:`InvalidNameError` otherwise."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidNameError(f"invalid mount path {path!r}: it must be absolute, such as '/data'")
    return path
