from enum import Enum


class SandboxPhase(str, Enum):
    CREATING = "creating"
    FAILED = "failed"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    TERMINATED = "terminated"

    def __str__(self) -> str:
        return str(self.value)
