from enum import Enum


class TerminationSource(str, Enum):
    CLI = "cli"
    DASHBOARD = "dashboard"

    def __str__(self) -> str:
        return str(self.value)
