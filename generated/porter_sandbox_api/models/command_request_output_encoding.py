from enum import Enum


class CommandRequestOutputEncoding(str, Enum):
    BASE64 = "base64"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
