"""A network namespace of its own for each sandbox of the process runtime (see ``stack``)."""
