"""Volumes: the ``porter.volumes`` namespace and the ``Volume`` handle with its files, sync and async side by side.

``get(name_or_id)`` and ``delete(name_or_id)`` take a name or an id, as ``_references`` resolves them.

File methods send one request each, except ``iterdir`` and ``search`` (one
listing per directory the server's listing cut off) and ``stream`` (one ranged
read per chunk, so a file of any size passes through a bounded amount of memory).
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, cast

from ._base_client import async_call, expect, expect_content, expect_no_content, sync_call
from ._exceptions import NotFoundError, error_for_status
from ._handle import Handle
from ._models import VolumeFile
from ._names import check_name
from ._raw import BoundOperations
from ._references import async_resolve_id, check_reference, not_found, resolve_id
from ._retry import CallOptions
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
    from porter_sandbox_api.types import File, Response

    from ._operations import AsyncVolumeOperations, VolumeOperations

    RawClient = AuthenticatedClient | Client

__all__ = ["AsyncVolume", "AsyncVolumes", "Volume", "Volumes"]


# ---------------------------------------------------------------------------------------------
# Decisions shared by sync and async


@dataclass(frozen=True)
class VolumeState:
    """What the client last heard about a volume."""

    id: str
    name: str
    type: str
    path: str
    phase: str
    attached_to: tuple[str, ...]
    created_at: datetime


def state_from_volume(volume: VolumeModel) -> VolumeState:
    """The handle's state from the server's ``Volume``."""
    return VolumeState(
        id=volume.id,
        name=volume.name,
        type=str(volume.type_),
        path=volume.path,
        phase=str(volume.phase),
        attached_to=tuple(volume.attached_to),
        created_at=volume.created_at,
    )


def create_request(name: str | None) -> CreateVolumeRequest:
    """The body of ``volumes.create()``, its name checked before anything is sent."""
    from porter_sandbox_api.models import CreateVolumeRequest

    request = CreateVolumeRequest()
    if name is not None:
        request.name = check_name(name, "volume")
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
    if status == 200 and (offset or length is not None):
        return content[offset : None if length is None else offset + length]
    return content


def stream_part(reader: RangedRead, answer: Response[Any]) -> bytes:
    """One part of a ``stream``, checked by ``reader``; raise the SDK error for an error answer."""
    status = int(answer.status_code)
    if status not in (200, 206, 416):
        raise error_for_status(status, answer.content)
    return reader.take(status, answer.headers, answer.content)


# ---------------------------------------------------------------------------------------------
# Handles


class _VolumeFields(Handle[VolumeState]):
    """The last-known fields of a volume, shared by ``Volume`` and ``AsyncVolume``."""

    @property
    def type(self) -> str:
        """``disk`` for a directory of files, ``object`` for one backed by an object store."""
        return self._state.type

    @property
    def path(self) -> str:
        """Where its data lives, relative to the server's volume root."""
        return self._state.path

    @property
    def phase(self) -> str:
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


class Volume(_VolumeFields):
    """A volume: a directory of files that sandboxes mount and that outlives them.

    Get one from ``porter.volumes.create()``, ``get()`` or ``list()``. Mount it
    with ``porter.sandboxes.create(..., volume_mounts={"/data": volume})``, and
    reach its files without a sandbox through the file methods here.
    """

    def refresh(self) -> Volume:
        """Fetch the volume again (its phase, the sandboxes it is attached to); answer this handle."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        answer = sync_call(get_volume.sync_detailed, self._state.id, client=self._client)
        self._state = state_from_volume(expect(answer, VolumeModel))
        return self

    def delete(self) -> None:
        """Delete the volume and every file in it; :class:`ConflictError` while a live sandbox mounts it."""
        from porter_sandbox_api.api.volumes import delete_volume

        expect_no_content(sync_call(delete_volume.sync_detailed, self._state.id, client=self._client))

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

    def search(self, query: str, path: str = "/") -> builtins.list[VolumeFile]:
        """The files and directories under ``path`` whose name holds ``query``."""
        return search_matches(builtins.list(self._walk(file_path(path), check_query(query))), query)

    def read_file(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        """The file's bytes: all of them, or ``length`` bytes from ``offset`` (``b""`` past the end)."""
        from porter_sandbox_api.api.volumes import read_volume_file
        from porter_sandbox_api.types import UNSET

        target = file_path(path)
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

    def read_text(self, path: str, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The file's contents decoded as text."""
        return self.read_file(path).decode(encoding, errors)

    def stream(self, path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """The file's bytes in chunks of ``chunk_size``, one ranged request each, never the whole file in memory.

        Raises :class:`SandboxError` instead of ending short if the file changes
        (size or modification time) while it is being read.
        """
        return self._stream(RangedRead(file_path(path), chunk_size))

    def write_file(self, path: str, data: bytes | bytearray | memoryview | IO[bytes]) -> None:
        """Replace (or create, with its parent directories) the file at ``path`` with ``data``.

        ``data`` is bytes or a binary file object, which is streamed in chunks
        and never read whole into memory. The server swaps the new content in
        atomically. A retried upload of a seekable file starts over from the
        position the file had when this was called; a non-seekable one is
        sent once and never retried after it started.
        """
        from porter_sandbox_api.api.volumes import write_volume_file

        target = file_path(path)
        payload, replayable = upload_body(data, asynchronous=False)
        answer = sync_call(
            write_volume_file.sync_detailed,
            self._state.id,
            client=self._client,
            path=target,
            body=upload_file(payload),
            options=CallOptions(replayable_body=replayable),
        )
        expect_no_content(answer)

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        """Replace (or create) the file at ``path`` with ``text``, encoded."""
        self.write_file(path, text.encode(encoding))

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


class AsyncVolume(_VolumeFields):
    """The async twin of :class:`Volume`: the same fields, and awaitable methods."""

    async def refresh(self) -> AsyncVolume:
        """Fetch the volume again (its phase, the sandboxes it is attached to); answer this handle."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        answer = await async_call(get_volume.asyncio_detailed, self._state.id, client=self._client)
        self._state = state_from_volume(expect(answer, VolumeModel))
        return self

    async def delete(self) -> None:
        """Delete the volume and every file in it; :class:`ConflictError` while a live sandbox mounts it."""
        from porter_sandbox_api.api.volumes import delete_volume

        expect_no_content(await async_call(delete_volume.asyncio_detailed, self._state.id, client=self._client))

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

    async def search(self, query: str, path: str = "/") -> builtins.list[VolumeFile]:
        """The files and directories under ``path`` whose name holds ``query``."""
        found = [entry async for entry in self._walk(file_path(path), check_query(query))]
        return search_matches(found, query)

    async def read_file(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        """The file's bytes: all of them, or ``length`` bytes from ``offset`` (``b""`` past the end)."""
        from porter_sandbox_api.api.volumes import read_volume_file
        from porter_sandbox_api.types import UNSET

        target = file_path(path)
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

    async def read_text(self, path: str, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The file's contents decoded as text."""
        return (await self.read_file(path)).decode(encoding, errors)

    def stream(self, path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The file's bytes in chunks, one ranged request each: ``async for chunk in volume.stream(path)``."""
        return self._stream(RangedRead(file_path(path), chunk_size))

    async def write_file(self, path: str, data: bytes | bytearray | memoryview | IO[bytes]) -> None:
        """Replace (or create) the file at ``path`` with ``data`` (see :meth:`Volume.write_file`)."""
        from porter_sandbox_api.api.volumes import write_volume_file

        target = file_path(path)
        payload, replayable = upload_body(data, asynchronous=True)
        answer = await async_call(
            write_volume_file.asyncio_detailed,
            self._state.id,
            client=self._client,
            path=target,
            body=upload_file(payload),
            options=CallOptions(replayable_body=replayable),
        )
        expect_no_content(answer)

    async def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        """Replace (or create) the file at ``path`` with ``text``, encoded."""
        await self.write_file(path, text.encode(encoding))

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

    def create(self, name: str | None = None) -> Volume:
        """Create a volume; ``name`` is a DNS label unique among existing volumes (the id when absent)."""
        from porter_sandbox_api.api.volumes import create_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        body = create_request(name)
        answer = sync_call(create_volume.sync_detailed, client=self._client, body=body)
        return Volume(self._client, state_from_volume(expect(answer, VolumeModel)))

    def list(self) -> builtins.list[Volume]:
        """Every existing volume."""
        from porter_sandbox_api.api.volumes import list_volumes
        from porter_sandbox_api.models import ListVolumesResponse

        answer = expect(sync_call(list_volumes.sync_detailed, client=self._client), ListVolumesResponse)
        return [Volume(self._client, state_from_volume(volume)) for volume in answer.volumes]

    def get(self, name_or_id: str) -> Volume:
        """The volume with this name (or, failing that, this id); :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        reference = check_reference(name_or_id, "volume")
        volume_id = resolve_id(self._client, "volume", reference)
        try:
            volume = expect(sync_call(get_volume.sync_detailed, volume_id, client=self._client), VolumeModel)
        except NotFoundError as exc:
            raise not_found("volume", reference, exc) from None
        return Volume(self._client, state_from_volume(volume))

    def delete(self, name_or_id: str) -> None:
        """Delete the volume with this name (or id) and its files; :class:`ConflictError` while it is mounted."""
        from porter_sandbox_api.api.volumes import delete_volume

        reference = check_reference(name_or_id, "volume")
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

    async def create(self, name: str | None = None) -> AsyncVolume:
        """Create a volume; ``name`` is a DNS label unique among existing volumes (the id when absent)."""
        from porter_sandbox_api.api.volumes import create_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        body = create_request(name)
        answer = await async_call(create_volume.asyncio_detailed, client=self._client, body=body)
        return AsyncVolume(self._client, state_from_volume(expect(answer, VolumeModel)))

    async def list(self) -> builtins.list[AsyncVolume]:
        """Every existing volume."""
        from porter_sandbox_api.api.volumes import list_volumes
        from porter_sandbox_api.models import ListVolumesResponse

        answer = expect(await async_call(list_volumes.asyncio_detailed, client=self._client), ListVolumesResponse)
        return [AsyncVolume(self._client, state_from_volume(volume)) for volume in answer.volumes]

    async def get(self, name_or_id: str) -> AsyncVolume:
        """The volume with this name (or, failing that, this id); :class:`NotFoundError` if none."""
        from porter_sandbox_api.api.volumes import get_volume
        from porter_sandbox_api.models import Volume as VolumeModel

        reference = check_reference(name_or_id, "volume")
        volume_id = await async_resolve_id(self._client, "volume", reference)
        try:
            answer = await async_call(get_volume.asyncio_detailed, volume_id, client=self._client)
            volume = expect(answer, VolumeModel)
        except NotFoundError as exc:
            raise not_found("volume", reference, exc) from None
        return AsyncVolume(self._client, state_from_volume(volume))

    async def delete(self, name_or_id: str) -> None:
        """Delete the volume with this name (or id) and its files; :class:`ConflictError` while it is mounted."""
        from porter_sandbox_api.api.volumes import delete_volume

        reference = check_reference(name_or_id, "volume")
        volume_id = await async_resolve_id(self._client, "volume", reference)
        try:
            expect_no_content(await async_call(delete_volume.asyncio_detailed, volume_id, client=self._client))
        except NotFoundError as exc:
            raise not_found("volume", reference, exc) from None

    def __repr__(self) -> str:
        return f"<AsyncVolumes of {self._client._base_url!r}>"
