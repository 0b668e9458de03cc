"""Quickstart: create a sandbox, run a command in it, read its logs, terminate it.

Run it against any Sandbox API server, for instance a local one:

    porter-sandbox serve --port 8080 &
    PORTER_SANDBOX_BASE_URL=http://127.0.0.1:8080 python examples/quickstart.py

(`make demo` does all of that for you.)
"""

from __future__ import annotations

import sys

from porter_sandbox import Porter


def main() -> int:
    """Create a sandbox, print what a command in it wrote and its logs, then terminate it."""
    with Porter() as porter:  # reads PORTER_SANDBOX_BASE_URL and PORTER_SANDBOX_API_KEY
        sandbox = porter.sandboxes.create(image="python:3.12-slim", tags={"example": "quickstart"})
        print(f"created sandbox {sandbox.id} ({sandbox.phase})")
        try:
            result = sandbox.exec(["python", "-c", "print('hello from porter')"])
            print(f"exit code {result.exit_code}, stdout: {result.stdout.strip()}")
            for entry in sandbox.logs(limit=20):
                print(f"log {entry.timestamp:%H:%M:%S} {entry.level}: {entry.line}")
        finally:
            sandbox.terminate()
        print(f"terminated sandbox {sandbox.id}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
