"""The pure decisions behind the volume file methods: paths, ranges, and the checks that keep a stream honest."""

from __future__ import annotations

import pytest

from porter_sandbox import SandboxError
from porter_sandbox._volume_files import RangedRead, file_path, parse_content_range, read_range


@pytest.mark.parametrize(
    ("given", "sent"), [("a/b.txt", "/a/b.txt"), ("/a/b.txt", "/a/b.txt"), ("  /x ", "/x"), ("//y", "/y")]
)
def test_paths_are_sent_from_the_volume_root(given: str, sent: str) -> None:
    assert file_path(given) == sent


def test_read_ranges() -> None:
    assert read_range(0, None) is None
    assert read_range(10, None) == "bytes=10-"
    assert read_range(10, 5) == "bytes=10-14"
    with pytest.raises(ValueError):
        read_range(-1, None)
    with pytest.raises(ValueError):
        read_range(0, -5)


def test_content_range_parsing() -> None:
    assert parse_content_range("bytes 0-99/1000") == (0, 99, 1000)
    assert parse_content_range("bytes */1000") == (None, None, 1000)
    assert parse_content_range("bytes 0-99/*") == (0, 99, None)
    assert parse_content_range(None) == (None, None, None)
    assert parse_content_range("nonsense") == (None, None, None)


def test_a_ranged_read_walks_the_file_and_stops_at_its_end() -> None:
    reader = RangedRead("/f", chunk_size=4)
    assert reader.next_range() == "bytes=0-3"
    assert reader.take(206, {"content-range": "bytes 0-3/6"}, b"abcd") == b"abcd"
    assert reader.next_range() == "bytes=4-7"
    assert reader.take(206, {"content-range": "bytes 4-5/6"}, b"ef") == b"ef"
    assert reader.next_range() is None


def test_an_empty_file_is_an_empty_stream() -> None:
    reader = RangedRead("/f", chunk_size=4)
    assert reader.take(416, {"content-range": "bytes */0"}, b"") == b""
    assert reader.next_range() is None


@pytest.mark.parametrize(
    ("offset", "status", "headers", "content"),
    [
        (0, 206, {"content-range": "bytes 4-7/10"}, b"efgh"),  # not the part asked for
        (0, 206, {"content-range": "bytes 0-3/10"}, b"ab"),  # fewer bytes than the range says
        (0, 206, {}, b"abcd"),  # no Content-Range at all
        (4, 206, {"content-range": "bytes 4-7/12"}, b"efgh"),  # the size changed since the first part
        (4, 206, {"content-range": "bytes 4-7/10", "last-modified": "later"}, b"efgh"),  # rewritten since
        (4, 416, {"content-range": "bytes */3"}, b""),  # shrank below where the read is
        (4, 200, {}, b"abcdefghij"),  # the whole file in answer to a ranged read
    ],
)
def test_a_ranged_read_refuses_any_part_that_is_not_what_it_asked_for(
    offset: int, status: int, headers: dict[str, str], content: bytes
) -> None:
    reader = RangedRead("/f", chunk_size=4, offset=offset, size=10, modified="earlier")
    with pytest.raises(SandboxError, match="stopped streaming '/f'"):
        reader.take(status, headers, content)
