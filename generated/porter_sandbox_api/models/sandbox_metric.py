from enum import Enum


class SandboxMetric(str, Enum):
    CPU_RESERVED = "cpu_reserved"
    CPU_USAGE = "cpu_usage"
    MEMORY_RESERVED = "memory_reserved"
    MEMORY_USAGE = "memory_usage"
    NETWORK_RX = "network_rx"
    NETWORK_TX = "network_tx"

    def __str__(self) -> str:
        return str(self.value)
