"""The httpx clients the SDK sends through: httpx's own, without two costs it pays on every request.

- The URL. httpx makes it from the client's ``base_url`` and the relative
  path the generated code passes, parsing the path and then the joined URL
  (about 19 µs, more than anything else the SDK adds to a call). The paths
  of an SDK's calls repeat (a ``refresh()`` loop asks for the same
  ``/v1/sandbox/{id}`` each time), so these clients remember the URL each
  path made with the current ``base_url``; a path not seen yet is joined by
  httpx, as always.
- The cookies. httpx hands every answer to the standard library's cookie
  jar, which copies all its headers into an ``email`` message to look for
  ``Set-Cookie`` (about 7 µs). Here the jar is given only the answers that
  set a cookie; it would have found nothing in the others.

What is sent and kept is what httpx would have sent and kept: only the work
is saved. Both hook into httpx's client (``_merge_url`` and the ``cookies``
property); a test checks that httpx still goes through them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from httpx._types import CookieTypes

__all__ = ["AsyncHTTPClient", "HTTPClient"]

#: At most this many paths' URLs are remembered; past it the memory starts over.
MAX_REMEMBERED_URLS = 1024


class _URLMemory:
    """The URLs httpx made from one base URL and the paths sent with it."""

    __slots__ = ("_made",)

    def __init__(self) -> None:
        # One tuple, replaced whole, so a thread never sees one base's URLs under another base.
        self._made: tuple[httpx.URL | None, dict[str, httpx.URL]] = (None, {})

    def url(self, base: httpx.URL, path: str, merge: Callable[[str], httpx.URL]) -> httpx.URL:
        """The URL of ``path`` under ``base``: remembered, or made by ``merge`` and remembered."""
        made_under, made = self._made
        if made_under is base:
            found = made.get(path)
            if found is not None:
                return found
        else:  # the first request, or base_url was set anew
            made = {}
            self._made = (base, made)
        url = merge(path)
        if len(made) >= MAX_REMEMBERED_URLS:
            made.clear()
        made[path] = url
        return url


class _Cookies(httpx.Cookies):
    """httpx's cookies, which look through an answer only when it sets a cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep the cookies ``response`` sets, if it sets any."""
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


class HTTPClient(httpx.Client):
    """An ``httpx.Client`` that builds the URL of each relative path once and skips answers without cookies."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._urls = _URLMemory()
        self.cookies = self.cookies  # into a _Cookies

    @property
    def cookies(self) -> httpx.Cookies:
        """Cookie values to include when sending requests."""
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: CookieTypes) -> None:
        self._cookies = _Cookies(cookies)

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        if isinstance(url, str):
            return self._urls.url(self.base_url, url, super()._merge_url)
        return super()._merge_url(url)


class AsyncHTTPClient(httpx.AsyncClient):
    """The async twin of :class:`HTTPClient`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._urls = _URLMemory()
        self.cookies = self.cookies

    @property
    def cookies(self) -> httpx.Cookies:
        """Cookie values to include when sending requests."""
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: CookieTypes) -> None:
        self._cookies = _Cookies(cookies)

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        if isinstance(url, str):
            return self._urls.url(self.base_url, url, super()._merge_url)
        return super()._merge_url(url)
