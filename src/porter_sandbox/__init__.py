"""Python SDK for the Porter Sandbox API.

::

    from porter_sandbox import Porter

    with Porter() as porter:
        sandbox = porter.sandboxes.create(image="python:3.12-slim")
        print(sandbox.exec(["python", "-c", "print('hi')"]).stdout)
        sandbox.terminate()

``AsyncPorter`` is the same surface, awaitable. Every error is a
``SandboxError``; ``help(porter_sandbox.SandboxError)`` draws the tree of
them. The local server (``porter-sandbox serve``) and the test kit
(``porter_sandbox.testing``, and its pytest fixtures) come with the
``server`` extra.
"""

from ._client import AsyncPorter, Porter
from ._config import NOT_GIVEN, NotGiven
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CommandError,
    ConfigurationError,
    ConflictError,
    InvalidNameError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteNotFoundError,
    SandboxEndedError,
    SandboxError,
    SandboxTimeoutError,
    ServerError,
)
from ._health import AsyncHealthz, AsyncReadyz, Healthz, Readyz
from ._models import CountPoint, ExecResult, Health, LogLine, Readiness, SandboxCounts, SandboxPage, VolumeFile
from ._raw import BoundOperations
from ._sandboxes import TERMINAL_PHASES, AsyncSandbox, AsyncSandboxes, Sandbox, Sandboxes, SandboxPhase, WaitPhase
from ._version import __version__
from ._volumes import AsyncVolume, AsyncVolumes, Volume, Volumes

__all__ = [
    "NOT_GIVEN",
    "TERMINAL_PHASES",
    "APIConnectionError",
    "APIStatusError",
    "AsyncHealthz",
    "AsyncPorter",
    "AsyncReadyz",
    "AsyncSandbox",
    "AsyncSandboxes",
    "AsyncVolume",
    "AsyncVolumes",
    "AuthenticationError",
    "BadRequestError",
    "BoundOperations",
    "CommandError",
    "ConfigurationError",
    "ConflictError",
    "CountPoint",
    "ExecResult",
    "Health",
    "Healthz",
    "InvalidNameError",
    "LogLine",
    "NotFoundError",
    "NotGiven",
    "PermissionDeniedError",
    "Porter",
    "RateLimitError",
    "Readiness",
    "Readyz",
    "RouteNotFoundError",
    "Sandbox",
    "SandboxCounts",
    "SandboxEndedError",
    "SandboxError",
    "SandboxPage",
    "SandboxPhase",
    "SandboxTimeoutError",
    "Sandboxes",
    "ServerError",
    "Volume",
    "VolumeFile",
    "Volumes",
    "WaitPhase",
    "__version__",
]

# Errors show in tracebacks as porter_sandbox.NotFoundError, not as the private module they live in.
# (Only errors: other classes keep their module, so typing.get_type_hints() can resolve their fields.)
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and issubclass(_value, Exception):
        _value.__module__ = __name__
del _name, _value
