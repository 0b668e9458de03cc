"""Names or ids: turning the string a caller passes for a sandbox or volume into its id.

A string that is a valid name (a DNS label) is first looked up as a name
(``GET /v1/sandbox/lookup`` or ``GET /v1/volume/lookup``); when nothing has
that name, or the string cannot be a name, it is used as an id. An object
created without a name is named after its id, so its id is found by the name
lookup too. The decisions live here once; :func:`resolve_id` and
:func:`async_resolve_id` only do the I/O around them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ._base_client import async_call, expect, sync_call
from ._exceptions import NotFoundError, RouteNotFoundError
from ._names import is_name

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.types import Response

__all__ = ["Kind", "async_resolve_id", "check_reference", "not_found", "resolve_id"]

Kind = Literal["sandbox", "volume"]


def check_reference(name_or_id: str, kind: Kind) -> str:
    """``name_or_id`` when it is a non-empty string."""
    if not isinstance(name_or_id, str) or not name_or_id:
        raise ValueError(f"expected a {kind} name or id, a non-empty string, not {name_or_id!r}")
    return name_or_id


def not_found(kind: Kind, name_or_id: str, cause: NotFoundError, hint: str = "") -> NotFoundError:
    """The 404 for a name-or-id that matched neither a name nor an id (``hint`` says what to do instead).

    A 404 for the route itself stays what it is: it says nothing about the name.
    """
    if isinstance(cause, RouteNotFoundError):
        return cause
    return NotFoundError(
        f"no {kind} is named or has the id {name_or_id!r}{hint}", status_code=cause.status_code, body=cause.body
    )


def resolve_id(client: AuthenticatedClient | Client, kind: Kind, name_or_id: str) -> str:
    """The id ``name_or_id`` stands for: the id of what has that name, else the string itself."""
    reference = check_reference(name_or_id, kind)
    if not is_name(reference):
        return reference
    try:
        return _found_id(sync_call(_lookup(kind).sync_detailed, client=client, name=reference))
    except RouteNotFoundError:
        raise
    except NotFoundError:
        return reference  # not a name: try it as an id


async def async_resolve_id(client: AuthenticatedClient | Client, kind: Kind, name_or_id: str) -> str:
    """The async twin of :func:`resolve_id`."""
    reference = check_reference(name_or_id, kind)
    if not is_name(reference):
        return reference
    try:
        return _found_id(await async_call(_lookup(kind).asyncio_detailed, client=client, name=reference))
    except RouteNotFoundError:
        raise
    except NotFoundError:
        return reference  # not a name: try it as an id


def _lookup(kind: Kind) -> Any:
    """The generated lookup operation's module for ``kind``."""
    if kind == "sandbox":
        from porter_sandbox_api.api.sandboxes import lookup_sandbox

        return lookup_sandbox
    from porter_sandbox_api.api.volumes import lookup_volume

    return lookup_volume


def _found_id(answer: Response[Any]) -> str:
    from porter_sandbox_api.models import LookupResponse

    return expect(answer, LookupResponse).id
