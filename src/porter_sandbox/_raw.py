"""``.raw`` on a namespace: the generated operations of one API tag, bound to the client.

``porter.sandboxes.raw.get_sandbox("sb-1")`` calls the generated
``porter_sandbox_api.api.sandboxes.get_sandbox.sync_detailed`` with
``client=porter.raw`` filled in (on an ``AsyncPorter``, ``asyncio_detailed``,
to be awaited). It answers the generated ``Response`` (``status_code``,
``headers``, ``content``, ``parsed``) and raises nothing for error statuses:
that is the low-level layer. It shares the client's connection pool, API key,
timeout and retry policy with the SDK. Each operation module is imported on
first use. Type checkers see each namespace's ``raw`` through a protocol of
``_operations`` that carries the generated signatures, less ``client``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client

__all__ = ["BoundOperations"]


class BoundOperations:
    """The generated operations of one API tag (``sandboxes``, ``volumes``, ...) with ``client=`` filled in.

    Attributes are the operation ids of ``openapi.yaml``; calling one calls its
    ``sync_detailed`` (or, for an async client, ``asyncio_detailed``).
    """

    def __init__(self, client: AuthenticatedClient | Client, tag: str, *, asynchronous: bool) -> None:
        self._client = client
        self._tag = tag
        self._asynchronous = asynchronous

    @property
    def client(self) -> AuthenticatedClient | Client:
        """The generated client these operations are bound to (the same as ``porter.raw``)."""
        return self._client

    def operations(self) -> list[str]:
        """The names of the operations of this tag."""
        import pkgutil

        package = importlib.import_module(f"porter_sandbox_api.api.{self._tag}")
        return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            module = importlib.import_module(f"porter_sandbox_api.api.{self._tag}.{name}")
        except ModuleNotFoundError:
            raise AttributeError(
                f"the {self._tag} API has no operation {name!r}; it has: {', '.join(self.operations())}"
            ) from None
        function = module.asyncio_detailed if self._asynchronous else module.sync_detailed
        bound = functools.partial(function, client=self._client)
        functools.update_wrapper(bound, function)
        # Cache it: later lookups find the attribute without coming back here.
        setattr(self, name, bound)
        return bound

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.operations()})

    def __repr__(self) -> str:
        kind = "async" if self._asynchronous else "sync"
        return f"<BoundOperations {self._tag} ({kind}): {', '.join(self.operations())}>"
