"""Fail loudly on any non-loopback network access, before a packet (or DNS query) leaves.

``install()`` wraps ``socket.socket.connect``, ``socket.socket.connect_ex`` and
``socket.getaddrinfo``; ``uninstall()`` restores them. Loopback means 127.0.0.0/8, ::1
and the name "localhost". AF_UNIX sockets are never blocked.
"""

from __future__ import annotations

import functools
import ipaddress
import socket

LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
_INET_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_originals: dict[str, object] = {}


class NetworkBlocked(RuntimeError):
    """A test tried to reach a non-loopback address. Deliberately not an OSError,
    so client code that retries on connection errors cannot swallow it."""


def is_loopback(host: str | bytes | None) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped, bracketed or scoped) and "localhost"."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str) or not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _check(host: object, what: str) -> None:
    if not is_loopback(host):  # type: ignore[arg-type]
        raise NetworkBlocked(f"network access blocked in tests: {what} to {host!r} (only loopback is allowed)")


def _guard_connect(original):
    @functools.wraps(original)
    def connect(sock: socket.socket, address, *args, **kwargs):
        if sock.family in _INET_FAMILIES:
            _check(address[0], f"{original.__name__}()")
        return original(sock, address, *args, **kwargs)

    return connect


def _guard_getaddrinfo(original):
    @functools.wraps(original)
    def getaddrinfo(host, *args, **kwargs):
        if host is not None:  # None resolves to the local host's passive/loopback address
            _check(host, "getaddrinfo()")
        return original(host, *args, **kwargs)

    return getaddrinfo


def install() -> None:
    """Start blocking. Calling it twice is harmless."""
    if _originals:
        return
    _originals.update(
        connect=socket.socket.connect, connect_ex=socket.socket.connect_ex, getaddrinfo=socket.getaddrinfo
    )
    socket.socket.connect = _guard_connect(_originals["connect"])
    socket.socket.connect_ex = _guard_connect(_originals["connect_ex"])
    socket.getaddrinfo = _guard_getaddrinfo(_originals["getaddrinfo"])


def uninstall() -> None:
    """Restore the real socket functions."""
    if not _originals:
        return
    socket.socket.connect = _originals["connect"]
    socket.socket.connect_ex = _originals["connect_ex"]
    socket.getaddrinfo = _originals["getaddrinfo"]
    _originals.clear()
