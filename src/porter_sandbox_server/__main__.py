"""``python -m porter_sandbox_server serve ...``: run the local Sandbox API server."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
