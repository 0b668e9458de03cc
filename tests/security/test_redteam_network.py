"""Attacks on the server through the network from inside a sandbox: its API, on every address that leads to the host.

The server listens on the host's loopback (with a key or without). From a
sandbox, its port must not answer on ``127.0.0.1``, ``::1`` or slirp4netns's
gateway to the host (``10.0.2.2``), with the key or without. Only loopback
and addresses that lead back to this host are tried.
"""

from __future__ import annotations

import pytest
from netns_hosts import require_sandbox_network
from redteam import Target, sh

from porter_sandbox import BadRequestError, Porter

pytestmark = pytest.mark.slow

#: Tries each URL of argv with a 3 s timeout; prints one line per URL: "answered <status>" or "no <error>".
_PYTHON_PROBE = r"""
import sys, urllib.error, urllib.request
for url in sys.argv[2:]:
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + sys.argv[1]} if sys.argv[1] else {})
    try:
        print("answered", urllib.request.urlopen(request, timeout=3).status)
    except urllib.error.HTTPError as error:
        print("answered", error.code)
    except Exception as error:
        print("no", type(error).__name__)
"""


def _urls(target: Target) -> list[str]:
    port = target.server.url.rstrip("/").rsplit(":", 1)[1]
    return [f"http://{host}:{port}/v1/sandbox" for host in ("127.0.0.1", "[::1]", "10.0.2.2")]


def test_the_servers_api_does_not_answer_from_inside_a_sandbox(target: Target, porter: Porter) -> None:
    sandbox = target.sandbox(porter)
    urls = _urls(target)
    for key in ("", target.server.api_key or "any-key"):
        if target.runtime == "process":
            result = sandbox.exec(["python3", "-c", _PYTHON_PROBE, key, *urls])
            lines = result.stdout.splitlines()
        else:  # busybox's wget: no python in the test image
            script = "; ".join(f"wget -q -T 3 -O /dev/null {url} && echo answered || echo no" for url in urls)
            lines = sh(sandbox, f"command -v wget >/dev/null && echo has-wget; {script}").stdout.splitlines()
            assert lines[:1] == ["has-wget"], lines  # else every probe below would fail for nothing
            lines = lines[1:]
        assert len(lines) == len(urls), (key, lines)
        for url, line in zip(urls, lines, strict=True):
            assert line.startswith("no"), (url, key, line)


def test_an_egress_policy_is_enforced_or_refused_never_ignored(target: Target, porter: Porter) -> None:
    """A server that cannot enforce a policy (not root, or Docker) says so with 400 instead of starting the sandbox."""
    if target.root_server:
        require_sandbox_network()
        sandbox = target.sandbox(porter, egress={"allowed_destinations": []})
        lines = sandbox.exec(["python3", "-c", _PYTHON_PROBE, "", "http://10.0.2.2:9/"]).stdout.splitlines()
        assert lines and lines[0].startswith("no"), lines
        return
    with pytest.raises(BadRequestError, match="cannot enforce an egress policy"):
        target.sandbox(porter, egress={"allowed_destinations": []})
