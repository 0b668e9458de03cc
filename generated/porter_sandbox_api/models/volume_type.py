from enum import Enum


class VolumeType(str, Enum):
    DISK = "disk"
    OBJECT = "object"

    def __str__(self) -> str:
        return str(self.value)
