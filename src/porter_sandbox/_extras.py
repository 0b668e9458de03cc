"""Whether the ``server`` extra is installed, and how to install it from where porter-sandbox itself came from.

``porter-sandbox serve`` and the test kit start the local server, which needs
the ``server`` extra's packages. Without them they say which extra to install,
and how, instead of failing on an import deep inside the server.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from typing import Final
from urllib.parse import unquote, urlparse

__all__ = ["SERVER_MODULES", "missing_server_modules", "server_extra_message"]

SERVER_MODULES: Final = ("porter_sandbox_server", "starlette", "uvicorn", "yaml", "jsonschema")
"""What the local server imports when it starts: its own package and the ``server`` extra's."""

_DISTRIBUTION: Final = "porter-sandbox"


def missing_server_modules() -> list[str]:
    """The modules of :data:`SERVER_MODULES` that cannot be imported here."""
    missing = []
    for module in SERVER_MODULES:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    return missing


def server_extra_message(missing: list[str]) -> str:
    """One line: what is missing and the pip command that installs the ``server`` extra."""
    return (
        f"the local server needs porter-sandbox's 'server' extra (missing: {', '.join(missing)}); "
        f"install it with: {install_command()}"
    )


def install_command() -> str:
    """The pip command that adds the ``server`` extra to this porter-sandbox, from where it was installed."""
    try:
        origin = json.loads(importlib.metadata.distribution(_DISTRIBUTION).read_text("direct_url.json") or "null")
    except (importlib.metadata.PackageNotFoundError, ValueError):
        origin = None
    generic = "pip install 'porter-sandbox[server]' (from a checkout of porter-sandbox: pip install -e '.[server]')"
    if not isinstance(origin, dict) or not isinstance(origin.get("url"), str):
        return generic
    url: str = origin["url"]
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
        commit = vcs.get("requested_revision") or vcs.get("commit_id")
        at = f"@{commit}" if commit else ""
        return f"pip install 'porter-sandbox[server] @ {vcs['vcs']}+{url}{at}'"
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return f"pip install 'porter-sandbox[server] @ {url}'"
    path = unquote(parsed.path)
    dir_info = origin.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        return f"pip install -e '{path}[server]'"
    if isinstance(dir_info, dict):
        return f"pip install '{path}[server]'"
    return f"pip install 'porter-sandbox[server] @ {url}'"
