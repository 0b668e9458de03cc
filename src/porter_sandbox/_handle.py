"""What every handle (``Sandbox``, ``Volume``, ``Snapshot`` and their twins) shares: its client, last-known state, id,
equality and repr."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client

__all__ = ["Handle", "NamedHandle"]


class _State(Protocol):
    @property
    def id(self) -> str: ...


class _NamedState(_State, Protocol):
    @property
    def name(self) -> str: ...


S = TypeVar("S", bound=_State)
N = TypeVar("N", bound=_NamedState)


def _shown(value: object) -> object:
    # An enum shows as its bare value, as it prints: phase='running'.
    return str.__str__(value) if isinstance(value, str) else value


class Handle(Generic[S]):
    """A handle on one object of the API: what the client last heard about it (``_state``), and the client.

    Two handles are equal when they are of the same kind and name the same
    object (the same id), whatever each last heard. Its repr shows the
    attributes named in ``_repr_fields``.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("id",)

    def __init__(self, client: AuthenticatedClient | Client, state: S) -> None:
        self._client = client
        self._state = state

    @property
    def id(self) -> str:
        """Its id."""
        return self._state.id

    def __repr__(self) -> str:
        shown = " ".join(f"{name}={_shown(getattr(self, name))!r}" for name in self._repr_fields)
        return f"<{type(self).__name__} {shown}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Handle) and other.id == self.id

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))


class NamedHandle(Handle[N]):
    """A handle on something with a name and a phase (a sandbox, a volume)."""

    _repr_fields = ("id", "name", "phase")

    @property
    def name(self) -> str:
        """Its name (its id when it was created without one)."""
        return self._state.name
