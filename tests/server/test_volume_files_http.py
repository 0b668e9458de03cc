"""The volume files API over real HTTP, against a real ``porter-sandbox serve`` process, driven with httpx.

What a hostile sandbox would plant in a volume (symbolic links out of it) is
planted straight into the volume's directory on disk, which is what a sandbox
mounting the volume writes to; ``test_volume_files_sandbox.py`` does it from
inside a real sandbox.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from porter_sandbox.testing import LocalServer
from porter_sandbox_server.volumes.hostdir import TEMP_PREFIX
from porter_sandbox_server.volumes.hostdir.backend import STAGING


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """One real server for this module; the volume files API needs no isolation, so none is asked for."""
    started = LocalServer(isolation="none").start()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def http(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


class Volume:
    """A volume of the server under test: its id, its directory on disk, and its files' URLs."""

    def __init__(self, server: LocalServer, http: httpx.Client) -> None:
        answer = http.post("/v1/volume", json={})
        assert answer.status_code == 201, answer.text
        self.id: str = answer.json()["id"]
        self.dir = server.data_dir / "volumes" / answer.json()["path"]
        assert self.dir.is_dir()
        #: Where the server's uploads wait, outside every volume.
        self.staging = server.data_dir / "volumes" / STAGING
        self.files = f"/v1/volume/{self.id}/files"
        self.content = f"/v1/volume/{self.id}/files/content"
        self.move = f"/v1/volume/{self.id}/files/move"


@pytest.fixture
def volume(server: LocalServer, http: httpx.Client) -> Volume:
    return Volume(server, http)


@pytest.fixture
def other(server: LocalServer, http: httpx.Client) -> Volume:
    """Another volume, holding a secret no request on ``volume`` may reach."""
    made = Volume(server, http)
    (made.dir / "secret.txt").write_text("other volume's secret")
    return made


def assert_error(answer: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert answer.status_code in statuses, (answer.status_code, answer.text)
    body = answer.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    return body


def names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in entries]


def temp_files(*roots: Path) -> list[Path]:
    """Uploads in flight under ``roots`` (os.walk, unlike rglob, shrugs off directories removed meanwhile)."""
    return [
        Path(top, name)
        for root in roots
        for top, _, files in os.walk(root)
        for name in files
        if name.startswith(TEMP_PREFIX)
    ]


# --- listing -------------------------------------------------------------------------------------


def test_listing_is_a_nested_tree_directories_first_then_files(http: httpx.Client, volume: Volume) -> None:
    for path in ["/b.txt", "/a.txt", "/dir/z/deep.txt", "/dir/y.txt", "/Zdir/x"]:
        assert http.put(volume.content, params={"path": path}, content=path.encode()).status_code == 204
    answer = http.get(volume.files)
    assert answer.status_code == 200
    body = answer.json()
    assert body["path"] == "/" and body["truncated"] is False
    assert names(body["entries"]) == ["Zdir", "dir", "a.txt", "b.txt"]
    directory = body["entries"][1]
    assert directory["type"] == "directory" and directory["size_bytes"] == 0 and directory["truncated"] is False
    assert names(directory["entries"]) == ["z", "y.txt"]
    assert names(directory["entries"][0]["entries"]) == ["deep.txt"]
    file = body["entries"][2]
    assert file == {
        "name": "a.txt",
        "type": "file",
        "size_bytes": len(b"/a.txt"),
        "modified_at": file["modified_at"],
    }
    assert datetime.fromisoformat(file["modified_at"]).timestamp() == pytest.approx(
        (volume.dir / "a.txt").stat().st_mtime, abs=1e-3
    )

    sub = http.get(volume.files, params={"path": "dir/z"}).json()
    assert sub["path"] == "/dir/z" and names(sub["entries"]) == ["deep.txt"]
    assert http.get(volume.files, params={"path": "/dir/z/"}).json() == sub


def test_a_large_tree_stops_at_the_entry_budget_and_marks_what_it_left_out(http: httpx.Client, volume: Volume) -> None:
    (volume.dir / "big").mkdir()
    for i in range(1100):
        (volume.dir / "big" / f"f{i:04d}").write_bytes(b"")
    (volume.dir / "later").mkdir()
    (volume.dir / "later" / "f").write_bytes(b"")
    body = http.get(volume.files).json()
    assert body["truncated"] is True
    big, later = body["entries"]
    assert big["truncated"] is True and len(big["entries"]) == 1000 - 2
    assert names(big["entries"]) == [f"f{i:04d}" for i in range(998)]
    assert later["truncated"] is True and later["entries"] == []
    # A truncated directory is listed in full (up to the budget) by its own path.
    again = http.get(volume.files, params={"path": "/later"}).json()
    assert again["truncated"] is False and names(again["entries"]) == ["f"]


def test_search_answers_matches_and_the_directories_leading_to_them(http: httpx.Client, volume: Volume) -> None:
    for path in ["/src/pkg/report.py", "/src/main.py", "/docs/REPORT.md", "/notes.txt"]:
        assert http.put(volume.content, params={"path": path}, content=b"x").status_code == 204
    body = http.get(volume.files, params={"search": "report"}).json()
    assert names(body["entries"]) == ["docs", "src"]
    assert names(body["entries"][0]["entries"]) == ["REPORT.md"]
    assert names(body["entries"][1]["entries"]) == ["pkg"]
    assert names(body["entries"][1]["entries"][0]["entries"]) == ["report.py"]
    scoped = http.get(volume.files, params={"search": "report", "path": "/src"}).json()
    assert scoped["path"] == "/src" and names(scoped["entries"]) == ["pkg"]


def test_listing_errors(http: httpx.Client, volume: Volume) -> None:
    (volume.dir / "file.txt").write_text("x")
    assert "no volume" in assert_error(http.get("/v1/volume/vol-missing/files"), 404)["error"]
    assert_error(http.get(volume.files, params={"path": "/missing"}), 404)
    assert_error(http.get(volume.files, params={"path": "/file.txt"}), 400)


# --- reading -------------------------------------------------------------------------------------


def test_reads_answer_the_bytes_with_last_modified_and_ranges_with_206(http: httpx.Client, volume: Volume) -> None:
    data = bytes(range(256)) * 4
    assert http.put(volume.content, params={"path": "/f.bin"}, content=data).status_code == 204
    whole = http.get(volume.content, params={"path": "f.bin"})
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["content-type"] == "application/octet-stream"
    assert whole.headers["content-length"] == str(len(data))
    head = http.head(volume.content, params={"path": "f.bin"})
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(data))
    modified = email.utils.parsedate_to_datetime(whole.headers["last-modified"])
    assert int(modified.timestamp()) == int((volume.dir / "f.bin").stat().st_mtime)

    cases = {
        "bytes=0-9": (0, 9),
        "bytes=1000-": (1000, 1023),
        "bytes=-24": (1000, 1023),
        "bytes=1020-5000": (1020, 1023),
        "bytes=-99999": (0, 1023),
    }
    for header, (first, last) in cases.items():
        part = http.get(volume.content, params={"path": "/f.bin"}, headers={"Range": header})
        assert part.status_code == 206, (header, part.text)
        assert part.headers["content-range"] == f"bytes {first}-{last}/1024"
        assert part.content == data[first : last + 1]
        assert part.headers["content-length"] == str(last - first + 1)
        assert "last-modified" in part.headers


def test_an_unsatisfiable_range_is_a_416_with_the_size(http: httpx.Client, volume: Volume) -> None:
    (volume.dir / "f.bin").write_bytes(b"0123456789")
    (volume.dir / "empty").write_bytes(b"")
    for path, header, size in [("f.bin", "bytes=10-", 10), ("f.bin", "bytes=50-60", 10)]:
        answer = http.get(volume.content, params={"path": path}, headers={"Range": header})
        assert_error(answer, 416)
        assert answer.headers["content-range"] == f"bytes */{size}"
    for header in ["bytes=5-2", "bytes=0-1,3-4", "lines=1-2"]:
        assert_error(http.get(volume.content, params={"path": "f.bin"}, headers={"Range": header}), 400)
    assert http.get(volume.content, params={"path": "empty"}).content == b""


def test_any_range_of_an_empty_file_is_the_whole_empty_file(http: httpx.Client, volume: Volume) -> None:
    # A client reading in chunks asks for its first chunk (Porter's asks for 8 MiB) without knowing the size.
    (volume.dir / "empty").write_bytes(b"")
    for header in ["bytes=0-8388607", "bytes=0-", "bytes=-10", "bytes=5-9"]:
        answer = http.get(volume.content, params={"path": "empty"}, headers={"Range": header})
        assert (answer.status_code, answer.content) == (200, b""), header
        assert "content-range" not in answer.headers
    assert_error(http.get(volume.content, params={"path": "empty"}, headers={"Range": "bytes=5-2"}), 400)


def test_read_errors(http: httpx.Client, volume: Volume) -> None:
    (volume.dir / "dir").mkdir()
    assert_error(http.get(volume.content, params={"path": "/missing.txt"}), 404)
    assert_error(http.get(volume.content, params={"path": "/dir"}), 400)
    assert_error(http.get(volume.content), 400)
    assert_error(http.get("/v1/volume/vol-missing/files/content", params={"path": "a"}), 404)


# --- writing -------------------------------------------------------------------------------------


def test_writes_create_parents_and_replace(http: httpx.Client, volume: Volume) -> None:
    assert http.put(volume.content, params={"path": "a/b/c.txt"}, content=b"one").status_code == 204
    assert (volume.dir / "a" / "b" / "c.txt").read_bytes() == b"one"
    answer = http.put(volume.content, params={"path": "/a/b/c.txt"}, content=b"two")
    assert answer.status_code == 204 and answer.content == b""
    assert http.get(volume.content, params={"path": "/a/b/c.txt"}).content == b"two"
    assert http.put(volume.content, params={"path": "/empty"}, content=b"").status_code == 204
    assert (volume.dir / "empty").read_bytes() == b""
    assert temp_files(volume.dir, volume.staging) == []


def test_write_errors(http: httpx.Client, volume: Volume) -> None:
    (volume.dir / "dir").mkdir()
    (volume.dir / "file.txt").write_text("x")
    assert "directory" in assert_error(http.put(volume.content, params={"path": "/dir"}, content=b"x"), 409)["error"]
    assert_error(http.put(volume.content, params={"path": "/file.txt/below"}, content=b"x"), 409)
    assert_error(http.put(volume.content, params={"path": "/"}, content=b"x"), 400)
    assert_error(http.put(volume.content, content=b"x"), 400)
    assert_error(http.put("/v1/volume/vol-missing/files/content", params={"path": "a"}, content=b"x"), 404)
    assert (volume.dir / "file.txt").read_text() == "x"


def cut_off_upload(server: LocalServer, volume: Volume, path: str, *, declared: int, sent: int) -> None:
    """PUT ``path`` declaring ``declared`` body bytes and send ``sent`` of them; once the server is writing
    them (its temporary file exists), hang up. Answers when the server has cleaned up after it."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(
            f"PUT {volume.content}?path={path} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n".encode()
        )
        chunk = b"n" * 65536
        remaining = sent
        while remaining > 0:
            raw.sendall(chunk[: min(len(chunk), remaining)])
            remaining -= min(len(chunk), remaining)
        deadline = time.monotonic() + 20
        while not temp_files(volume.dir, volume.staging) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert temp_files(volume.dir, volume.staging), (
            f"the server never started writing the upload; its log:\n{server.log()}"
        )
        # While the upload waits for its body, the server answers others.
        with httpx.Client(base_url=server.url, timeout=30) as other_client:
            assert other_client.get("/healthz").status_code == 200
    deadline = time.monotonic() + 20
    while temp_files(volume.dir, volume.staging) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert temp_files(volume.dir, volume.staging) == [], (
        f"the cut-off upload left its temporary file; the server's log:\n{server.log()}"
    )


def test_an_upload_cut_off_mid_body_keeps_the_old_content_and_leaves_no_temporary_file(
    server: LocalServer, http: httpx.Client, volume: Volume
) -> None:
    assert http.put(volume.content, params={"path": "/doc.txt"}, content=b"the old content").status_code == 204
    cut_off_upload(server, volume, "/doc.txt", declared=10_000_000, sent=3_000_000)
    assert http.get(volume.content, params={"path": "/doc.txt"}).content == b"the old content"

    # A new file in new directories: neither the file nor the directories appear.
    cut_off_upload(server, volume, "/new/dirs/doc.txt", declared=1_000_000, sent=100_000)
    deadline = time.monotonic() + 20
    while (volume.dir / "new").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (volume.dir / "new").exists()
    assert_error(http.get(volume.content, params={"path": "/new/dirs/doc.txt"}), 404)
    assert http.get("/healthz").status_code == 200


# --- moving --------------------------------------------------------------------------------------


def test_move_renames_and_relocates(http: httpx.Client, volume: Volume) -> None:
    assert http.put(volume.content, params={"path": "/a/f.txt"}, content=b"x").status_code == 204
    (volume.dir / "b").mkdir()
    answer = http.post(volume.move, json={"from": "/a/f.txt", "to": "/a/g.txt"})
    assert answer.status_code == 204 and answer.content == b""
    assert http.post(volume.move, json={"from": "a", "to": "b/a"}).status_code == 204
    assert http.get(volume.content, params={"path": "/b/a/g.txt"}).content == b"x"


def test_move_errors(http: httpx.Client, volume: Volume) -> None:
    (volume.dir / "a.txt").write_text("a")
    (volume.dir / "b.txt").write_text("b")
    (volume.dir / "dir" / "sub").mkdir(parents=True)
    assert "overwrite" in assert_error(http.post(volume.move, json={"from": "/a.txt", "to": "/b.txt"}), 409)["error"]
    assert_error(http.post(volume.move, json={"from": "/a.txt", "to": "/dir"}), 409)
    assert_error(http.post(volume.move, json={"from": "/missing", "to": "/c.txt"}), 404)
    missing_parent = assert_error(http.post(volume.move, json={"from": "/a.txt", "to": "/nodir/c.txt"}), 404)
    assert "parent" in missing_parent["error"] and "/nodir" in missing_parent["error"]
    assert_error(http.post(volume.move, json={"from": "/dir", "to": "/dir/sub/dir"}), 400)
    assert_error(http.post(volume.move, json={"from": "/a.txt"}), 400)
    assert_error(http.post(volume.move, json={"from": 1, "to": "/x"}), 400)
    assert_error(http.post(volume.move, content=b"{not json", headers={"content-type": "application/json"}), 400)
    assert_error(http.post("/v1/volume/vol-missing/files/move", json={"from": "/a", "to": "/b"}), 404)
    assert (volume.dir / "a.txt").read_text() == "a" and (volume.dir / "b.txt").read_text() == "b"


# --- traversal and planted symlinks, on every route --------------------------------------------------


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    """A directory outside every volume that write and move attacks aim at (never /etc: we may run as root)."""
    (tmp_path / "decoy").mkdir()
    (tmp_path / "decoy" / "hostfile").write_text("host data")
    return tmp_path / "decoy"


def plant(volume: Volume, other: Volume, decoy: Path) -> None:
    """What a hostile sandbox leaves in a volume."""
    (volume.dir / "etc").symlink_to("/etc")
    (volume.dir / "passwd").symlink_to("/etc/passwd")
    (volume.dir / "decoy").symlink_to(decoy)
    (volume.dir / "hostfile").symlink_to(decoy / "hostfile")
    (volume.dir / "other").symlink_to(other.dir)
    (volume.dir / "secret.txt").symlink_to(other.dir / "secret.txt")
    (volume.dir / "real" / "deeper").mkdir(parents=True)
    (volume.dir / "real" / "up").symlink_to("../..")
    (volume.dir / "mine.txt").write_text("mine")


ESCAPES = [
    "..",
    "../",
    "/../..",
    "../../../../etc/passwd",
    "/../x/secret.txt",
    "real/../../secret.txt",
    "etc/passwd",
    "/etc/passwd",
    "passwd",
    "other/secret.txt",
    "/other/secret.txt",
    "secret.txt",
    "real/up/other/secret.txt",
    "decoy/hostfile",
    "hostfile",
]


def assert_untouched(other: Volume, decoy: Path) -> None:
    assert sorted(p.name for p in other.dir.iterdir()) == ["secret.txt"]
    assert (other.dir / "secret.txt").read_text() == "other volume's secret"
    assert sorted(p.name for p in decoy.iterdir()) == ["hostfile"]
    assert (decoy / "hostfile").read_text() == "host data"


def test_reads_never_escape_the_volume(http: httpx.Client, volume: Volume, other: Volume, decoy: Path) -> None:
    plant(volume, other, decoy)
    passwd = Path("/etc/passwd").read_bytes()
    for path in [*ESCAPES, "/../" + other.id + "/secret.txt", "../" + other.id + "/secret.txt"]:
        for headers in [{}, {"Range": "bytes=0-"}]:
            answer = http.get(volume.content, params={"path": path}, headers=headers)
            assert_error(answer, 400, 404)
            assert b"other volume's secret" not in answer.content and passwd[:20] not in answer.content


def test_listings_never_escape_the_volume(http: httpx.Client, volume: Volume, other: Volume, decoy: Path) -> None:
    plant(volume, other, decoy)
    for path in [*ESCAPES, "etc", "/etc", "other", "decoy", "real/up", "real/up/etc", "/../" + other.id]:
        answer = http.get(volume.files, params={"path": path})
        assert_error(answer, 400, 404)
    whole = http.get(volume.files).json()
    assert names(whole["entries"]) == ["real", "mine.txt"]
    assert names(whole["entries"][0]["entries"]) == ["deeper"]
    for search in ["secret", "passwd", "hostfile", "hosts"]:
        assert http.get(volume.files, params={"search": search}).json()["entries"] == []


def test_writes_never_escape_the_volume(http: httpx.Client, volume: Volume, other: Volume, decoy: Path) -> None:
    plant(volume, other, decoy)
    targets = [p for p in ESCAPES if not p.startswith("etc") and "passwd" not in p] + [
        "decoy/new.txt",
        "decoy/new/dir/file.txt",
        "other/new.txt",
        "real/up/decoy/new.txt",
    ]
    for path in targets:
        answer = http.put(volume.content, params={"path": path}, content=b"planted by the API")
        assert_error(answer, 400, 404, 409)
    assert_untouched(other, decoy)
    assert (volume.dir / "hostfile").is_symlink() and (volume.dir / "secret.txt").is_symlink()
    assert temp_files(volume.dir, volume.staging) == []


def test_moves_never_escape_the_volume(http: httpx.Client, volume: Volume, other: Volume, decoy: Path) -> None:
    plant(volume, other, decoy)
    attempts = [
        ("other/secret.txt", "stolen.txt"),
        ("decoy/hostfile", "stolen.txt"),
        ("real/up/other/secret.txt", "stolen.txt"),
        ("../" + other.id + "/secret.txt", "stolen.txt"),
        ("/../../", "stolen"),
        ("mine.txt", "other/mine.txt"),
        ("mine.txt", "decoy/mine.txt"),
        ("mine.txt", "real/up/decoy/mine.txt"),
        ("mine.txt", "../" + other.id + "/mine.txt"),
        ("mine.txt", "/../mine.txt"),
        ("real", "decoy/real"),
        ("decoy", "kept-link"),
    ]
    for source, destination in attempts:
        answer = http.post(volume.move, json={"from": source, "to": destination})
        assert_error(answer, 400, 404)
    assert_untouched(other, decoy)
    assert not (volume.dir / "stolen.txt").exists() and (volume.dir / "mine.txt").read_text() == "mine"
    assert (volume.dir / "real" / "deeper").is_dir()


# --- a 200 MB round trip in bounded memory --------------------------------------------------------


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def reset_peak(pid: int) -> bool:
    """Reset the process's peak RSS (VmHWM) to its current RSS, where the kernel lets us."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def test_a_200_mb_file_round_trips_with_the_server_memory_far_below_its_size(
    server: LocalServer, http: httpx.Client, volume: Volume
) -> None:
    size = 200 * 1024 * 1024
    block = hashlib.sha256(b"seed").digest() * (1024 * 1024 // 32)  # 1 MiB, not all zeros
    pid = server.pid
    baseline = memory_kib(pid, "VmRSS") if reset_peak(pid) else memory_kib(pid, "VmHWM")

    def body() -> Iterator[bytes]:
        for i in range(size // len(block)):
            yield i.to_bytes(8, "big") + block[8:]

    sent = hashlib.sha256()
    for chunk in body():
        sent.update(chunk)
    answer = http.put(volume.content, params={"path": "/big.bin"}, content=body(), timeout=120)
    assert answer.status_code == 204, answer.text
    assert (volume.dir / "big.bin").stat().st_size == size

    received = hashlib.sha256()
    total = 0
    with http.stream("GET", volume.content, params={"path": "/big.bin"}, timeout=120) as download:
        assert download.status_code == 200
        assert download.headers["content-length"] == str(size)
        for chunk in download.iter_bytes(1024 * 1024):
            received.update(chunk)
            total += len(chunk)
    assert total == size
    assert received.hexdigest() == sent.hexdigest()

    growth_mib = (memory_kib(pid, "VmHWM") - baseline) / 1024
    # The file is 200 MiB; streaming both ways should cost the server a few MiB of buffers.
    assert growth_mib < 40, f"the server's peak RSS grew by {growth_mib:.0f} MiB for a 200 MiB round trip"
    assert temp_files(volume.dir, volume.staging) == []
