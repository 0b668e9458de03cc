"""Error answers become the SDK's typed errors, with the status, the body and the server's message.

Statuses the generated code cannot even parse (499, 520, an HTML page from a
proxy) are recovered too. Only statuses a real local server never answers
are scripted here; the end-to-end tests meet 400, 404 and 409 for real.
"""

from __future__ import annotations

import httpx
import pytest
from sdk_mock import STATUS, Script, answer, async_porter_with, porter_with

from porter_sandbox import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CommandError,
    ConflictError,
    ExecResult,
    InvalidNameError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SandboxError,
    SandboxTimeoutError,
    ServerError,
    UnsupportedByServerError,
)
from porter_sandbox._exceptions import error_for_status


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, APIStatusError),
        (416, APIStatusError),
        (429, RateLimitError),
        (500, ServerError),
        (501, UnsupportedByServerError),
    ],
)
def test_each_error_status_raises_its_class_with_status_body_and_message(
    status: int, kind: type[APIStatusError]
) -> None:
    script = Script(answer(status, {"error": f"what went wrong ({status})"}))
    with porter_with(script, max_retries=0) as porter, pytest.raises(kind) as caught:
        porter.volumes.list()
    error = caught.value
    assert type(error) is kind
    assert error.status_code == status
    assert error.body == {"error": f"what went wrong ({status})"}
    assert error.message == f"what went wrong ({status})"
    assert str(error) == f"{status}: what went wrong ({status})"


@pytest.mark.parametrize(("status", "kind"), [(499, APIStatusError), (520, ServerError)])
def test_statuses_python_does_not_know_still_map_to_errors(status: int, kind: type[APIStatusError]) -> None:
    script = Script(answer(status, {"error": "an edge proxy gave up"}))
    with porter_with(script, max_retries=0) as porter, pytest.raises(kind) as caught:
        porter.sandboxes.get("sb-1")
    assert caught.value.status_code == status
    assert caught.value.message == "an edge proxy gave up"


def test_an_html_error_page_from_a_proxy_keeps_its_text() -> None:
    page = "<html><body>502 Bad Gateway</body></html>"
    script = Script(httpx.Response(502, text=page, headers={"content-type": "text/html"}))
    with porter_with(script, max_retries=0) as porter, pytest.raises(ServerError) as caught:
        porter.volumes.list()
    assert caught.value.status_code == 502
    assert caught.value.body == page
    assert "502 Bad Gateway" in caught.value.message


def test_a_success_with_a_body_this_client_cannot_read_is_a_sandbox_error() -> None:
    script = Script(answer(200, {"unexpected": True}))
    with porter_with(script) as porter, pytest.raises(SandboxError) as caught:
        porter.volumes.list()
    assert caught.value.status_code == 200
    assert caught.value.body == {"unexpected": True}
    assert "base_url" in caught.value.message


def test_an_error_without_a_body_still_says_its_status() -> None:
    error = error_for_status(404, b"")
    assert isinstance(error, NotFoundError) and error.body is None and "404" in str(error)


def test_a_404_on_a_name_or_id_says_neither_matched() -> None:
    script = Script(answer(404, {"error": "no sandbox has this name"}))
    with porter_with(script) as porter, pytest.raises(NotFoundError, match="named or has the id 'ghost'"):
        porter.sandboxes.get("ghost")
    assert [r.url.path for r in script.requests] == ["/v1/sandbox/lookup", "/v1/sandbox/ghost"]


def test_a_string_that_cannot_be_a_name_is_looked_up_as_an_id_only() -> None:
    script = Script(answer(200, {**STATUS, "id": "SB_1"}))
    with porter_with(script) as porter:
        assert porter.sandboxes.get("SB_1").id == "SB_1"
    assert [r.url.path for r in script.requests] == ["/v1/sandbox/SB_1"]


def test_the_error_tree() -> None:
    assert issubclass(APIStatusError, SandboxError)
    for kind in (BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError):
        assert issubclass(kind, APIStatusError)
    assert issubclass(RateLimitError, APIStatusError) and issubclass(ServerError, APIStatusError)
    assert issubclass(InvalidNameError, ValueError) and issubclass(InvalidNameError, SandboxError)
    assert issubclass(SandboxTimeoutError, TimeoutError) and issubclass(SandboxTimeoutError, SandboxError)
    assert issubclass(CommandError, SandboxError)


def test_exec_result_check_raises_a_command_error_carrying_the_output() -> None:
    ok = ExecResult(stdout="fine\n", stderr="", exit_code=0, exec_id="ex-1", command=("true",))
    assert ok.check() is ok and ok.ok
    failed = ExecResult(stdout="partial\n", stderr="warning\nboom: no such file\n", exit_code=2, command=("ls", "x"))
    with pytest.raises(CommandError) as caught:
        failed.check()
    error = caught.value
    assert (error.exit_code, error.stdout, error.stderr) == (2, "partial\n", "warning\nboom: no such file\n")
    assert error.result is failed and error.command == ["ls", "x"]
    assert str(error) == "ls x exited with code 2: boom: no such file"


async def test_async_recovers_statuses_python_does_not_know_too() -> None:
    script = Script(httpx.Response(520, text="<html>origin error</html>"))
    async with async_porter_with(script) as porter:
        with pytest.raises(ServerError) as caught:
            await porter.sandboxes.get("sb-1")
    assert caught.value.status_code == 520 and caught.value.body == "<html>origin error</html>"
