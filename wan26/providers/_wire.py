"""Small readers and writers every adapter shares: auth headers, optional strings, Retry-After."""

from __future__ import annotations

from collections.abc import Mapping

from wan26.providers._base import Credentials


def bearer(creds: Credentials, *, json_body: bool = True) -> dict[str, str]:
    """Every vendor here authenticates with `Authorization: Bearer <key>` (providers.md §1–4)."""
    headers = {"Authorization": f"Bearer {creds.api_key}"}
    return headers | {"Content-Type": "application/json"} if json_body else headers


def text(value: object) -> str | None:
    """`value` when it is a non-empty string; vendors send null, numbers or "" in the same fields."""
    return value if isinstance(value, str) and value else None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (the headers DashScope's SDK honours; others send
    the second, if anything)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, ValueError):
            continue
    return None
