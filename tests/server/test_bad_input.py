"""Bad requests answer 4xx with {"error": ...} saying what was wrong; never a 500."""

from __future__ import annotations

import httpx
import pytest


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and message
    for word in words:
        assert word in message
    assert "Traceback" not in message


def test_malformed_json(api: httpx.Client) -> None:
    assert_error(api.post("/v1/sandbox/run", content=b'{"image": '), 400, "JSON")
    assert_error(api.post("/v1/sandbox/run", content=b""), 400, "empty")
    assert_error(api.post("/v1/sandbox/run", content=b'"just a string"'), 400)
    assert_error(api.post("/v1/volume", content=b"[1, 2"), 400, "JSON")
    assert_error(api.post("/v1/sandbox/run", content=b'{"image": "\\ud800"}'), 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "image"),
        ({"image": 5}, "image"),
        ({"image": "x", "command": "ls"}, "command"),
        ({"image": "x", "env": {"A": 1}}, "env"),
        ({"image": "x", "tags": ["a"]}, "tags"),
        ({"image": "x", "ttl_seconds": 0}, "ttl_seconds"),
        ({"image": "x", "ttl_seconds": "soon"}, "ttl_seconds"),
        ({"image": "x", "name": "Not_A_Label"}, "name"),
        ({"image": "x", "name": "-x"}, "name"),
        ({"image": "x", "resources": {"cpu": 2}}, "cpu"),
        ({"image": "x", "command": ["echo", "a\u0000b"]}, "NUL"),
        ({"image": "x", "env": {"A=B": "c"}}, "env"),
        ({"image": "x", "ttl_seconds": 1.5}, "ttl_seconds"),
    ],
)
def test_wrong_types_name_the_field(api: httpx.Client, body: dict[str, object], field: str) -> None:
    assert_error(api.post("/v1/sandbox/run", json=body), 400, field)


def test_bad_query_parameters(api: httpx.Client) -> None:
    assert_error(api.get("/v1/sandbox", params={"page": "two"}), 400, "page")
    assert_error(api.get("/v1/sandbox", params={"page": 0}), 400, "page")
    assert_error(api.get("/v1/sandbox", params={"phase": "sleeping"}), 400, "phase")
    assert_error(api.get("/v1/sandbox", params={"start_time": "last tuesday"}), 400, "start_time")
    assert_error(api.get("/v1/sandbox", params={"include_filter_values": "maybe"}), 400, "include_filter_values")
    assert_error(api.get("/v1/sandbox/lookup"), 400, "name")
    assert_error(api.get("/v1/sandbox/sb-000000000000/logs", params={"limit": -1}), 400, "limit")


def test_unknown_ids_routes_and_methods(api: httpx.Client) -> None:
    assert_error(api.get("/v1/sandbox/sb-000000000000"), 404, "sb-000000000000")
    assert_error(api.post("/v1/sandbox/sb-000000000000/exec", json={"command": ["ls"]}), 404)
    assert_error(api.get("/v1/volume/vol-000000000000"), 404)
    assert_error(api.delete("/v1/volume/vol-000000000000"), 404)
    assert_error(api.get("/v1/sandbox/lookup", params={"name": "nobody-has-this"}), 404)
    assert_error(api.get("/v1/nothing-here"), 404)
    assert_error(api.put("/v1/sandbox/run"), 405)


def test_oversized_body_is_413(api: httpx.Client) -> None:
    huge = {"image": "x", "env": {"BIG": "x" * (5 * 1024 * 1024)}}
    assert_error(api.post("/v1/sandbox/run", json=huge), 413)

    def chunks() -> object:
        for _ in range(6):
            yield b" " * (1024 * 1024)

    # Without Content-Length (chunked): the server stops reading once past the limit.
    assert_error(api.post("/v1/sandbox/run", content=chunks()), 413)  # type: ignore[arg-type]
