"""The test kit as a user meets it: ``porter_sandbox.testing`` and the pytest plugin's fixtures."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from missing_extra import run_without_server_extra

from porter_sandbox.testing import LocalServer, ServerStartError, local_server

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest


def test_sync(porter, sandbox_server):
    sandbox = porter.sandboxes.create(image="python:3.12-slim", name="from-a-user-test")
    result = sandbox.exec(["python3", "-c", "print('hello from a user test')"])
    assert result.stdout == "hello from a user test\\n"
    assert result.exit_code == 0
    sandbox.terminate()
    assert sandbox_server.url.startswith("http://127.0.0.1:")
    with open("server.txt", "w") as note:  # for the test that ran this one, to check the clean-up
        note.write(f"{sandbox_server.pid} {sandbox_server.data_dir}")


def test_the_server_lives_for_the_session(porter):
    assert porter.sandboxes.get("from-a-user-test").id


@pytest.mark.asyncio
async def test_async(async_porter):
    sandbox = await async_porter.sandboxes.create(image="python:3.12-slim", name="from-an-async-user-test")
    result = await sandbox.exec(["python3", "-c", "print(6 * 7)"])
    assert result.stdout == "42\\n"
    await sandbox.terminate()
"""


def test_installing_the_package_registers_the_plugin() -> None:
    plugins = importlib.metadata.entry_points(group="pytest11")
    assert "porter_sandbox.pytest_plugin" in {entry_point.value for entry_point in plugins}


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: their test file, and nothing else (the plugin comes with the package)."""
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


def test_a_users_tests_get_a_server_and_clients(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_subprocess("-v", "-p", "no:cacheprovider", timeout=240)
    result.assert_outcomes(passed=3)
    assert "PytestUnraisableExceptionWarning" not in result.stdout.str()
    # The session's end stopped the server and removed its data.
    pid, data_dir = (user_project.path / "server.txt").read_text().split(" ", 1)
    assert not Path(f"/proc/{pid}").exists()
    assert not Path(data_dir).exists()


def test_a_user_can_replace_the_server_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from porter_sandbox.testing import local_server


@pytest.fixture(scope="session")
def sandbox_server():
    with local_server(isolation="none", api_key="my-test-key") as server:
        yield server
"""
    )
    pytester.makepyfile(
        test_user="""
def test_it(porter, sandbox_server):
    assert sandbox_server.api_key == "my-test-key"
    assert sandbox_server.isolation == "none"
    assert porter.sandboxes.create(image="python:3.12-slim").exec(["true"]).exit_code == 0
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=240)
    result.assert_outcomes(passed=1)


def test_loading_the_plugin_starts_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
import os
import sys


def children():
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                    found.append(entry)
        except (OSError, ValueError, IndexError):
            pass
    return found


def test_no_server():
    assert children() == []
    assert "porter_sandbox_server" not in sys.modules
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=1)


def test_the_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures", timeout=120)
    assert result.ret == 0
    documented = [
        ("sandbox_server* [[]session scope[]]*", "*A local Sandbox API server for the whole test session*"),
        ("porter *", "*A ``Porter`` client for ``sandbox_server``*"),
        ("async_porter *", "*An ``AsyncPorter`` client for ``sandbox_server``*"),
        ("sandbox *", "*A fresh, running sandbox for this test, terminated after it whatever happened*"),
        ("async_sandbox *", "*A fresh, running ``AsyncSandbox`` for this test*"),
        ("sandbox_image *", "*The image the ``sandbox`` fixtures create their sandboxes from*"),
    ]
    for fixture, doc in documented:  # pytest lists them in an order of its own: check each on its own
        result.stdout.fnmatch_lines([fixture, doc], consecutive=True)


def test_local_server_serves_and_restarts_on_the_same_data() -> None:
    with local_server(isolation="none") as server:
        assert server.url.startswith("http://127.0.0.1:")
        with server.client() as porter:
            created = porter.volumes.create(name="kept-across-restarts")
        server.stop()
        server.start()
        with server.client() as porter:
            assert porter.volumes.get("kept-across-restarts").id == created.id
        killed_pid = server.pid
        server.kill()
        assert not Path(f"/proc/{killed_pid}").exists()
        server.start()
        with server.client() as porter:
            assert porter.volumes.get("kept-across-restarts").id == created.id
        assert "porter-sandbox" in server.log()
        data_dir = server.data_dir
    assert not data_dir.exists()


async def test_local_server_gives_an_async_client() -> None:
    with local_server(isolation="none") as server:
        async with server.async_client() as porter:
            sandbox = await porter.sandboxes.create(image="python:3.12-slim")
            assert (await sandbox.exec(["echo", "async"])).stdout == "async\n"
            await sandbox.terminate()


def test_a_server_that_cannot_start_says_why_and_leaves_nothing_behind() -> None:
    server = LocalServer(isolation="none", extra_args=["--runtime", "no-such-runtime"], startup_timeout=60)
    with pytest.raises(ServerStartError) as caught, server:
        pass
    assert "no-such-runtime" in str(caught.value)
    assert "exited with code" in str(caught.value)
    assert not server.data_dir.exists()
    assert not server.log_path.exists()


def test_local_clients_never_send_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTER_SANDBOX_API_KEY", "a-key-for-a-real-cluster")
    with local_server(isolation="none") as server, server.client() as porter:
        assert "authorization" not in porter.raw.get_httpx_client().headers
        assert porter.health().ok
    with local_server(isolation="none", api_key="local-key") as server, server.client() as porter:
        assert porter.raw.get_httpx_client().headers["authorization"] == "Bearer local-key"
        assert porter.sandboxes.list().total_pages >= 1


def test_the_plugin_module_does_not_import_the_server() -> None:
    code = "import sys, porter_sandbox.pytest_plugin; print('porter_sandbox_server' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


SANDBOX_FIXTURE_TESTS = """
import pytest


def test_sync_sandbox(sandbox, porter):
    assert sandbox.phase == "running"
    assert sandbox.exec(["echo", "from the fixture"]).stdout == "from the fixture\\n"
    assert sandbox.tags == {"pytest-test": "test_user.py::test_sync_sandbox"}
    with open("ids.txt", "a") as note:
        note.write(sandbox.id + "\\n")


def test_a_failing_test_still_gets_its_sandbox_terminated(sandbox):
    with open("ids.txt", "a") as note:
        note.write(sandbox.id + "\\n")
    assert False, "this test fails on purpose"


@pytest.mark.asyncio
async def test_async_sandbox(async_sandbox):
    assert (await async_sandbox.exec(["echo", "async fixture"])).stdout == "async fixture\\n"
    with open("ids.txt", "a") as note:
        note.write(async_sandbox.id + "\\n")


def test_zz_check_the_others_were_terminated(porter):
    ids = open("ids.txt").read().split()
    assert len(ids) == 3
    assert [porter.sandboxes.get(i).phase for i in ids] == ["terminated"] * 3


def test_zz_leaves_one_running(porter):
    porter.sandboxes.create(image="python:3.12-slim", name="left-running-on-purpose")
"""


def test_the_sandbox_fixtures_always_terminate_and_the_session_reports_leftovers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=SANDBOX_FIXTURE_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", timeout=240)
    result.assert_outcomes(passed=4, failed=1)
    text = result.stdout.str()
    assert "SandboxLeftRunningWarning" in text
    assert "1 sandbox was still running when the test session ended" in text
    assert "left-running-on-purpose" in text


def test_the_sandbox_image_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture
def sandbox_image():
    return "python:3.11-slim"
"""
    )
    pytester.makepyfile(test_user="def test_it(sandbox):\n    assert sandbox.image == 'python:3.11-slim'\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=240)
    result.assert_outcomes(passed=1, warnings=0)  # terminated: nothing left running to warn about


def test_the_test_kit_without_the_server_extra_says_which_extra_to_install(tmp_path: Path) -> None:
    done = run_without_server_extra(
        """
        from porter_sandbox.testing import ServerStartError, local_server
        try:
            with local_server():
                pass
        except ServerStartError as error:
            print(error)
        """
    )
    assert done.returncode == 0, done.stderr
    assert "needs porter-sandbox's 'server' extra" in done.stdout and "[server]" in done.stdout

    (tmp_path / "test_user.py").write_text("def test_it(porter):\n    pass\n")
    plugin = run_without_server_extra(
        f"import sys, pytest; sys.exit(pytest.main(['-p', 'no:cacheprovider', {str(tmp_path)!r}]))", cwd=str(tmp_path)
    )
    assert "needs porter-sandbox's 'server' extra" in plugin.stdout, plugin.stdout
    assert "Traceback" not in plugin.stdout and "ServerStartError" not in plugin.stdout
