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


@pytest.mark.parametrize(
    ("resources", "field"),
    [
        ({"memory": "16Ei"}, "resources.memory"),
        ({"memory": "2Pi"}, "resources.memory"),
        ({"cpu": "99999999999999999999999"}, "resources.cpu"),
        ({"cpu": "100001"}, "resources.cpu"),
        ({"memory": "1" * 40}, "memory"),
        ({"memory": "512Mi\n"}, "memory"),
    ],
)
def test_quantities_out_of_range_are_400_naming_the_field(
    api: httpx.Client, resources: dict[str, str], field: str
) -> None:
    answer = api.post("/v1/sandbox/run", json={"image": "x", "resources": resources})
    assert_error(answer, 400, field)
    assert len(answer.json()["error"]) < 400


def test_times_at_the_ends_of_the_calendar_are_answered(api: httpx.Client) -> None:
    earliest = api.get("/v1/sandbox/counts", params={"end_time": "0001-01-01T00:00:00Z"})
    assert earliest.status_code == 200, earliest.text
    assert earliest.json()["points"][0]["timestamp"].startswith("0001-01-01T00:00:00")
    latest = api.get("/v1/sandbox/counts", params={"start_time": "9999-12-31T23:59:59Z"})
    assert latest.status_code == 200 and latest.json()["points"] == []
    both = api.get(
        "/v1/sandbox/counts", params={"start_time": "0001-01-01T00:00:00Z", "end_time": "9999-12-31T23:59:59Z"}
    )
    assert both.status_code == 200, both.text
    assert api.get("/v1/sandbox", params={"end_time": "0001-01-01T00:00:00Z"}).status_code == 200
    assert_error(api.get("/v1/sandbox", params={"start_time": "10000-01-01T00:00:00Z"}), 400, "start_time")
    sandbox_id = api.post("/v1/sandbox/run", json={"image": "x"}).json()["id"]
    assert api.get(f"/v1/sandbox/{sandbox_id}/logs", params={"since": "9" * 400 + "d"}).status_code == 200
    api.delete(f"/v1/sandbox/{sandbox_id}")


def test_integers_out_of_range_are_400_naming_the_field(api: httpx.Client) -> None:
    assert_error(api.get("/v1/sandbox", params={"page": "9" * 5000}), 400, "page")
    assert_error(api.get("/v1/sandbox", params={"page": 10**7}), 400, "page")
    assert_error(api.get("/v1/sandbox/sb-000000000000/logs", params={"limit": 10**30}), 400, "limit")
    assert_error(api.post("/v1/sandbox/run", json={"image": "x", "ttl_seconds": 10**12}), 400, "ttl_seconds")
    assert_error(api.post("/v1/sandbox/run", json={"image": "x", "ttl_seconds": 1e300}), 400, "ttl_seconds")


def test_ranges_out_of_range_are_answered_not_500(api: httpx.Client) -> None:
    volume = api.post("/v1/volume", json={}).json()["id"]
    content = f"/v1/volume/{volume}/files/content"
    assert api.put(content, params={"path": "/f"}, content=b"0123456789").status_code == 204
    whole = api.get(content, params={"path": "/f"}, headers={"Range": "bytes=0-" + "9" * 5000})
    assert (whole.status_code, whole.content) == (206, b"0123456789")
    past = api.get(content, params={"path": "/f"}, headers={"Range": "bytes=" + "9" * 5000 + "-"})
    assert_error(past, 416)
    assert past.headers["content-range"] == "bytes */10"
    tail = api.get(content, params={"path": "/f"}, headers={"Range": "bytes=-" + "9" * 5000})
    assert (tail.status_code, tail.content) == (206, b"0123456789")
    assert_error(api.get(content, params={"path": "/f"}, headers={"Range": "bytes=\u00b2-3".encode()}), 400, "Range")
    # The connection is still good for the next request.
    assert api.get("/healthz").status_code == 200
    api.delete(f"/v1/volume/{volume}")


@pytest.mark.parametrize("name", ["a\n", "a\r\n", "\na", "ab\nc", "a" * 64])
def test_names_are_matched_to_the_last_character(api: httpx.Client, name: str) -> None:
    assert_error(api.post("/v1/sandbox/run", json={"image": "x", "name": name}), 400, "name")
    assert_error(api.post("/v1/volume", json={"name": name}), 400, "name")
    # No sandbox or volume can have such a name: looking it up finds none.
    assert_error(api.get("/v1/sandbox/lookup", params={"name": name}), 404)
    assert_error(api.get("/v1/volume/lookup", params={"name": name}), 404)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"BAD KEY": "x"}, ["env", "BAD KEY"]),
        ({"1ST": "x"}, ["env", "1ST"]),
        ({"": "x"}, ["env"]),
        ({"A=B": "x"}, ["env"]),
        ({"BIG": "x" * (3 * 1024 * 1024)}, ["env", "BIG", "128 KiB"]),
        ({f"V{n}": "x" * 1000 for n in range(600)}, ["env", "524288"]),
        ({f"V{n}": "" for n in range(1001)}, ["env", "1000"]),
    ],
)
def test_env_is_limited_in_names_and_size(api: httpx.Client, env: dict[str, str], words: list[str]) -> None:
    answer = api.post("/v1/sandbox/run", json={"image": "x", "env": env})
    assert_error(answer, 400, *words)
    assert len(answer.json()["error"]) < 400


def test_env_names_kubernetes_takes_are_accepted(api: httpx.Client) -> None:
    env = {"_A": "1", "my.setting": "2", "with-dash": "3", "Z9": "4"}
    answer = api.post("/v1/sandbox/run", json={"image": "x", "env": env})
    assert answer.status_code == 201, answer.text
    api.delete(f"/v1/sandbox/{answer.json()['id']}")
