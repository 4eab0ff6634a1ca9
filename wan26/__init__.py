"""wan26: Alibaba's Wan 2.6 and 2.7 Image models from Python, one canonical request for every provider.

from wan26 import ImageRequest, Mode, Model, generate
result = generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse at dawn"))
print(result.images[0].path)
result = generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse at dawn", model=Model.WAN27_PRO, size=SizeTier.K4))
"""

import importlib
import sys

if sys.version_info < (3, 11):  # noqa: UP036 (say so plainly rather than fail on StrEnum)
    raise ImportError("wan26 needs Python 3.11 or newer")

from typing import TYPE_CHECKING

from wan26.errors import (
    AuthenticationError,
    BadRequest,
    ConfigError,
    ConnectionFailed,
    ContentModerated,
    DownloadError,
    InvalidRequest,
    NetworkError,
    PermissionDenied,
    ProtocolError,
    ProviderError,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    TaskNotFound,
    Violation,
    Wan26Error,
)
from wan26.types import (
    Box,
    Event,
    Finished,
    Flow,
    GenerationResult,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    Mode,
    Model,
    PaletteColor,
    Phase,
    Progress,
    SavedImage,
    Size,
    SizeTier,
    TextDelta,
    parse_box,
    parse_palette_color,
    parse_size,
)

# Loaded on first use instead (`__getattr__`): they bring httpx, and `python -m wan26 --help` must start fast.
if TYPE_CHECKING:
    from wan26._http import RetryPolicy, Timeouts
    from wan26._poll import PollPolicy
    from wan26._pool import shared_http_client
    from wan26.client import AsyncClient, fetch_command, generate

__all__ = [
    "AsyncClient",
    "generate",
    "fetch_command",
    "shared_http_client",
    "Timeouts",
    "RetryPolicy",
    "PollPolicy",
    "ImageRequest",
    "Mode",
    "Model",
    "PaletteColor",
    "Box",
    "parse_palette_color",
    "parse_box",
    "Flow",
    "Size",
    "SizeTier",
    "parse_size",
    "GenerationResult",
    "SavedImage",
    "Event",
    "Progress",
    "Phase",
    "TextDelta",
    "ImageOffered",
    "ImageSaved",
    "Finished",
    "Wan26Error",
    "ConfigError",
    "InvalidRequest",
    "Violation",
    "ProviderError",
    "BadRequest",
    "AuthenticationError",
    "PermissionDenied",
    "ContentModerated",
    "RateLimited",
    "ProviderFailure",
    "ProviderTimeout",
    "TaskNotFound",
    "NetworkError",
    "ConnectionFailed",
    "ProtocolError",
    "DownloadError",
]

_LAZY = {
    "RetryPolicy": "wan26._http",
    "Timeouts": "wan26._http",
    "PollPolicy": "wan26._poll",
    "shared_http_client": "wan26._pool",
    "AsyncClient": "wan26.client",
    "fetch_command": "wan26.client",
    "generate": "wan26.client",
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'wan26' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # once loaded, found directly
    return value
