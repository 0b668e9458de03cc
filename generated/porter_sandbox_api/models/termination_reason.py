from enum import Enum


class TerminationReason(str, Enum):
    BACKEND_LOST = "backend_lost"
    CLI = "cli"
    DASHBOARD = "dashboard"
    LAUNCH_FAILED = "launch_failed"
    SDK = "sdk"
    TTL_EXPIRED = "ttl_expired"
    USER_TERMINATED = "user_terminated"
    WORKLOAD_EXITED = "workload_exited"

    def __str__(self) -> str:
        return str(self.value)
