"""The TLS context of the SDK's connections: httpx's default trust, loaded when the first TLS connection needs it.

httpx reads its certificate bundle (certifi's, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``) when a client is made: about 18 ms, a third of making a
client, and never used by one that talks ``http://`` (a local server, a
cluster's own service). This context holds the same settings as httpx's
(``ssl.create_default_context``: certificates required, host names checked)
and loads the same bundle on its first handshake instead. Until then it
trusts nothing, so nothing can be wrapped before the trust is in place.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any

__all__ = ["lazy_trust_context"]


class _LazyTrustContext(ssl.SSLContext):
    """An ``ssl.SSLContext`` for clients that loads httpx's default trust on its first ``wrap_*``."""

    _loaded = False

    def _load_trust(self) -> None:
        if self._loaded:
            return
        with _LOAD_LOCK:
            if self._loaded:
                return
            cafile = os.environ.get("SSL_CERT_FILE")
            capath = None if cafile else os.environ.get("SSL_CERT_DIR")
            if cafile or capath:
                self.load_verify_locations(cafile=cafile, capath=capath)
            else:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
            self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._load_trust()
        return super().wrap_bio(*args, **kwargs)


_LOAD_LOCK = threading.Lock()


def lazy_trust_context() -> ssl.SSLContext:
    """A client context as httpx's default (``verify=True``), whose certificates load on first use."""
    context = _LazyTrustContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:  # as ssl.create_default_context does
        context.keylog_filename = keylog
    return context
