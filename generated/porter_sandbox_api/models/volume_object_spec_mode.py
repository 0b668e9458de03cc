from enum import Enum


class VolumeObjectSpecMode(str, Enum):
    FILESYSTEM = "filesystem"
    OBJECT = "object"

    def __str__(self) -> str:
        return str(self.value)
