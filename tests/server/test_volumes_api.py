"""Volumes over real HTTP: create, find, attach, refuse deletion while attached, reuse names."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from runtimes import require_bwrap
from server_calls import TERMINAL, create, wait_for

from porter_sandbox.testing import LocalServer


@pytest.fixture(scope="module")
def api_server() -> Iterator[LocalServer]:
    """Mounting volumes needs bubblewrap: without isolation there is nothing to mount into."""
    require_bwrap()
    with LocalServer(isolation="bwrap") as server:
        yield server


def test_volume_lifecycle_and_attachment(api: httpx.Client, name: str) -> None:
    created = api.post("/v1/volume", json={"name": name})
    assert created.status_code == 201
    volume = created.json()
    assert volume["id"].startswith("vol-")
    assert (volume["name"], volume["type"], volume["phase"], volume["attached_to"]) == (name, "disk", "ready", [])
    assert not volume["path"].startswith("/")
    assert api.get("/v1/volume/lookup", params={"name": name}).json() == {"id": volume["id"]}
    assert volume["id"] in [v["id"] for v in api.get("/v1/volume").json()["volumes"]]

    sandbox_id = create(api, volume_mounts={"/data": volume["id"]})
    assert api.get(f"/v1/sandbox/{sandbox_id}").json()["volume_mounts"] == {"/data": volume["id"]}
    assert api.get(f"/v1/volume/{volume['id']}").json()["attached_to"] == [sandbox_id]
    refused = api.delete(f"/v1/volume/{volume['id']}")
    assert refused.status_code == 409 and sandbox_id in refused.json()["error"]

    api.delete(f"/v1/sandbox/{sandbox_id}")
    assert api.get(f"/v1/volume/{volume['id']}").json()["attached_to"] == []
    assert api.delete(f"/v1/volume/{volume['id']}").status_code == 204
    assert api.get(f"/v1/volume/{volume['id']}").status_code == 404
    assert api.get("/v1/volume/lookup", params={"name": name}).status_code == 404

    again = api.post("/v1/volume", json={"name": name})
    assert again.status_code == 201 and again.json()["id"] != volume["id"]
    assert api.post("/v1/volume", json={"name": name}).status_code == 409
    api.delete(f"/v1/volume/{again.json()['id']}")


def test_volume_detaches_when_the_sandbox_exits(api: httpx.Client) -> None:
    volume = api.post("/v1/volume", json={}).json()
    assert volume["name"] == volume["id"]
    sandbox_id = create(api, command=["true"], volume_mounts={"/data": volume["id"]})
    wait_for(api, sandbox_id, TERMINAL)
    assert api.get(f"/v1/volume/{volume['id']}").json()["attached_to"] == []
    assert api.delete(f"/v1/volume/{volume['id']}").status_code == 204


def test_bad_mounts_are_refused_before_anything_starts(api: httpx.Client, name: str) -> None:
    volume = api.post("/v1/volume", json={}).json()
    unknown = api.post(
        "/v1/sandbox/run", json={"image": "x", "name": name, "volume_mounts": {"/data": "vol-000000000000"}}
    )
    assert unknown.status_code == 400 and "vol-000000000000" in unknown.json()["error"]
    relative = api.post("/v1/sandbox/run", json={"image": "x", "name": name, "volume_mounts": {"data": volume["id"]}})
    assert relative.status_code == 400 and "relative" in relative.json()["error"]
    # Nothing was created: the name is still free.
    assert api.get("/v1/sandbox/lookup", params={"name": name}).status_code == 404
    assert api.get(f"/v1/volume/{volume['id']}").json()["attached_to"] == []
    api.delete(f"/v1/volume/{volume['id']}")


def test_object_volumes_are_refused(api: httpx.Client) -> None:
    answer = api.post("/v1/volume", json={"type": "object", "object": {"bucket": "b"}})
    assert answer.status_code == 400
    assert "disk" in answer.json()["error"]
