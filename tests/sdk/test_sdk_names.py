"""Names and mount paths are checked before any request: a bad one raises InvalidNameError and sends nothing."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sdk_mock import async_porter_with, porter_with, refuse_requests

from porter_sandbox import InvalidNameError
from porter_sandbox._names import check_name, name_problem
from porter_sandbox._volumes import Volume, VolumeState


@pytest.mark.parametrize("name", ["a", "my-sandbox", "0", "a" * 63, "x-1-y", "9lives"])
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "must not be empty"),
        ("a" * 64, "64 characters long; the limit is 63"),
        ("My-Sandbox", "'M', 'S' (use lowercase)"),
        ("my_sandbox", "holds '_'"),
        ("my.sandbox", "holds '.'"),
        ("-leading", "must start with a letter or digit"),
        ("trailing-", "must end with a letter or digit"),
        ("caf\u00e9", "holds '\u00e9'"),
    ],
)
def test_each_broken_rule_is_named(name: str, rule: str) -> None:
    with pytest.raises(InvalidNameError) as caught:
        check_name(name, "volume")
    assert rule in str(caught.value)
    assert f"invalid volume name {name!r}" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_bad_sandbox_name_sends_nothing() -> None:
    with porter_with(refuse_requests) as porter, pytest.raises(InvalidNameError, match="use lowercase"):
        porter.sandboxes.create(image="python:3.12-slim", name="Bad_Name")


def test_a_bad_volume_name_sends_nothing() -> None:
    with porter_with(refuse_requests) as porter, pytest.raises(InvalidNameError, match="must end with"):
        porter.volumes.create(name="data-")


@pytest.mark.parametrize("path", ["data", "./data", "", "~/data"])
def test_a_relative_mount_path_sends_nothing(path: str) -> None:
    with porter_with(refuse_requests) as porter, pytest.raises(InvalidNameError, match="must be absolute"):
        porter.sandboxes.create(image="python:3.12-slim", volume_mounts={path: "vol-1"})


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"image": ""}, ValueError),
        ({"image": "i", "command": "python app.py"}, TypeError),
        ({"image": "i", "args": [1, 2]}, TypeError),
        ({"image": "i", "env": {"A": 1}}, TypeError),
        ({"image": "i", "tags": ["a=b"]}, TypeError),
        ({"image": "i", "resources": {"gpu": "1"}}, ValueError),
        ({"image": "i", "ttl_seconds": 0}, ValueError),
        ({"image": "i", "volume_mounts": {"/data": 3}}, TypeError),
    ],
)
def test_other_bad_arguments_to_create_send_nothing(arguments: dict[str, object], error: type[Exception]) -> None:
    with porter_with(refuse_requests) as porter, pytest.raises(error):
        porter.sandboxes.create(**arguments)  # type: ignore[arg-type]


async def test_async_checks_names_before_sending_too() -> None:
    async with async_porter_with(refuse_requests) as porter:
        with pytest.raises(InvalidNameError):
            await porter.sandboxes.create(image="python:3.12-slim", name="UPPER")
        with pytest.raises(InvalidNameError):
            await porter.volumes.create(name="-x")
        with pytest.raises(InvalidNameError):
            await porter.sandboxes.create(image="python:3.12-slim", volume_mounts={"rel": "vol-1"})


def test_file_arguments_are_checked_before_sending(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    with porter_with(refuse_requests) as porter:
        volume = Volume(
            porter.raw, VolumeState("vol-1", "data", "disk", "vol-1", "ready", (), datetime.now(timezone.utc))
        )
        with pytest.raises(TypeError, match="write_text"):
            volume.write_file("/a.txt", "a str")  # type: ignore[arg-type]
        with open(text_file) as opened, pytest.raises(TypeError, match="binary mode"):
            volume.write_file("/a.txt", opened)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="path in the volume"):
            volume.read_file("")
        with pytest.raises(ValueError, match="offset"):
            volume.read_file("/a.txt", offset=-1)
        with pytest.raises(ValueError, match="chunk_size"):
            volume.stream("/a.txt", chunk_size=0)
        with pytest.raises(ValueError, match="search text"):
            volume.search("")
