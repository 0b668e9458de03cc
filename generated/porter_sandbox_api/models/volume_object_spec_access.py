from enum import Enum


class VolumeObjectSpecAccess(str, Enum):
    READ_ONLY = "read_only"
    READ_WRITE = "read_write"
    WRITE_ONLY_NEW_FILES = "write_only_new_files"

    def __str__(self) -> str:
        return str(self.value)
