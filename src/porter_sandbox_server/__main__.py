"""``python -m porter_sandbox_server serve ...``: run the local Sandbox API server."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        from .cli import main
    except ImportError as error:  # the server extra's packages are missing: say which extra, not a traceback
        print(
            f"porter-sandbox: the local server needs porter-sandbox's 'server' extra ({error}); install it into "
            "this environment, e.g. from a checkout: pip install -e '.[server]', or from a built wheel: "
            "pip install 'porter_sandbox-<version>-py3-none-any.whl[server]'",
            file=sys.stderr,
        )
        sys.exit(1)
    sys.exit(main())
