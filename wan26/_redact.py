"""Keys out of every text a vendor sends back.

A vendor's message may quote the request, key included; such text reaches logs, errors, run.json
and, on a public Space, every visitor's page. So the key in use is masked wherever vendor text
enters a run.
"""

from __future__ import annotations

from typing import TypeVar

from wan26.errors import ProviderError

MASK = "[key hidden]"
_Error = TypeVar("_Error", bound=ProviderError)


def redact(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` masked (an empty secret masks nothing)."""
    return text.replace(secret, MASK) if secret and secret in text else text


def redact_error(error: _Error, secret: str) -> _Error:
    """The same error, with the key masked in each text field it shows or records."""
    error.message = redact(error.message, secret)
    error.hint = None if error.hint is None else redact(error.hint, secret)
    error.code = None if error.code is None else redact(error.code, secret)
    error.args = (error.message,)
    return error
