"""``KubeClient``: the Kubernetes API as plain JSON, on kubernetes-asyncio's configuration and connections.

Why ``kubernetes-asyncio`` and not the official ``kubernetes`` package: the
server runs on one asyncio event loop, and a cluster runtime holds one open
stream per live sandbox (its log follow) plus one per exec (a websocket) and
a watch. The official client blocks, so each of those would pin a thread of
a pool (as the Docker runtime does with its engine calls); with
kubernetes-asyncio they are coroutines on the server's own loop, and its
websocket exec hands us the raw channel frames, so stdout, stderr and the
exit status stay apart. Its import costs about 0.3 s (aiohttp included),
paid once at start-up and only by ``--runtime kubernetes``.

What we take from it is what is hard to get right: loading a kubeconfig
(contexts, client certificates, exec credential plugins, token refresh) or
the in-cluster service account, and the TLS-configured aiohttp session.
Requests and answers are plain JSON here: its generated models are untyped
and slow to build for every watch event.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

import aiohttp
from kubernetes_asyncio import client as kube_client
from kubernetes_asyncio import config as kube_config

__all__ = ["JSON", "KubeClient", "KubeConfigError", "KubeError", "KubeUnreachable", "SharedClient", "load_client"]

JSON = dict[str, Any]
Query = Sequence[tuple[str, str]] | Mapping[str, str]

#: Where a pod finds its own namespace (the in-cluster service account).
_INCLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
#: How long closing the client waits for its TLS connections to finish closing (see ``KubeClient.close``).
_TLS_CLOSE_WAIT = 0.25


class KubeError(Exception):
    """The API server answered an error status; ``reason`` is its machine-readable reason (``NotFound``...)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class KubeUnreachable(Exception):
    """The API server could not be reached (refused, reset, timed out)."""


class KubeConfigError(Exception):
    """No usable cluster configuration: no kubeconfig, and not inside a pod."""


def quoted(name: str) -> str:
    """A path segment, escaped."""
    return quote(name, safe="")


class KubeClient:
    """The API server of one cluster, and the namespace this server works in."""

    def __init__(self, api_client: kube_client.ApiClient, namespace: str, source: str) -> None:
        self._api = api_client
        self.namespace = namespace
        #: The API server's URL.
        self.host: str = str(api_client.configuration.host).rstrip("/")
        #: Where the configuration came from, for messages: ``KUBECONFIG=...`` or ``in-cluster``.
        self.source = source

    @property
    def _session(self) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession = self._api.rest_client.pool_manager
        return session

    def namespaced(self, kind: str, name: str | None = None, sub: str | None = None) -> str:
        """The path of a namespaced core/v1 resource: ``/api/v1/namespaces/<ns>/<kind>[/<name>[/<sub>]]``."""
        path = f"/api/v1/namespaces/{quoted(self.namespace)}/{kind}"
        if name is not None:
            path += f"/{quoted(name)}"
        if sub is not None:
            path += f"/{sub}"
        return path

    async def _headers(self, accept: str | None = "application/json") -> dict[str, str]:
        headers: dict[str, str] = {"Accept": accept} if accept else {}
        # Bearer tokens (refreshed by the loader's hook where they expire); client certificates are in the TLS context.
        await self._api.update_params_for_auth(headers, [], ["BearerToken"])
        return headers

    def _url(self, path: str, query: Query | None) -> str:
        if not query:
            return self.host + path
        return f"{self.host}{path}?{urlencode(query)}"

    def unreachable(self, error: BaseException) -> KubeUnreachable:
        """The error for a failed connection, naming the server and where its address came from."""
        detail = str(error) or type(error).__name__
        return KubeUnreachable(f"the Kubernetes API server at {self.host} ({self.source}) is unreachable: {detail}")

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: JSON | None = None,
        timeout: float = 30.0,
    ) -> JSON:
        """One call; answers the JSON object. Raises ``KubeError`` for an error status, ``KubeUnreachable``."""
        headers = await self._headers()
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        try:
            async with self._session.request(
                method,
                self._url(path, query),
                headers=headers,
                data=data,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise self.unreachable(error) from error
        if status >= 400:
            raise _error_of(status, raw)
        answer = json.loads(raw) if raw else {}
        return cast("JSON", answer) if isinstance(answer, dict) else {}

    async def open_stream(
        self, path: str, query: Query, *, read_timeout: float | None = None
    ) -> aiohttp.ClientResponse:
        """A streamed GET (a watch, a log follow); the caller reads it and releases it."""
        headers = await self._headers()
        try:
            response = await self._session.get(
                self._url(path, query),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=None, connect=30, sock_read=read_timeout),
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise self.unreachable(error) from error
        if response.status >= 400:
            try:
                raw = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                raw = b""
            finally:
                response.release()
            raise _error_of(response.status, raw)
        return response

    async def watch(self, path: str, query: Query) -> AsyncIterator[JSON]:
        """The events of a watch (``{"type", "object"}``) until the server ends it. Raises ``KubeUnreachable``."""
        response = await self.open_stream(path, [*_pairs(query), ("watch", "true")])
        try:
            async for line in lines_of(response):
                if line.strip():
                    yield cast("JSON", json.loads(line))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise self.unreachable(error) from error
        finally:
            response.release()

    async def websocket(self, path: str, query: Query) -> aiohttp.ClientWebSocketResponse[bool]:
        """A websocket on a channel subresource (``pods/exec``) speaking ``v4.channel.k8s.io``; the caller closes it."""
        headers = await self._headers(accept=None)  # the upgrade answers 406 to an Accept of JSON
        url = self._url(path, query).replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        try:
            return await self._session.ws_connect(
                url,
                headers=headers,
                protocols=("v4.channel.k8s.io",),
                max_msg_size=0,
                timeout=aiohttp.ClientWSTimeout(ws_close=10),
            )
        except aiohttp.WSServerHandshakeError as error:
            raise KubeError(error.status, "Handshake", error.message) from error
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise self.unreachable(error) from error

    async def close(self) -> None:
        """Close every connection."""
        await self._api.close()
        # aiohttp closes its TLS connections without waiting for them to go (aio-libs/aiohttp#1925): a moment's
        # wait lets them finish, so none is left open when the loop ends.
        await asyncio.sleep(_TLS_CLOSE_WAIT)


def _pairs(query: Query) -> list[tuple[str, str]]:
    return list(query.items()) if isinstance(query, Mapping) else list(query)


def _error_of(status: int, raw: bytes) -> KubeError:
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        return KubeError(status, str(answer.get("reason") or ""), str(answer.get("message") or raw[:200]))
    return KubeError(status, "", raw[:200].decode("utf-8", "replace"))


async def lines_of(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The newline-ended lines of a streamed answer (the last one even without its newline)."""
    partial = b""
    async for chunk in response.content.iter_any():
        pieces = (partial + chunk).split(b"\n")
        partial = pieces.pop()
        for piece in pieces:
            yield piece
    if partial:
        yield partial


async def load_client(namespace: str | None, *, pool_size: int = 4096) -> KubeClient:
    """A client configured from ``KUBECONFIG`` (or ``~/.kube/config``), or in a pod from its service account.

    ``namespace`` ``None`` takes the pod's own namespace in a cluster, else the
    kubeconfig context's, else ``default``. Raises ``KubeConfigError`` when
    neither kind of configuration exists or can be read.
    """
    configuration = kube_client.Configuration()
    kubeconfig = os.environ.get("KUBECONFIG") or ""
    default_file = Path("~/.kube/config").expanduser()
    context_namespace: str | None = None
    try:
        if kubeconfig or (not os.environ.get("KUBERNETES_SERVICE_HOST") and default_file.exists()):
            loader = await kube_config.load_kube_config(
                config_file=kubeconfig or str(default_file),
                client_configuration=configuration,
                persist_config=False,
            )
            context = getattr(loader, "current_context", None) or {}
            context_namespace = (context.get("context") or {}).get("namespace")
            source = f"KUBECONFIG={kubeconfig}" if kubeconfig else str(default_file)
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            kube_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            if _INCLUSTER_NAMESPACE.exists():
                context_namespace = _INCLUSTER_NAMESPACE.read_text().strip() or None
            source = "in-cluster service account"
        else:
            raise KubeConfigError(
                "no Kubernetes configuration: set KUBECONFIG to a kubeconfig file (or create ~/.kube/config), "
                "or run the server inside a pod"
            )
    except kube_config.ConfigException as error:
        raise KubeConfigError(f"the Kubernetes configuration cannot be used: {error}") from error
    except OSError as error:
        raise KubeConfigError(f"the Kubernetes configuration cannot be read: {error}") from error
    configuration.connection_pool_maxsize = pool_size
    api_client = kube_client.ApiClient(configuration)
    return KubeClient(api_client, namespace or context_namespace or "default", source)


class SharedClient:
    """One client, loaded on first use and shared by the runtime and its volume backend."""

    def __init__(self, namespace: str | None) -> None:
        self._namespace = namespace
        self._client: KubeClient | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> KubeClient:
        """The client, loading the configuration the first time. Raises ``KubeConfigError``."""
        async with self._lock:
            if self._client is None:
                self._client = await load_client(self._namespace)
            return self._client

    async def close(self) -> None:
        """Close the client's connections, if it was loaded."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
