"""Each process-runtime sandbox's own network: the host out of reach, egress policies enforced, DNS through the server.

Real sandboxes on a root server with bubblewrap, slirp4netns and nftables;
the only hosts they reach are the test hosts of ``netns_hosts`` (a namespace
this module makes). Every probe runs inside a sandbox with the host's python3.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netns_hosts import HostNetns
from runtime_servers import RuntimeServer, start_server

from porter_sandbox import Porter

pytestmark = pytest.mark.bwrap

API_KEY = "network-test-key"

#: Fetches each URL of argv with a 5 s timeout; prints one JSON line per URL: ok, what it read or why not, seconds.
PROBE = r"""
import json, sys, time, urllib.request
for url in sys.argv[1:]:
    headers = {"Authorization": "Bearer %s"}
    start = time.monotonic()
    try:
        body = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5).read().decode()
        result = {"ok": True, "said": body}
    except Exception as error:
        result = {"ok": False, "said": "%%s: %%s" %% (type(error).__name__, getattr(error, "reason", error))}
    result["seconds"] = time.monotonic() - start
    print(json.dumps(result), flush=True)
"""


@pytest.fixture(scope="module")
def hosts() -> Iterator[HostNetns]:
    """The test hosts, made before the server so that its veth's host address is one it blocks."""
    with HostNetns.make() as made:
        yield made


def wait_for_the_pool(server: RuntimeServer, size: int = 2, timeout: float = 30.0) -> None:
    """Wait until ``size`` pooled sandboxes exist (their scratch directories), and a moment for them to be ready."""
    scratch = Path(server.data_dir) / "sandboxes"
    deadline = time.monotonic() + timeout
    while len(list(scratch.glob("pooled-*"))) < size:
        assert time.monotonic() < deadline, "the pool did not refill"
        time.sleep(0.02)
    time.sleep(0.2)


@pytest.fixture(scope="module", params=["fresh", "pooled"])
def server(hosts: HostNetns, request: pytest.FixtureRequest) -> Iterator[RuntimeServer]:
    """A root server with a key, whose sandboxes' DNS goes to the test hosts' DNS server.

    Twice: starting each sandbox fresh, and keeping sandboxes started (``--pool``), whose open
    network a launch's policy then replaces.
    """
    pool = ["--pool", "2"] if request.param == "pooled" else []
    started = start_server("process", api_key=API_KEY, extra_args=["--dns-upstream", hosts.dns_upstream, *pool])
    try:
        yield started
        if pool:
            served = started.log().count("started from the pool")
            assert served >= 10, f"few sandboxes came from the pool: {served}"
    finally:
        started.close()


@pytest.fixture(autouse=True)
def _pool_refilled(server: RuntimeServer) -> None:
    """With the pool, each test starts once it has refilled: the test's first sandboxes are pooled ones."""
    if "--pool" in server.extra_args:
        wait_for_the_pool(server)


@pytest.fixture
def porter(server: RuntimeServer) -> Iterator[Porter]:
    """A client for the server."""
    with server.client() as client:
        yield client


def probe(porter: Porter, urls: list[str], *, key: str = "", **create: Any) -> list[dict[str, Any]]:
    """What a sandbox created with ``create`` got from each of ``urls`` (sending ``key`` as a bearer key)."""
    sandbox = porter.sandboxes.create(image="python:3.12-slim", **create)
    try:
        result = sandbox.exec(["python3", "-c", PROBE % key, *urls])
    finally:
        sandbox.terminate()
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def refused_fast(outcome: dict[str, Any]) -> bool:
    """A connection refused at once (a reset or an ICMP error), not one that timed out."""
    return not outcome["ok"] and outcome["seconds"] < 1.0 and "timed out" not in outcome["said"]


def test_the_api_is_out_of_reach_from_inside_with_and_without_its_key(
    porter: Porter, server: RuntimeServer, hosts: HostNetns
) -> None:
    port = server.url.rsplit(":", 1)[1].rstrip("/")
    urls = [
        f"http://127.0.0.1:{port}/v1/sandbox",
        f"http://[::1]:{port}/v1/sandbox",
        f"http://10.0.2.2:{port}/v1/sandbox",  # slirp4netns's gateway: the host
        f"http://{hosts.ip(1)}:{port}/v1/sandbox",  # this host's own address on the test veth
    ]
    for key in ("", API_KEY):
        outcomes = probe(porter, urls, key=key)
        assert len(outcomes) == len(urls)
        for url, outcome in zip(urls, outcomes, strict=True):
            assert refused_fast(outcome), (url, key, outcome)


def test_without_a_policy_egress_is_open_and_names_resolve(porter: Porter, hosts: HostNetns) -> None:
    outcomes = probe(porter, [f"http://{hosts.ip(5)}:8099/", "http://allowed.test:8099/"])
    assert [outcome["said"] for outcome in outcomes] == [hosts.ip(5), hosts.ip(3)], outcomes


def test_an_allowed_ip_is_reached_and_any_other_refused_fast(porter: Porter, hosts: HostNetns) -> None:
    outcomes = probe(
        porter,
        [f"http://{hosts.ip(2)}:8099/", f"http://{hosts.ip(3)}:8099/"],
        egress={"allowed_destinations": [hosts.ip(2)]},
    )
    assert outcomes[0]["ok"] and outcomes[0]["said"] == hosts.ip(2), outcomes
    assert refused_fast(outcomes[1]), outcomes


def test_an_allowed_cidr_opens_its_addresses_only(porter: Porter, hosts: HostNetns) -> None:
    outcomes = probe(
        porter,
        [f"http://{hosts.ip(3)}:8099/", f"http://{hosts.ip(5)}:8099/"],
        egress={"allowed_destinations": [f"{hosts.ip(2)}/31"]},
    )
    assert outcomes[0]["ok"] and outcomes[0]["said"] == hosts.ip(3), outcomes
    assert refused_fast(outcomes[1]), outcomes


def test_an_allowed_hostname_is_reached_by_name_and_other_names_are_refused(porter: Porter, hosts: HostNetns) -> None:
    outcomes = probe(
        porter,
        ["http://allowed.test:8099/", "http://other.test:8099/", f"http://{hosts.ip(5)}:8099/"],
        egress={"allowed_destinations": ["allowed.test"]},
    )
    assert outcomes[0]["ok"] and outcomes[0]["said"] == hosts.ip(3), outcomes
    # The server's resolver answers REFUSED: the name does not resolve at all.
    assert not outcomes[1]["ok"] and "URLError" in outcomes[1]["said"], outcomes
    assert refused_fast(outcomes[2]), outcomes


def test_a_wildcard_allows_names_below_its_domain_not_the_domain(porter: Porter, hosts: HostNetns) -> None:
    outcomes = probe(
        porter,
        ["http://a.wild.test:8099/", "http://wild.test:8099/", f"http://{hosts.ip(5)}:8099/"],
        egress={"allowed_destinations": ["*.wild.test"]},
    )
    assert outcomes[0]["ok"] and outcomes[0]["said"] == hosts.ip(3), outcomes
    assert not outcomes[1]["ok"], outcomes
    assert refused_fast(outcomes[2]), outcomes


def test_an_empty_list_denies_all_egress(porter: Porter, hosts: HostNetns) -> None:
    outcomes = probe(
        porter,
        [f"http://{hosts.ip(2)}:8099/", "http://allowed.test:8099/"],
        egress={"allowed_destinations": []},
    )
    assert refused_fast(outcomes[0]), outcomes
    assert not outcomes[1]["ok"], outcomes


def test_a_destination_that_is_none_of_the_forms_is_refused_with_400(porter: Porter) -> None:
    from porter_sandbox import BadRequestError

    with pytest.raises(BadRequestError, match="not an IPv4 address"):
        porter.sandboxes.create(image="python:3.12-slim", egress={"allowed_destinations": ["exa mple"]})


#: Asks the DNS server at argv[1] (an IPv6 address) for allowed.test's A record; prints the address answered.
ASK_OVER_IPV6 = r"""
import socket, struct, sys
query = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x07allowed\x04test\x00" + struct.pack("!HH", 1, 1)
ask = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
ask.settimeout(5)
ask.sendto(query, (sys.argv[1], 53))
answer = ask.recv(512)
print(socket.inet_ntoa(answer[-4:]) if struct.unpack("!H", answer[6:8])[0] else "no answer")
"""


def test_dns_to_an_ipv6_loopback_nameserver_is_answered_by_the_server_too(porter: Porter, hosts: HostNetns) -> None:
    sandbox = porter.sandboxes.create(image="python:3.12-slim", egress={"allowed_destinations": ["allowed.test"]})
    try:
        result = sandbox.exec(["python3", "-c", ASK_OVER_IPV6, "::1"])
    finally:
        sandbox.terminate()
    assert result.stdout.strip() == hosts.ip(3), result


#: Resolves argv[1] (printing its address), again after 4 s, then fetches its address (not its name) at 8 s.
RESOLVE_AGAIN_THEN_FETCH = r"""
import socket, sys, time, urllib.request
start = time.monotonic()
address = socket.gethostbyname(sys.argv[1])
time.sleep(4)
socket.gethostbyname(sys.argv[1])
time.sleep(max(0.0, 8 - (time.monotonic() - start)))
try:
    print(urllib.request.urlopen("http://%s:8099/" % address, timeout=3).read().decode())
except OSError as error:
    print("refused", error)
"""


def test_resolving_a_name_again_keeps_its_addresses_open_for_the_new_ttl(porter: Porter, hosts: HostNetns) -> None:
    """short.test has a TTL of 6 s: resolved again at 4 s, its address is still open at 8 s."""
    sandbox = porter.sandboxes.create(image="python:3.12-slim", egress={"allowed_destinations": ["short.test"]})
    try:
        result = sandbox.exec(["python3", "-c", RESOLVE_AGAIN_THEN_FETCH, "short.test"], timeout=30)
    finally:
        sandbox.terminate()
    assert result.stdout.strip() == hosts.ip(3), result


def test_a_name_with_a_huge_ttl_or_inside_an_allowed_network_resolves_and_is_reached(
    porter: Porter, hosts: HostNetns
) -> None:
    """A TTL of 2^31 s (past what nft takes) and an address the policy's CIDR opened already both just work."""
    outcomes = probe(
        porter,
        ["http://huge.test:8099/", "http://covered.test:8099/"],
        egress={"allowed_destinations": ["huge.test", "covered.test", f"{hosts.ip(4)}/30"]},
    )
    assert [outcome["said"] for outcome in outcomes] == [hosts.ip(3), hosts.ip(5)], outcomes


#: Connects to argv[1]:argv[2] every 0.1 s for up to 5 s; prints "refused" at the first refusal, else "reached".
UNTIL_REFUSED = r"""
import socket, sys, time
start = time.monotonic()
while time.monotonic() - start < 5:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()
    except OSError:
        print("refused", round(time.monotonic() - start, 2)); break
    time.sleep(0.1)
else:
    print("reached")
"""


def test_an_address_the_host_gains_is_blocked_in_sandboxes_already_running(porter: Porter, hosts: HostNetns) -> None:
    """A new host address (a VPN, a DHCP lease) is out of reach of a running sandbox at once, not 30 s later."""
    sandbox = porter.sandboxes.create(image="python:3.12-slim")
    new = f"{hosts.prefix}.77"
    try:
        assert sandbox.exec(["true"]).exit_code == 0  # running, its firewall made from the old list
        subprocess.run(["ip", "addr", "add", f"{new}/32", "dev", hosts.veth], check=True)
        with socket.socket() as listener:  # a host service on the new address only
            listener.bind((new, 0))
            listener.listen()
            result = sandbox.exec(["python3", "-c", UNTIL_REFUSED, new, str(listener.getsockname()[1])], timeout=30)
        assert result.stdout.startswith("refused"), result
    finally:
        subprocess.run(["ip", "addr", "del", f"{new}/32", "dev", hosts.veth], check=False)
        sandbox.terminate()


def test_an_address_the_host_routes_to_itself_is_refused_though_no_interface_lists_it(
    porter: Porter, hosts: HostNetns
) -> None:
    """A local route (no interface address, so in no list) is refused on the host's side, where slirp4netns runs."""
    sandbox = porter.sandboxes.create(image="python:3.12-slim")
    local = f"{hosts.prefix}.78"
    try:
        assert sandbox.exec(["true"]).exit_code == 0
        subprocess.run(["ip", "route", "add", "local", f"{local}/32", "dev", "lo"], check=True)
        with socket.socket() as listener:
            listener.bind((local, 0))
            listener.listen()
            result = sandbox.exec(["python3", "-c", UNTIL_REFUSED, local, str(listener.getsockname()[1])], timeout=30)
        assert result.stdout.startswith("refused"), result
    finally:
        subprocess.run(["ip", "route", "del", "local", f"{local}/32", "dev", "lo"], check=False)
        sandbox.terminate()
