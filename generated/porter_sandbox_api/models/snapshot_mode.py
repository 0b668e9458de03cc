from enum import Enum


class SnapshotMode(str, Enum):
    FILESYSTEM = "filesystem"
    FULL = "full"

    def __str__(self) -> str:
        return str(self.value)
