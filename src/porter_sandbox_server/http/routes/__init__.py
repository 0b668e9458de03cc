"""The routes, one module per part of the API: health, sandboxes, volumes, volume files."""
