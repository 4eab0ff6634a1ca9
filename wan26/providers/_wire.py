"""Small readers and writers every adapter shares: auth headers, optional strings, Retry-After, and
whether an error is about money."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from wan26.providers._base import Credentials, OutputItem


def bearer(creds: Credentials, *, json_body: bool = True) -> dict[str, str]:
    """Every vendor here authenticates with `Authorization: Bearer <key>` (each adapter's docs)."""
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


# Words that mean money, not speed: such a refusal is never retried, whatever its HTTP status. Resellers
# pass upstream codes through, OpenAI's `insufficient_quota` (a 429) among them, so they ask this too.
# https://www.alibabacloud.com/help/en/model-studio/error-code (Arrearage; "Free allocated quota exceeded")
# Whole words (a word may run on, "credits", "arrears"), so "load balancer" is not money; codes in
# camelCase ("insufficientCredits") are split into words first.
_MONEY = re.compile(
    r"\b(balance|credit|billing|payment|arrear(?:age)?|top[ -]?up|recharge|insufficient[ _]quota)s?\b|余额|欠费"
)
# "quota" alone is money unless it comes with throttling words (DashScope's Throttling.RateQuota, above);
# "insufficient" alone is money unless it is about the server's resources or the key's permissions.
_QUOTA, _INSUFFICIENT = re.compile(r"\bquotas?\b"), re.compile(r"\binsufficient\b")
_THROTTLE_WORDS = ("throttl", "rate limit", "rate_limit", "ratelimit", "too many requests")
_NOT_MONEY_WORDS = ("resource", "capacity", "permission", "privilege")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def mentions_billing(*texts: str | None, status: int | None = None) -> bool:
    """Whether a code or message is about money (balance, credit, quota), so waiting will not help.

    Never for a 401 (a key error stays one) or a 5xx (a server failure is retried, whatever it says).
    """
    if status is not None and (status == 401 or status >= 500):
        return False
    lowered = " ".join(_CAMEL.sub(" ", t).lower() for t in texts if t)
    if _MONEY.search(lowered):
        return True
    if _INSUFFICIENT.search(lowered) and not any(word in lowered for word in _NOT_MONEY_WORDS):
        return True
    return bool(_QUOTA.search(lowered)) and not any(word in lowered for word in _THROTTLE_WORDS)


def read_items(
    content: list[object], read: Callable[[object], OutputItem | None], missing: Mapping[str, str]
) -> tuple[list[OutputItem], list[str]]:
    """The entries `read` understands, and a note for each it does not: an output item we cannot
    read is skipped, never a reason to discard the images of a finished, billed run. `missing`
    names, per known type, what such an entry lacked ("image": "url")."""
    read_entries = [(entry, read(entry)) for entry in content]
    items = [item for _, item in read_entries if item is not None]
    return items, [_skipped(entry, missing) for entry, item in read_entries if item is None]


def _skipped(entry: object, missing: Mapping[str, str]) -> str:
    kind = entry.get("type") if isinstance(entry, dict) else None
    if isinstance(kind, str) and kind in missing:
        return f"skipped an output item of type {kind!r} that has no {missing[kind]}"
    if isinstance(kind, str):
        return f"skipped an output item of unknown type {kind!r}"
    return f"skipped an output item it could not read: {entry!r:.80}"
