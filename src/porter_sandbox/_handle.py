"""What every handle (``Sandbox``, ``Volume`` and their async twins) shares: its client, last-known state, id, name,
equality and repr."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client

__all__ = ["Handle"]


class _State(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def phase(self) -> str: ...


S = TypeVar("S", bound=_State)


class Handle(Generic[S]):
    """A handle on one object of the API: what the client last heard about it (``_state``), and the client.

    Two handles are equal when they are of the same kind and name the same
    object (the same id), whatever each last heard.
    """

    def __init__(self, client: AuthenticatedClient | Client, state: S) -> None:
        self._client = client
        self._state = state

    @property
    def id(self) -> str:
        """Its id."""
        return self._state.id

    @property
    def name(self) -> str:
        """Its name (its id when it was created without one)."""
        return self._state.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id!r} name={self.name!r} phase={self._state.phase!r}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Handle) and other.id == self.id

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))
