"""Volumes: the ``porter.volumes`` namespace and the volume handles, sync and async side by side.

A disk volume (``Volume``) is a directory of files, reachable through its file
methods; an object volume (``ObjectVolume``, on a Porter cluster) exposes a
bucket and has no file methods. ``get(name)`` and ``delete(name)`` take a name
or an id, as ``_references`` resolves them.

File methods send one request each, except ``iterdir`` and ``search`` (one
listing per directory the server's listing cut off) and ``stream`` (one ranged
read per chunk, so a file of any size passes through a bounded amount of memory).
"""

from __future__ import annotations

import builtins
import gc
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from ._base_client import async_call, expect, expect_content, expect_no_content, sync_call
from ._enums import (
    VolumeObjectSpecAccess,
    VolumeObjectSpecMode,
    VolumePhase,
    VolumeSpecType,
    VolumeType,
    check_member,
    member,
)
from ._exceptions import NotFoundError, SandboxError, error_for_status
from ._handle import NamedHandle
from ._models import VolumeFile
from ._names import check_name
from ._raw import BoundOperations
from ._references import async_resolve_id, check_reference, not_found, resolve_id
from ._retry import CallOptions
from ._specs import VolumeObjectSpec, coerce, wire
from ._volume_files import (
    DEFAULT_CHUNK_SIZE,
    ListingWalk,
    RangedRead,
    file_path,
    listing_entries,
    read_range,
    upload_body,
)

if TYPE_CHECKING:
    from porter_sandbox_api.client import AuthenticatedClient, Client
    from porter_sandbox_api.models import CreateVolumeRequest, MoveFileRequest
    from porter_sandbox_api.models import Volume as VolumeModel
    from porter_sandbox_api.models import VolumeObjectSpec as GeneratedObjectSpec
    from porter_sandbox_api.types import File, Response

    from ._operations import AsyncVolumeOperations, VolumeOperations

    RawClient = AuthenticatedClient | Client

__all__ = ["AsyncObjectVolume", "AsyncVolume", "AsyncVolumes", "ObjectVolume", "Volume", "Volumes"]

V = TypeVar("V", bound="_VolumeFields")
VolumeKind = Literal["disk", "object"]
"""A kind of volume, as a string."""


# ---------------------------------------------------------------------------------------------
# Decisions shared by sync and async


@dataclass(frozen=True)
class VolumeState:
    """What the client last heard about a volume."""

    id: str
    name: str
    type: VolumeType
    path: str
    phase: VolumePhase
    attached_to: tuple[str, ...]
    created_at: datetime
    object: VolumeObjectSpec | None = None


def state_from_volume(volume: VolumeModel) -> VolumeState:
    """The handle's state from the server's ``Volume``."""
    from porter_sandbox_api.types import Unset

    return VolumeState(
        id=volume.id,
        name=volume.name,
        type=member(VolumeType, volume.type_),
        path=volume.path,
        phase=member(VolumePhase, volume.phase),
        attached_to=tuple(volume.attached_to),
        created_at=volume.created_at,
        object=None if isinstance(volume.object_, Unset) else object_spec_from(volume.object_),
    )


def object_spec_from(spec: GeneratedObjectSpec) -> VolumeObjectSpec:
    """A :class:`VolumeObjectSpec` from the server's; values this client does not know are kept."""
    from porter_sandbox_api.types import Unset

    return VolumeObjectSpec(
        bucket=spec.bucket,
        prefix=None if isinstance(spec.prefix, Unset) else spec.prefix,
        access=None if isinstance(spec.access, Unset) else member(VolumeObjectSpecAccess, spec.access),
        mode=None if isinstance(spec.mode, Unset) else member(VolumeObjectSpecMode, spec.mode),
    )


def create_request(
    name: str | None, type: VolumeSpecType | VolumeKind | None, object: VolumeObjectSpec | Mapping[str, Any] | None
) -> CreateVolumeRequest:
    """The body of ``volumes.create()``, checked before anything is sent.

    ``object`` makes an object volume: ``type`` may then be left out, and must
    not be ``disk``.
    """
    from porter_sandbox_api.models import CreateVolumeRequest
    from porter_sandbox_api.models import VolumeObjectSpec as GeneratedObjectSpec
    from porter_sandbox_api.models import VolumeType as GeneratedType

    request = CreateVolumeRequest()
    if name is not None:
        request.name = check_name(name, "volume")
    kind = None if type is None else check_member(VolumeSpecType, type, "type")
    if object is not None:
        if kind is None:
            kind = VolumeSpecType.OBJECT
        if kind != VolumeSpecType.OBJECT:
            raise ValueError(f"object= describes an object volume's bucket; pass type='object' with it, not {type!r}")
        request.object_ = GeneratedObjectSpec.from_dict(wire(coerce(object, VolumeObjectSpec, "object")))
    elif kind == VolumeSpecType.OBJECT:
        raise ValueError("an object volume needs object=VolumeObjectSpec(bucket=...): the bucket it exposes")
    if kind is not None:
        request.type_ = GeneratedType(kind.value)
    return request


def move_request(from_path: str, to_path: str) -> MoveFileRequest:
    """The body of ``move_file()``."""
    from porter_sandbox_api.models import MoveFileRequest

    return MoveFileRequest(from_=file_path(from_path), to=file_path(to_path))


def upload_file(payload: object) -> File:
    """The generated ``File`` wrapper around a request body (bytes or a streaming upload)."""
    from porter_sandbox_api.types import File

    # The generated code hands ``payload`` to httpx as ``content=``, which streams iterables.
    return File(payload=cast(Any, payload))


def search_matches(entries: builtins.list[VolumeFile], query: str) -> builtins.list[VolumeFile]:
    """The entries whose name holds ``query`` (the server's answer also holds the directories leading to them)."""
    needle = query.casefold()
    return [entry for entry in entries if needle in entry.name.casefold()]


def check_query(query: str) -> str:
    """``query`` when it is a non-empty string."""
    if not isinstance(query, str) or not query:
        raise ValueError(f"expected a non-empty search text, not {query!r}")
    return query


def range_answer(answer: Response[Any], offset: int, length: int | None) -> bytes:
    """The bytes a ``read_file`` answer holds: ``b""`` past the end; sliced when the server ignored ``Range``."""
    status = int(answer.status_code)
    if status == 416:
        return b""
    content = expect_content(answer)
    if status != 206 and (offset or length is not None):
        return content[offset : None if length is None else offset + length]
    return content


def stream_part(reader: RangedRead, answer: Response[Any]) -> bytes:
    """One part of a ``stream``, checked by ``reader``; raise the SDK error for an error answer."""
    status = int(answer.status_code)
    if status != 416 and not 200 <= status < 300:
        raise error_for_status(status, answer.content)
    # Any other 2xx is the whole file, as a 200 is (a Porter client takes every 2xx).
    part = reader.take(status if status in (206, 416) else 200, answer.headers, answer.content)
    # httpx links each response and its stream in a reference cycle, so a part's bytes outlive it until the
    # cyclic collector runs, which counts objects, not bytes: some twenty 8 MiB parts could pile up. Collecting
    # the youngest generation after each part (microseconds, beside a ranged read of megabytes) frees
    # each answer as soon as it is read, and keeps a stream's memory to about one part.
    gc.collect(0)
    return part


def read_offset(offset: int | None) -> int:
    """A read's start: ``None`` is the file's start."""
    return 0 if offset is None else offset


def object_spec_of(state: VolumeState) -> VolumeObjectSpec:
    """The bucket of an object volume's state."""
    if state.object is None:
        raise SandboxError(f"the server answered object volume {state.id} without its object spec")
    return state.object


# ---------------------------------------------------------------------------------------------
# Handles


class _VolumeFields(NamedHandle[VolumeState]):
    """The last-known fields of a volume, shared by every volume handle."""

    @property
    def type(self) -> VolumeType:
        """``disk`` for a directory of files, ``object`` for one that exposes a bucket."""
        return self._state.type

    @property
    def path(self) -> str:
        """Where its data lives, relative to the server's volume root (``""`` for an object volume)."""
        return self._state.path

    @property
    def phase(self) -> VolumePhase:
        """``pending``, ``ready`` or ``failed`` (last known)."""
        return self._state.phase

    @property
    def attached_to(self) -> list[str]:
        """The ids of the live sandboxes that mount it (last known)."""
        return list(self._state.attached_to)

    @property
    def created_at(self) -> datetime:
        """When it was created."""
        return self._state.created_at


class _SyncVolume(_VolumeFields):
    """What every sync volume handle can do."""

    def refresh(self: V) -> V:
        """Fetch the volume again (its phase, the sandboxes it is attached to); answer this handle."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        answer = sync_call(get_volume.sync_detailed, self._state.id, client=self._client)
        self._state = state_from_volume(expect(answer, VolumeModel))
        return self

    def delete(self) -> None:
        """Delete the volume and what it holds; :class:`ConflictError` while a live sandbox mounts it."""
        from porter_sandbox_api.api.volumes import delete_volume

        expect_no_content(sync_call(delete_volume.sync_detailed, self._state.id, client=self._client))


class _AsyncVolume(_VolumeFields):
    """What every async volume handle can do."""

    async def refresh(self: V) -> V:
        """Fetch the volume again (its phase, the sandboxes it is attached to); answer this handle."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        answer = await async_call(get_volume.asyncio_detailed, self._state.id, client=self._client)
        self._state = state_from_volume(expect(answer, VolumeModel))
        return self

    async def delete(self) -> None:
        """Delete the volume and what it holds; :class:`ConflictError` while a live sandbox mounts it."""
        from porter_sandbox_api.api.volumes import delete_volume

        expect_no_content(await async_call(delete_volume.asyncio_detailed, self._state.id, client=self._client))


class Volume(_SyncVolume):
    """A disk volume: a directory of files that sandboxes mount and that outlives them.

    Get one from ``porter.volumes.create()``, ``get()`` or ``list()``. Mount it
    with ``porter.sandboxes.create(..., volume_mounts={"/data": volume})``, and
    reach its files without a sandbox through the file methods here. (An
    object volume is an :class:`ObjectVolume`, without file methods.)
    """

    def listdir(self, path: str = "/") -> builtins.list[VolumeFile]:
        """The files and directories directly in ``path``, directories first then files, each by name.

        A directory entry carries what the listing showed of its own tree in
        ``entries``, and ``truncated`` when some was left out (``iterdir`` walks it all).
        """
        from porter_sandbox_api.api.volumes import list_volume_files
        from porter_sandbox_api.models import VolumeFilesResponse

        directory = file_path(path)
        answer = sync_call(list_volume_files.sync_detailed, self._state.id, client=self._client, path=directory)
        return listing_entries(expect(answer, VolumeFilesResponse), directory)

    def iterdir(self, path: str = "/") -> Iterator[VolumeFile]:
        """Every file and directory under ``path``, at any depth, breadth first.

        Where the server's listing was cut off at its entry budget, the cut-off
        directories are listed in turn, so nothing is left out.
        """
        return self._walk(file_path(path), None)

    def search(self, query: str, *, path: str = "/") -> builtins.list[VolumeFile]:
        """The files and directories under ``path`` whose name holds ``query``."""
        return search_matches(builtins.list(self._walk(file_path(path), check_query(query))), query)

    def read_file(self, path: str, *, offset: int | None = None, length: int | None = None) -> bytes:
        """The file's bytes: all of them, or ``length`` bytes from ``offset`` (``b""`` past the end)."""
        from porter_sandbox_api.api.volumes import read_volume_file
        from porter_sandbox_api.types import UNSET

        target = file_path(path)
        offset = read_offset(offset)
        header = read_range(offset, length)
        if length == 0:
            return b""
        answer = sync_call(
            read_volume_file.sync_detailed,
            self._state.id,
            client=self._client,
            path=target,
            range_=UNSET if header is None else header,
        )
        return range_answer(answer, offset, length)

    def read_text(
        self,
        path: str,
        *,
        offset: int | None = None,
        length: int | None = None,
        encoding: str = "utf-8",
        errors: str = "strict",
    ) -> str:
        """The file's contents (or ``length`` bytes from ``offset``) decoded as text."""
        return self.read_file(path, offset=offset, length=length).decode(encoding, errors)

    def stream(self, path: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """The file's bytes in chunks of ``chunk_size``, one ranged request each, never the whole file in memory.

        Raises :class:`SandboxError` instead of ending short if the file changes
        (size or modification time) while it is being read.
        """
        return self._stream(RangedRead(file_path(path), chunk_size))

    def write_file(self, path: str, content: bytes | bytearray | memoryview | IO[bytes]) -> None:
        """Replace (or create, with its parent directories) the file at ``path`` with ``content``.

        ``content`` is bytes or a binary file object, which is streamed in chunks
        and never read whole into memory. The server swaps the new content in
        atomically. A retried upload of a seekable file starts over from the
        position the file had when this was called; a non-seekable one is
        sent once and never retried after it started.
        """
        from porter_sandbox_api.api.volumes import write_volume_file

        target = file_path(path)
        payload, replayable = upload_body(content, asynchronous=False)
        answer = sync_call(
            write_volume_file.sync_detailed,
            self._state.id,
            client=self._client,
            path=target,
            body=upload_file(payload),
            options=CallOptions(replayable_body=replayable),
        )
        expect_no_content(answer)

    def write_text(self, path: str, content: str, *, encoding: str = "utf-8") -> None:
        """Replace (or create) the file at ``path`` with the text ``content``, encoded."""
        self.write_file(path, content.encode(encoding))

    def move_file(self, from_path: str, to_path: str) -> None:
        """Move or rename a file or directory; ``to_path``'s parent must exist and ``to_path`` must not (409)."""
        from porter_sandbox_api.api.volumes import move_volume_file

        body = move_request(from_path, to_path)
        expect_no_content(sync_call(move_volume_file.sync_detailed, self._state.id, client=self._client, body=body))

    def _walk(self, root: str, search: str | None) -> Iterator[VolumeFile]:
        from porter_sandbox_api.api.volumes import list_volume_files
        from porter_sandbox_api.models import VolumeFilesResponse
        from porter_sandbox_api.types import UNSET

        walk = ListingWalk(root)
        while (directory := walk.next_directory()) is not None:
            answer = sync_call(
                list_volume_files.sync_detailed,
                self._state.id,
                client=self._client,
                path=directory,
                search=UNSET if search is None else search,
            )
            yield from walk.take(expect(answer, VolumeFilesResponse), directory)

    def _stream(self, reader: RangedRead) -> Iterator[bytes]:
        from porter_sandbox_api.api.volumes import read_volume_file

        while (header := reader.next_range()) is not None:
            answer = sync_call(
                read_volume_file.sync_detailed, self._state.id, client=self._client, path=reader.path, range_=header
            )
            part = stream_part(reader, answer)
            if part:
                yield part


class AsyncVolume(_AsyncVolume):
    """The async twin of :class:`Volume`: the same fields, and awaitable methods."""

    async def listdir(self, path: str = "/") -> builtins.list[VolumeFile]:
        """The files and directories directly in ``path`` (see :meth:`Volume.listdir`)."""
        from porter_sandbox_api.api.volumes import list_volume_files
        from porter_sandbox_api.models import VolumeFilesResponse

        directory = file_path(path)
        answer = await async_call(
            list_volume_files.asyncio_detailed, self._state.id, client=self._client, path=directory
        )
        return listing_entries(expect(answer, VolumeFilesResponse), directory)

    def iterdir(self, path: str = "/") -> AsyncIterator[VolumeFile]:
        """Every file and directory under ``path``, at any depth, breadth first: ``async for f in ...``."""
        return self._walk(file_path(path), None)

    async def search(self, query: str, *, path: str = "/") -> builtins.list[VolumeFile]:
        """The files and directories under ``path`` whose name holds ``query``."""
        found = [entry async for entry in self._walk(file_path(path), check_query(query))]
        return search_matches(found, query)

    async def read_file(self, path: str, *, offset: int | None = None, length: int | None = None) -> bytes:
        """The file's bytes: all of them, or ``length`` bytes from ``offset`` (``b""`` past the end)."""
        from porter_sandbox_api.api.volumes import read_volume_file
        from porter_sandbox_api.types import UNSET

        target = file_path(path)
        offset = read_offset(offset)
        header = read_range(offset, length)
        if length == 0:
            return b""
        answer = await async_call(
            read_volume_file.asyncio_detailed,
            self._state.id,
            client=self._client,
            path=target,
            range_=UNSET if header is None else header,
        )
        return range_answer(answer, offset, length)

    async def read_text(
        self,
        path: str,
        *,
        offset: int | None = None,
        length: int | None = None,
        encoding: str = "utf-8",
        errors: str = "strict",
    ) -> str:
        """The file's contents (or ``length`` bytes from ``offset``) decoded as text."""
        return (await self.read_file(path, offset=offset, length=length)).decode(encoding, errors)

    def stream(self, path: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The file's bytes in chunks, one ranged request each: ``async for chunk in volume.stream(path)``."""
        return self._stream(RangedRead(file_path(path), chunk_size))

    async def write_file(self, path: str, content: bytes | bytearray | memoryview | IO[bytes]) -> None:
        """Replace (or create) the file at ``path`` with ``content`` (see :meth:`Volume.write_file`)."""
        from porter_sandbox_api.api.volumes import write_volume_file

        target = file_path(path)
        payload, replayable = upload_body(content, asynchronous=True)
        answer = await async_call(
            write_volume_file.asyncio_detailed,
            self._state.id,
            client=self._client,
            path=target,
            body=upload_file(payload),
            options=CallOptions(replayable_body=replayable),
        )
        expect_no_content(answer)

    async def write_text(self, path: str, content: str, *, encoding: str = "utf-8") -> None:
        """Replace (or create) the file at ``path`` with the text ``content``, encoded."""
        await self.write_file(path, content.encode(encoding))

    async def move_file(self, from_path: str, to_path: str) -> None:
        """Move or rename a file or directory; ``to_path``'s parent must exist and ``to_path`` must not (409)."""
        from porter_sandbox_api.api.volumes import move_volume_file

        body = move_request(from_path, to_path)
        answer = await async_call(move_volume_file.asyncio_detailed, self._state.id, client=self._client, body=body)
        expect_no_content(answer)

    async def _walk(self, root: str, search: str | None) -> AsyncIterator[VolumeFile]:
        from porter_sandbox_api.api.volumes import list_volume_files
        from porter_sandbox_api.models import VolumeFilesResponse
        from porter_sandbox_api.types import UNSET

        walk = ListingWalk(root)
        while (directory := walk.next_directory()) is not None:
            answer = await async_call(
                list_volume_files.asyncio_detailed,
                self._state.id,
                client=self._client,
                path=directory,
                search=UNSET if search is None else search,
            )
            for entry in walk.take(expect(answer, VolumeFilesResponse), directory):
                yield entry

    async def _stream(self, reader: RangedRead) -> AsyncIterator[bytes]:
        from porter_sandbox_api.api.volumes import read_volume_file

        while (header := reader.next_range()) is not None:
            answer = await async_call(
                read_volume_file.asyncio_detailed,
                self._state.id,
                client=self._client,
                path=reader.path,
                range_=header,
            )
            part = stream_part(reader, answer)
            if part:
                yield part


class _ObjectFields(_VolumeFields):
    """The bucket of an object volume, shared by ``ObjectVolume`` and ``AsyncObjectVolume``."""

    @property
    def object(self) -> VolumeObjectSpec:
        """The bucket, key prefix, access and mode it exposes."""
        return object_spec_of(self._state)


class ObjectVolume(_ObjectFields, _SyncVolume):
    """An object volume: a bucket registered on a Porter cluster, which sandboxes mount.

    It has no file methods: manage what it holds in the bucket.
    ``isinstance(volume, ObjectVolume)`` tells it from a disk :class:`Volume`.
    """


class AsyncObjectVolume(_ObjectFields, _AsyncVolume):
    """The async twin of :class:`ObjectVolume`."""


def volume_handle(client: RawClient, volume: VolumeModel) -> Volume | ObjectVolume:
    """The sync handle for the server's ``Volume``: an :class:`ObjectVolume` for an object volume."""
    state = state_from_volume(volume)
    if state.type == VolumeType.OBJECT:
        return ObjectVolume(client, state)
    return Volume(client, state)


def async_volume_handle(client: RawClient, volume: VolumeModel) -> AsyncVolume | AsyncObjectVolume:
    """The async twin of :func:`volume_handle`."""
    state = state_from_volume(volume)
    if state.type == VolumeType.OBJECT:
        return AsyncObjectVolume(client, state)
    return AsyncVolume(client, state)


# ---------------------------------------------------------------------------------------------
# Namespaces


class Volumes:
    """``porter.volumes``: create, find, list and delete volumes."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw: VolumeOperations | None = None

    @property
    def raw(self) -> VolumeOperations:
        """The generated volume operations bound to this client (``raw.get_volume(id)`` answers a ``Response``)."""
        if self._raw is None:
            self._raw = cast("VolumeOperations", BoundOperations(self._client, "volumes", asynchronous=False))
        return self._raw

    @overload
    def create(
        self,
        *,
        name: str | None = None,
        type: Literal["disk", VolumeSpecType.DISK] | None = None,
        object: None = None,
    ) -> Volume: ...
    @overload
    def create(
        self,
        *,
        name: str | None = None,
        type: Literal["object", VolumeSpecType.OBJECT] | None = None,
        object: VolumeObjectSpec | Mapping[str, Any],
    ) -> ObjectVolume: ...
    def create(
        self,
        *,
        name: str | None = None,
        type: VolumeSpecType | VolumeKind | None = None,
        object: VolumeObjectSpec | Mapping[str, Any] | None = None,
    ) -> Volume | ObjectVolume:
        """Create a volume; ``name`` is a DNS label unique among existing volumes (the id when absent).

        Without ``object`` it is a disk volume (a :class:`Volume`). With
        ``object=VolumeObjectSpec(bucket=...)`` (and ``type="object"``, which
        may be left out) it is an object volume exposing that bucket, which
        must be registered on the Porter cluster (an :class:`ObjectVolume`; the
        local server refuses these with a 400).
        """
        from porter_sandbox_api.api.volumes import create_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        body = create_request(name, type, object)
        answer = sync_call(create_volume.sync_detailed, client=self._client, body=body)
        return volume_handle(self._client, expect(answer, VolumeModel))

    def list(self) -> builtins.list[Volume | ObjectVolume]:
        """Every existing volume."""
        from porter_sandbox_api.api.volumes import list_volumes
        from porter_sandbox_api.models import ListVolumesResponse

        answer = expect(sync_call(list_volumes.sync_detailed, client=self._client), ListVolumesResponse)
        return [volume_handle(self._client, volume) for volume in answer.volumes]

    def get(self, name: str) -> Volume | ObjectVolume:
        """The volume with this name (or, failing that, this id); :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        reference = check_reference(name, "volume")
        volume_id = resolve_id(self._client, "volume", reference)
        try:
            volume = expect(sync_call(get_volume.sync_detailed, volume_id, client=self._client), VolumeModel)
        except NotFoundError as exc:
            raise not_found("volume", reference, exc) from None
        return volume_handle(self._client, volume)

    def delete(self, name: str) -> None:
        """Delete the volume with this name (or id) and what it holds; :class:`ConflictError` while it is mounted."""
        from porter_sandbox_api.api.volumes import delete_volume

        reference = check_reference(name, "volume")
        volume_id = resolve_id(self._client, "volume", reference)
        try:
            expect_no_content(sync_call(delete_volume.sync_detailed, volume_id, client=self._client))
        except NotFoundError as exc:
            raise not_found("volume", reference, exc) from None

    def __repr__(self) -> str:
        return f"<Volumes of {self._client._base_url!r}>"


class AsyncVolumes:
    """``porter.volumes`` on an ``AsyncPorter``: the async twin of :class:`Volumes`."""

    def __init__(self, client: RawClient) -> None:
        self._client = client
        self._raw: AsyncVolumeOperations | None = None

    @property
    def raw(self) -> AsyncVolumeOperations:
        """The generated volume operations bound to this client (``await raw.get_volume(id)`` answers a ``Response``)."""
        if self._raw is None:
            self._raw = cast("AsyncVolumeOperations", BoundOperations(self._client, "volumes", asynchronous=True))
        return self._raw

    @overload
    async def create(
        self,
        *,
        name: str | None = None,
        type: Literal["disk", VolumeSpecType.DISK] | None = None,
        object: None = None,
    ) -> AsyncVolume: ...
    @overload
    async def create(
        self,
        *,
        name: str | None = None,
        type: Literal["object", VolumeSpecType.OBJECT] | None = None,
        object: VolumeObjectSpec | Mapping[str, Any],
    ) -> AsyncObjectVolume: ...
    async def create(
        self,
        *,
        name: str | None = None,
        type: VolumeSpecType | VolumeKind | None = None,
        object: VolumeObjectSpec | Mapping[str, Any] | None = None,
    ) -> AsyncVolume | AsyncObjectVolume:
        """Create a volume: a disk volume, or with ``object=`` an object volume (see :meth:`Volumes.create`)."""
        from porter_sandbox_api.api.volumes import create_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        body = create_request(name, type, object)
        answer = await async_call(create_volume.asyncio_detailed, client=self._client, body=body)
        return async_volume_handle(self._client, expect(answer, VolumeModel))

    async def list(self) -> builtins.list[AsyncVolume | AsyncObjectVolume]:
        """Every existing volume."""
        from porter_sandbox_api.api.volumes import list_volumes
        from porter_sandbox_api.models import ListVolumesResponse

        answer = expect(await async_call(list_volumes.asyncio_detailed, client=self._client), ListVolumesResponse)
        return [async_volume_handle(self._client, volume) for volume in answer.volumes]

    async def get(self, name: str) -> AsyncVolume | AsyncObjectVolume:
        """The volume with this name (or, failing that, this id); :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        reference = check_reference(name, "volume")
        volume_id = await async_resolve_id(self._client, "volume", reference)
        try:
            answer = await async_call(get_volume.asyncio_detailed, volume_id, client=self._client)
            volume = expect(answer, VolumeModel)
        except NotFoundError as exc:
            raise not_found("volume", reference, exc) from None
        return async_volume_handle(self._client, volume)

    async def delete(self, name: str) -> None:
        """Delete the volume with this name (or id) and what it holds; :class:`ConflictError` while it is mounted."""
        from porter_sandbox_api.api.volumes import delete_volume

        reference = check_reference(name, "volume")
        volume_id = await async_resolve_id(self._client, "volume", reference)
        try:
            expect_no_content(await async_call(delete_volume.asyncio_detailed, volume_id, client=self._client))
        except NotFoundError as exc:
            raise not_found("volume", reference, exc) from None

    def __repr__(self) -> str:
        return f"<AsyncVolumes of {self._client._base_url!r}>"
