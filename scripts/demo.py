"""`make demo`: start a local server, run examples/quickstart.py against it, stop the server.

The server listens on a free loopback port with a temporary data directory,
both gone when the demo ends. Exits with the example's exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from porter_sandbox.testing import LocalServer, ServerStartError, bubblewrap_available

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "quickstart.py"

UNISOLATED = """\
!!! ------------------------------------------------------------------------ !!!
!!!  bubblewrap is not available here: the demo server runs with             !!!
!!!  --isolation none, so sandbox commands run UNISOLATED, as your own user, !!!
!!!  with your files in reach. Fine for this demo; never run untrusted code  !!!
!!!  that way. Install it (apt-get install bubblewrap) for real isolation.   !!!
!!! ------------------------------------------------------------------------ !!!"""


def main() -> int:
    """Run the quickstart against a fresh local server; answer its exit code."""
    isolation = "bwrap" if bubblewrap_available() else "none"
    if isolation == "none":
        print(UNISOLATED, file=sys.stderr, flush=True)
    try:
        server = LocalServer(isolation=isolation).start()
    except ServerStartError as exc:
        print(f"demo: the local server did not start: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"demo: local server at {server.url} (process runtime, isolation {isolation})", flush=True)
        env = dict(os.environ, PORTER_SANDBOX_BASE_URL=server.url)
        env.pop("PORTER_SANDBOX_API_KEY", None)
        env.pop("PORTER_CLUSTER_ID", None)
        print(f"demo: running {EXAMPLE.relative_to(ROOT)}", flush=True)
        code = subprocess.run([sys.executable, str(EXAMPLE)], env=env, check=False).returncode
        if code != 0:
            print(f"demo: the example failed; the server's log:\n{server.log().strip()}", file=sys.stderr)
    finally:
        server.close()
    print(f"demo: server stopped; the example exited with {code}", flush=True)
    if code == 0:
        print(
            "demo: to keep a server running for your own code: make serve "
            "(or .venv/bin/porter-sandbox serve), then PORTER_SANDBOX_BASE_URL=http://127.0.0.1:8080",
            flush=True,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
