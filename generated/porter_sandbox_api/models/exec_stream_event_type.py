from enum import Enum


class ExecStreamEventType(str, Enum):
    ERROR = "error"
    EXIT = "exit"
    START = "start"
    STDERR = "stderr"
    STDOUT = "stdout"

    def __str__(self) -> str:
        return str(self.value)
