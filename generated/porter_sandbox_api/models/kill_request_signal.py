from enum import Enum


class KillRequestSignal(str, Enum):
    SIGCONT = "SIGCONT"
    SIGHUP = "SIGHUP"
    SIGINT = "SIGINT"
    SIGKILL = "SIGKILL"
    SIGQUIT = "SIGQUIT"
    SIGSTOP = "SIGSTOP"
    SIGTERM = "SIGTERM"
    SIGUSR1 = "SIGUSR1"
    SIGUSR2 = "SIGUSR2"

    def __str__(self) -> str:
        return str(self.value)
