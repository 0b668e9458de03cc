"""The HTTP layer: the Starlette app, its routes, auth, and request checks against ``openapi.yaml``."""
