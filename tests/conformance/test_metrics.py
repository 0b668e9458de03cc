"""What every runtime that declares metrics does: ``sample`` reads CPU time and memory of running sandboxes."""

from __future__ import annotations

import pytest
from runtime_kit import Kit

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _declared(kit: Kit) -> None:
    if kit.kind == "kubernetes":
        pytest.skip("the kubernetes runtime samples no metrics (it declares none; the README says so)")


async def test_sample_reads_cpu_time_and_memory_that_grow_with_use(kit: Kit) -> None:
    assert kit.runtime.capabilities.metrics
    sandbox_id = await kit.launch()
    before = (await kit.runtime.sample([sandbox_id]))[sandbox_id]
    burn = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"
    # Written files sit in the page cache, which a sandbox's memory includes.
    fill = "head -c 33554432 /dev/zero > /tmp/fill"
    assert (await kit.sh(sandbox_id, f"{burn}; {fill}"))[2] == 0
    after = (await kit.runtime.sample([sandbox_id]))[sandbox_id]
    assert after.cpu_seconds - before.cpu_seconds > 0.05, (before, after)
    assert after.memory_bytes - before.memory_bytes > 16 * 1024 * 1024, (before, after)
    for counter in (after.rx_bytes, after.tx_bytes):
        assert counter is None or counter >= 0


async def test_sample_leaves_out_what_is_not_running(kit: Kit) -> None:
    running = await kit.launch()
    stopped = await kit.launch()
    await kit.runtime.stop(stopped)
    sampled = await kit.runtime.sample([running, stopped, "sb-never-launched"])
    assert set(sampled) == {running}
    assert await kit.runtime.sample([]) == {}
