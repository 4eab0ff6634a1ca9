"""One pooled HTTP client per vendor and event loop, shared by every run (and visitor) of the app.

Building an `httpx.AsyncClient` builds an SSL context (loading the CA bundle), which cost more CPU
than the rest of a run; a shared client also keeps connections to the vendor open between runs.
"""

from __future__ import annotations

import asyncio
import weakref
from http.cookiejar import Cookie, CookieJar

import httpx

# Generous: a connection per run in flight; the vendor's own cap is enforced in `wan26._lanes`.
_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64)

# Per event loop: a client's connections belong to the loop that opened them.
_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def shared_http_client(vendor: str) -> httpx.AsyncClient:
    """The running loop's client for `vendor`, made on first use and kept open for later runs."""
    clients = _CLIENTS.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(vendor)
    if client is None or client.is_closed:
        client = clients[vendor] = new_http_client()
    return client


def new_http_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    return _CookielessClient(transport=transport, follow_redirects=True, limits=_LIMITS)


class _RefusingJar(CookieJar):
    """A cookie jar nothing can be put in, from a response or by hand."""

    def set_cookie(self, cookie: Cookie) -> None:
        raise TypeError("this client keeps no cookies")


class _IgnoredCookies(httpx.Cookies):
    """Every Set-Cookie is ignored, unread. httpx reads them through urllib's request and email's
    header objects, copying every header of every response: about 25 µs of CPU a response in a
    tight loop (two responses a direct run, several times that with the caches cold between runs),
    for cookies the vendors' APIs do not use."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _CookielessClient(httpx.AsyncClient):
    """A client that keeps no cookies: one shared by several visitors must never hand a cookie set
    for one visitor's key to another's request (the vendors' APIs use none)."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        if cookies:  # nothing to keep is fine (an httpx that sets its own empty jar)
            raise TypeError("this client keeps no cookies")


_NO_COOKIES = _IgnoredCookies(_RefusingJar())  # always empty, so every client can share it
