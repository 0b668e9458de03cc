"""The routes, one module per part of the API: health, sandboxes, snapshots, metrics, volumes, volume files."""
