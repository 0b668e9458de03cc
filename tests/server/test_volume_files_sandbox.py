"""A sandbox's files and the volume files API agree, and what a sandbox plants cannot lead the API astray.

Real sandboxes (the process runtime under bubblewrap, which bind-mounts
volumes) write through exec; the API reads, writes and moves over HTTP.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from runtimes import require_bwrap

from porter_sandbox.testing import LocalServer


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    require_bwrap()
    started = LocalServer(isolation="bwrap").start()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def http(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def new_volume(http: httpx.Client) -> dict[str, Any]:
    answer = http.post("/v1/volume", json={})
    assert answer.status_code == 201, answer.text
    volume: dict[str, Any] = answer.json()
    return volume


def new_sandbox(http: httpx.Client, mounts: dict[str, str]) -> str:
    answer = http.post("/v1/sandbox/run", json={"image": "python:3.12-slim", "volume_mounts": mounts})
    assert answer.status_code == 201, answer.text
    sandbox_id: str = answer.json()["id"]
    deadline = time.monotonic() + 30
    while (phase := http.get(f"/v1/sandbox/{sandbox_id}").json()["phase"]) != "running":
        assert phase in ("queued", "creating") and time.monotonic() < deadline, f"sandbox is {phase}"
        time.sleep(0.02)
    return sandbox_id


def sh(http: httpx.Client, sandbox_id: str, script: str) -> None:
    """Run ``script`` in the sandbox; it must exit 0 (checks are ``test`` expressions, so the answer is the exit code)."""
    answer = http.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", script]})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["exit_code"] == 0, (script, result)


@pytest.fixture
def mounted(http: httpx.Client) -> Iterator[tuple[dict[str, Any], str]]:
    """A volume, and a running sandbox that mounts it at /data."""
    volume = new_volume(http)
    sandbox_id = new_sandbox(http, {"/data": volume["id"]})
    try:
        yield volume, sandbox_id
    finally:
        http.delete(f"/v1/sandbox/{sandbox_id}")


def test_what_a_sandbox_writes_the_api_reads_and_lists(http: httpx.Client, mounted: tuple[dict[str, Any], str]) -> None:
    volume, sandbox_id = mounted
    sh(http, sandbox_id, "mkdir -p /data/out/deep && printf 'hello from the sandbox' > /data/out/deep/note.txt")
    files = f"/v1/volume/{volume['id']}/files"
    read = http.get(f"{files}/content", params={"path": "/out/deep/note.txt"})
    assert read.status_code == 200 and read.content == b"hello from the sandbox"
    part = http.get(f"{files}/content", params={"path": "out/deep/note.txt"}, headers={"Range": "bytes=-7"})
    assert part.status_code == 206 and part.content == b"sandbox"
    tree = http.get(files).json()
    assert tree["entries"][0]["name"] == "out"
    note = tree["entries"][0]["entries"][0]["entries"][0]
    assert note["name"] == "note.txt" and note["size_bytes"] == len(b"hello from the sandbox")


def test_what_the_api_writes_and_moves_a_sandbox_reads(http: httpx.Client, mounted: tuple[dict[str, Any], str]) -> None:
    volume, sandbox_id = mounted
    content = f"/v1/volume/{volume['id']}/files/content"
    data = bytes(range(256)) * 1000
    assert http.put(content, params={"path": "/in/data.bin"}, content=data).status_code == 204
    digest = hashlib.sha256(data).hexdigest()
    sh(http, sandbox_id, f'test "$(sha256sum < /data/in/data.bin | cut -c1-64)" = {digest}')

    assert http.put(content, params={"path": "/in/data.bin"}, content=b"replaced").status_code == 204
    sh(http, sandbox_id, 'test "$(cat /data/in/data.bin)" = replaced')

    moved = http.post(f"/v1/volume/{volume['id']}/files/move", json={"from": "/in", "to": "/moved"})
    assert moved.status_code == 204, moved.text
    sh(http, sandbox_id, 'test "$(cat /data/moved/data.bin)" = replaced && test ! -e /data/in')
    # The checks can fail: a wrong expectation is a non-zero exit.
    wrong = http.post(f"/v1/sandbox/{sandbox_id}/exec", json={"command": ["sh", "-c", "test -e /data/in"]})
    assert wrong.json()["exit_code"] == 1


def test_symlinks_a_sandbox_plants_are_refused_on_every_route(
    http: httpx.Client, mounted: tuple[dict[str, Any], str]
) -> None:
    volume, sandbox_id = mounted
    other = new_volume(http)
    other_files = f"/v1/volume/{other['id']}/files"
    assert (
        http.put(f"{other_files}/content", params={"path": "/secret.txt"}, content=b"other secret").status_code == 204
    )
    # Inside the sandbox /etc is the host's; ../<id> is, on the host, the other volume's directory beside this one.
    sh(
        http,
        sandbox_id,
        f"ln -s /etc /data/etc && ln -s ../{other['id']} /data/other && mkdir /data/real && "
        "ln -s .. /data/real/up && printf mine > /data/mine.txt",
    )
    files = f"/v1/volume/{volume['id']}/files"
    for path in ["/etc/passwd", "etc/hostname", "/other/secret.txt", "real/up/other/secret.txt"]:
        answer = http.get(f"{files}/content", params={"path": path})
        assert answer.status_code == 400 and "symbolic link" in answer.json()["error"], answer.text
    for path in ["/etc", "/other", "/real/up"]:
        assert http.get(files, params={"path": path}).status_code == 400
    for path in ["/other/new.txt", "/other/secret.txt", "/real/up/other/new.txt"]:
        answer = http.put(f"{files}/content", params={"path": path}, content=b"planted")
        assert answer.status_code == 400, answer.text
    for source, destination in [("/other/secret.txt", "/stolen.txt"), ("/mine.txt", "/other/mine.txt")]:
        answer = http.post(f"{files}/move", json={"from": source, "to": destination})
        assert answer.status_code == 400, answer.text
    listed = http.get(other_files).json()["entries"]
    assert [entry["name"] for entry in listed] == ["secret.txt"]
    assert http.get(f"{other_files}/content", params={"path": "/secret.txt"}).content == b"other secret"
    assert [entry["name"] for entry in http.get(files).json()["entries"]] == ["real", "mine.txt"]
