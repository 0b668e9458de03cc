from enum import Enum


class ProcessStatus(str, Enum):
    EXITED = "exited"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
