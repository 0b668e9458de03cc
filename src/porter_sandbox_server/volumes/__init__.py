"""Volume backends: where volumes' files live (``base`` is the interface; ``hostdir`` the directories on this host)."""
