"""What runs sandboxes: the interface (``base``) and the runtimes (``process``, ``docker``)."""
