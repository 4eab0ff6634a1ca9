"""wan26: Alibaba's Wan 2.6 Image model from Python, one canonical request for every provider.

from wan26 import ImageRequest, Mode, generate
result = generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse at dawn"))
print(result.images[0].path)
"""

import sys

if sys.version_info < (3, 11):  # noqa: UP036 (say so plainly rather than fail on StrEnum)
    raise ImportError("wan26 needs Python 3.11 or newer")

from wan26._http import RetryPolicy, Timeouts  # noqa: E402
from wan26._poll import PollPolicy  # noqa: E402
from wan26._pool import shared_http_client  # noqa: E402
from wan26.client import AsyncClient, fetch_command, generate  # noqa: E402
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
    Violation,
    Wan26Error,
)
from wan26.types import (
    Event,
    Finished,
    Flow,
    GenerationResult,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    Mode,
    Phase,
    Progress,
    SavedImage,
    Size,
    SizeTier,
    TextDelta,
    parse_size,
)

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
    "NetworkError",
    "ConnectionFailed",
    "ProtocolError",
    "DownloadError",
]
