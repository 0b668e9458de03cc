from enum import Enum


class LogStreamEventType(str, Enum):
    END = "end"
    LINE = "line"

    def __str__(self) -> str:
        return str(self.value)
