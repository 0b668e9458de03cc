"""The TLS trust of the SDK's connections: httpx's default, loaded before the first ``https://`` request needs it.

httpx reads its certificate bundle (certifi's, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``) when a client is made: about 18 ms, a third of making a
client, and never used by one that talks ``http://`` (a local server, a
cluster's own service). ``LazyTrust.context`` has the settings of httpx's
default context (``ssl.create_default_context``: certificates required, host
names checked, and on Python 3.13 its stricter chain checks) and trusts
nothing until ``load()`` reads the same bundle httpx would; the SDK's
transports call it before each ``https://`` request (a no-op after the
first). A context that trusts nothing refuses every server, so a request
that got past ``load()`` some other way would fail, never go unverified.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading

import httpx

from ._exceptions import ConfigurationError

__all__ = ["LazyTrust"]

_LOAD_LOCK = threading.Lock()


class LazyTrust:
    """A client ``ssl.SSLContext`` as httpx's default (``verify=True``), its certificates loaded on demand."""

    def __init__(self) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
        if sys.version_info >= (3, 13):  # as ssl.create_default_context does from 3.13 on
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:  # as ssl.create_default_context does
            context.keylog_filename = keylog
        self.context = context
        self._loaded = False

    def before(self, request: httpx.Request) -> None:
        """Load the trust before ``request`` if it is the client's first ``https://`` one (a no-op otherwise)."""
        if request.url.scheme == "https":
            self.load()

    def load(self) -> None:
        """Load httpx's default trust into ``context``, once; a bundle that cannot be read is a ``ConfigurationError``."""
        if self._loaded:
            return
        with _LOAD_LOCK:
            if self._loaded:
                return
            cafile = os.environ.get("SSL_CERT_FILE")
            capath = None if cafile else os.environ.get("SSL_CERT_DIR")
            try:
                if cafile or capath:
                    self.context.load_verify_locations(cafile=cafile, capath=capath)
                else:
                    import certifi

                    self.context.load_verify_locations(cafile=certifi.where())
            except (OSError, ssl.SSLError) as error:
                where = f"SSL_CERT_FILE={cafile}" if cafile else f"SSL_CERT_DIR={capath}" if capath else "certifi"
                raise ConfigurationError(
                    f"the certificates to verify https:// servers with cannot be read from {where}: {error}; "
                    "point SSL_CERT_FILE at a PEM bundle, or unset it to use certifi's"
                ) from error
            self._loaded = True
