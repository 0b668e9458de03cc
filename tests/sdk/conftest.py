"""Fixtures of the SDK's unit and fault tests: recorded retry waits, and no Porter settings from the machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from porter_sandbox import _retry


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The waits the retry policy asked for, recorded instead of slept."""
    recorded: list[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_retry, "_sleep", recorded.append)
    monkeypatch.setattr(_retry, "_async_sleep", async_sleep)
    yield recorded


@pytest.fixture(autouse=True)
def no_porter_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the machine's Porter settings out of these tests."""
    for name in (
        "PORTER_SANDBOX_API_KEY",
        "PORTER_SANDBOX_BASE_URL",
        "PORTER_CLUSTER_ID",
        "KUBERNETES_SERVICE_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
