"""Turn each reference image into what the API accepts, before anything is sent.

An http(s) URL passes through untouched (it is never fetched). A local image (a path, file bytes
or a PIL image) is checked and, only where a rule demands it, turned upright, flattened onto
white, converted, downscaled or re-encoded; every change is listed in plain words. A file that
already meets every rule is sent as its original bytes.

A local path is read only when it is a regular file of at most `MAX_FILE_BYTES`; a folder, device
(/dev/zero never ends), named pipe (a FIFO blocks until someone writes) or socket is refused
without reading a byte. That cap is a guard against reading something absurd into memory, not the
provider's limit: a file over `ImageRules.max_bytes` (10 MB at DashScope) is still taken and
downscaled or re-encoded to fit, so the cap sits five times above it: big camera files still
get through, only something that is not a plain image file of sane size is refused.

Colours go out only in a mode every decoder reads the same way (RGB or 8-bit grey, see
`_mode_safe_as_is`): CMYK, LAB, HSV and YCbCr become RGB, and 16/32-bit or float grey becomes
8-bit grey scaled to its full range, never clipped to white.
"""

from __future__ import annotations

import base64
import io
import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from wan26.errors import InvalidRequest, Violation
from wan26.types import ImageInput

MAX_FILE_BYTES = 50 * 1024 * 1024
"""The largest local file read at all; see the module docstring for why it is not `max_bytes`."""

# A safety bound, not an API limit: the decoded pixels of a 200-Mpx RGB image already take 600 MB.
# Checked here as well as by Pillow, because host apps often switch Pillow's own guard off.
_MAX_DECODE_PIXELS = 200_000_000

_JPEG_QUALITIES = (95, 90, 85, 80, 75, 70, 65, 60)
_MAX_SHRINK_STEPS = 20  # each step takes at least 5% off a side; real images need one or two
_SHRINK_MARGIN = 0.9  # aim 10% under the byte limit, so shrinking rarely needs a second pass
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # 2+ letters, so "C:\\cat.png" stays a path
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "BMP": "image/bmp", "WEBP": "image/webp"}
_WRITABLE_MODES = {"PNG": {"1", "L", "P", "RGB", "I", "I;16"}, "JPEG": {"L", "RGB"}}
_SAFE_MODES = frozenset({"RGB", "L"})  # read the same by every decoder of every accepted format
# Left as they are by _safe_colours: palette and 1-bit re-encode losslessly, _flatten turns alpha to RGB.
_KEPT_MODES = _SAFE_MODES | {"P", "1", "LA", "La", "PA", "RGBA", "RGBa"}
_GREY_DEPTHS = {"I;16": "16-bit", "I;16L": "16-bit", "I;16B": "16-bit", "I;16N": "16-bit", "I": "32-bit"}
# Open flags that cannot hang or take over a terminal, whatever the path turns out to be.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_NOT_A_FILE = {
    stat.S_ISDIR: "a folder",
    stat.S_ISCHR: "a device",
    stat.S_ISBLK: "a device",
    stat.S_ISFIFO: "a named pipe (FIFO)",
    stat.S_ISSOCK: "a socket",
}
_UNREADABLE = (OSError, ValueError, EOFError, SyntaxError)  # what Pillow raises on a bad file
_URL_ONLY = "this provider takes image URLs only; upload the image somewhere public and pass its https:// URL"
_ANY_FORM = "pass an http(s):// URL, a local file path, image file bytes or a PIL image"


@dataclass(frozen=True, slots=True)
class ImageRules:
    """What a provider accepts for one input image; each provider declares its own.

    The defaults are DashScope's, from its API reference (https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference,
    newer in Chinese: https://help.aliyun.com/zh/model-studio/wan-image-generation-api-reference).
    """

    min_side: int = 240  # [D] the newer docs say [240, 8000] px, older ones [384, 5000]
    max_side: int = 8000
    max_bytes: int = 10 * 1024 * 1024  # per image file, before base64
    formats: frozenset[str] = frozenset({"JPEG", "PNG", "BMP", "WEBP"})  # PNG without alpha
    accepts_local: bool = True  # False: http(s) URLs only (some resellers)

    def __post_init__(self) -> None:
        if not self.formats & {"PNG", "JPEG"}:
            raise ValueError("ImageRules.formats must include PNG or JPEG, to re-encode images")


DASHSCOPE_IMAGE_RULES = ImageRules()


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """One reference image as it goes on the wire, and what was done to get it there."""

    wire: str  # the http(s) URL unchanged, or "data:image/<type>;base64,..."
    label: str  # file name, the URL, "bytes" or "PIL image"
    width: int | None  # None for URLs, which are never fetched
    height: int | None
    byte_size: int | None  # size of the encoded image sent (before base64)
    adjustments: tuple[str, ...] = ()

    @property
    def mime(self) -> str | None:
        """The MIME type of an inline image; None for a URL."""
        if not self.wire.startswith("data:"):
            return None
        return self.wire[len("data:") : self.wire.index(";")]

    def record(self) -> dict[str, object]:
        """A JSON-able description for a run's record; never the image data itself."""
        facts: dict[str, object] = {"label": self.label}
        if self.mime is None:
            facts["url"] = self.wire
        else:
            facts["mime"] = self.mime
        facts |= {"width": self.width, "height": self.height, "byte_size": self.byte_size}
        return facts | {"adjustments": list(self.adjustments)}


class _Unusable(Exception):
    """This image cannot be sent; the message says why, in words a user can act on."""


def prepare_images(
    sources: Sequence[ImageInput], rules: ImageRules = DASHSCOPE_IMAGE_RULES
) -> tuple[PreparedImage, ...]:
    """Prepare every image in order, or raise one InvalidRequest naming each bad one ("image 2")."""
    if isinstance(sources, str | bytes):
        raise TypeError("prepare_images takes a sequence of images; use prepare_image for one")
    prepared: list[PreparedImage] = []
    violations: list[Violation] = []
    for number, source in enumerate(sources, start=1):
        try:
            prepared.append(prepare_image(source, f"image {number}", rules))
        except InvalidRequest as error:
            violations.extend(error.violations)
    if violations:
        raise InvalidRequest(violations)
    return tuple(prepared)


def prepare_image(source: ImageInput, field: str, rules: ImageRules = DASHSCOPE_IMAGE_RULES) -> PreparedImage:
    """Turn one image into what the API accepts, or raise InvalidRequest naming `field`."""
    try:
        return _prepare(source, rules)
    except _Unusable as problem:
        raise InvalidRequest([Violation(field, str(problem))]) from problem


def _prepare(source: ImageInput, rules: ImageRules) -> PreparedImage:
    if isinstance(source, str) and _SCHEME.match(source):
        return _prepare_url(source, rules)
    if not rules.accepts_local:
        raise _Unusable(_URL_ONLY)
    if isinstance(source, Image.Image):
        return _prepare_decoded(source, "PIL image", rules)
    if isinstance(source, bytes | bytearray):
        return _prepare_encoded(bytes(source), "bytes", rules)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return _prepare_encoded(_read_file(path), path.name, rules)
    kind = type(source).__name__
    raise TypeError(f"an image must be a path, URL, bytes or PIL image, not {kind}")


def is_web_url(text: str) -> bool:
    """An http(s) URL with a host and no spaces: the one reference form passed on untouched."""
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in text)


def _prepare_url(url: str, rules: ImageRules) -> PreparedImage:
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("http", "https"):
        accepted = _ANY_FORM if rules.accepts_local else _URL_ONLY
        raise _Unusable(f"{scheme}: sources are not supported; {accepted}")
    if not urlsplit(url).netloc:
        raise _Unusable(f"{url!r} is not a complete URL")
    return PreparedImage(wire=url, label=url, width=None, height=None, byte_size=None)


def _read_file(path: Path) -> bytes:
    """A regular file's bytes; anything else, or anything over MAX_FILE_BYTES, is refused unread."""
    try:
        _check_regular(os.stat(path), path)  # by name first: merely opening some devices has effects
        with os.fdopen(_open_regular(path), "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # one byte past the cap shows a file that grew
    except FileNotFoundError:
        raise _Unusable(f"file not found: {path.name}") from None  # the name only: the field says which image
    except OSError as error:
        raise _Unusable(f"cannot read {path.name} ({error.strerror or error})") from error
    if len(data) > MAX_FILE_BYTES:
        raise _Unusable(f"grew past the {_size(MAX_FILE_BYTES)} limit for a local image file while being read")
    return data


def _open_regular(path: Path) -> int:
    """A descriptor checked after opening, so a pipe or device swapped in after os.stat is caught too."""
    descriptor = os.open(path, _OPEN_FLAGS)  # O_NONBLOCK: opening a FIFO returns at once, not on a writer
    try:
        _check_regular(os.fstat(descriptor), path)
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(descriptor, True)  # a regular file: reads wait for data as usual
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _check_regular(info: os.stat_result, path: Path) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise _Unusable(f"is {_file_kind(info.st_mode)}, not an image file: {path.name}")
    if info.st_size > MAX_FILE_BYTES:
        raise _Unusable(
            f"is {_size(info.st_size)}, over the {_size(MAX_FILE_BYTES)} limit for a local image file;"
            " save a smaller copy"
        )


def _file_kind(mode: int) -> str:
    for is_kind, kind in _NOT_A_FILE.items():
        if is_kind(mode):
            return kind
    return "a special file"


def _prepare_encoded(data: bytes, label: str, rules: ImageRules) -> PreparedImage:
    """An image file's bytes: checked from the header first, decoded only if that passes."""
    with _pillow_errors():
        image = Image.open(io.BytesIO(data))
    _check_pixel_count(image.size)
    _check_min_side(image.size, image.size, rules)
    with _pillow_errors():
        image.load()
    source_format = _format_of(image)
    if _sendable_as_is(image, source_format, len(data), rules):
        return _prepared(data, source_format, image.size, label, ())
    notes = [f"used the first of {getattr(image, 'n_frames', 2)} frames"] if _is_animated(image) else []
    return _prepare_decoded(image, label, rules, source_format, notes)


def _prepare_decoded(
    image: Image.Image,
    label: str,
    rules: ImageRules,
    source_format: str | None = None,
    notes: list[str] | None = None,
) -> PreparedImage:
    """Fix what the rules demand, in the order that keeps the most quality, then encode."""
    notes = list(notes or ())
    _check_pixel_count(image.size)  # a PIL image may still be lazy, with nothing decoded yet
    with _pillow_errors():
        image.load()
    for step in (_upright, _safe_colours, _flatten):  # colours first: _flatten would clip 16-bit grey
        image = _noted(step(image), notes)
    upright_size = image.size
    image = _noted(_fit_within(image, rules.max_side), notes)
    _check_min_side(upright_size, image.size, rules)
    image, target, data = _encode_within(image, rules, notes)
    if source_format and source_format != target:
        notes.insert(0, f"converted {source_format} to {target}")
    return _prepared(data, target, image.size, label, tuple(notes))


def _noted(result: tuple[Image.Image, str | None], notes: list[str]) -> Image.Image:
    image, note = result
    if note:
        notes.append(note)
    return image


@contextmanager
def _pillow_errors() -> Iterator[None]:
    """Turn Pillow's refusals into a reason a user can act on, keeping the cause."""
    try:
        yield
    except Image.DecompressionBombError as error:
        raise _Unusable(f"refused to decode a possible decompression bomb ({error})") from error
    except UnidentifiedImageError as error:
        raise _Unusable("not a readable image (not a format Pillow recognizes)") from error
    except _UNREADABLE as error:
        raise _Unusable(f"not a readable image ({error})") from error


def _check_pixel_count(size: tuple[int, int]) -> None:
    pixels = size[0] * size[1]
    if pixels > _MAX_DECODE_PIXELS:
        raise _Unusable(
            f"is {_dims(size)} px = {pixels:,} pixels, over the {_MAX_DECODE_PIXELS:,} this client"
            " will decode (it may be a decompression bomb)"
        )


def _check_min_side(original: tuple[int, int], fitted: tuple[int, int], rules: ImageRules) -> None:
    if min(fitted) >= rules.min_side:
        return
    minimum = f"the smallest side must be at least {rules.min_side} px"
    if original == fitted:
        raise _Unusable(f"is {_dims(original)} px; {minimum}")
    raise _Unusable(
        f"is {_dims(original)} px; fitting it within {rules.max_side} px makes it {_dims(fitted)}, and {minimum}"
    )


def _sendable_as_is(image: Image.Image, fmt: str, byte_size: int, rules: ImageRules) -> bool:
    """True when the file already meets every rule, so its exact bytes go out (best fidelity)."""
    return (
        fmt in rules.formats
        and _mode_safe_as_is(image.mode, fmt)
        and not image.has_transparency_data
        and not _is_animated(image)
        and not _needs_turning(image)
        and max(image.size) <= rules.max_side
        and byte_size <= rules.max_bytes
    )


def _mode_safe_as_is(mode: str, fmt: str) -> bool:
    # RGB and 8-bit grey mean the same to every decoder; CMYK, 16-bit grey and the like do not (a CMYK
    # JPEG often comes out colour-inverted or is refused). A palette or 1-bit PNG is core PNG, which
    # every PNG decoder must expand to exact colours, so re-encoding it would only make it bigger;
    # palette BMPs are rarer in server-side readers and are re-encoded instead.
    return mode in _SAFE_MODES or (fmt == "PNG" and mode in ("P", "1"))


def _format_of(image: Image.Image) -> str:
    # Many phone cameras write MPO: a plain JPEG followed by extra frames that JPEG readers skip.
    return "JPEG" if image.format == "MPO" else str(image.format)


def _is_animated(image: Image.Image) -> bool:
    return bool(getattr(image, "is_animated", False)) and image.format != "MPO"


def _needs_turning(image: Image.Image) -> bool:
    return image.getexif().get(ExifTags.Base.Orientation) in range(2, 9)


def _upright(image: Image.Image) -> tuple[Image.Image, str | None]:
    if not _needs_turning(image):
        return image, None
    upright = image.copy()
    ImageOps.exif_transpose(upright, in_place=True)
    return upright, "rotated upright (EXIF)"


def _safe_colours(image: Image.Image) -> tuple[Image.Image, str | None]:
    """Convert a colour mode the API may not take (CMYK, LAB, 16-bit grey...) to RGB or 8-bit grey."""
    if image.mode in _KEPT_MODES:
        return image, None
    if image.mode in _GREY_DEPTHS or image.mode == "F":
        depth = _GREY_DEPTHS.get(image.mode, "floating-point")
        return _to_8bit_grey(image), f"converted {depth} grayscale to 8-bit"
    return _to_rgb(image), f"converted {image.mode} colours to RGB"


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB through the embedded colour profile where that works (true colours), else Pillow's formula."""
    profile = image.info.get("icc_profile")
    rgb = _through_profile(image, profile) if isinstance(profile, bytes) and profile else None
    rgb = rgb if rgb is not None else image.convert("RGB")
    # The old profile describes the old colours; untagged RGB is read as sRGB, which it now is.
    rgb.info = {key: value for key, value in rgb.info.items() if key != "icc_profile"}
    return rgb


def _through_profile(image: Image.Image, profile: bytes) -> Image.Image | None:
    try:
        from PIL import ImageCms  # needs LittleCMS, which a Pillow built from source may lack
    except ImportError:
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken profile, or one for another colour space: the plain conversion will do


def _to_8bit_grey(image: Image.Image) -> Image.Image:
    """8-bit grey scaled from the image's own black and white, so 16-bit mid-grey stays mid-grey."""
    black, white = _grey_range(image)
    scale = 255 / (white - black)
    offset = -black * scale

    def to_8bit(picture: Image.Image) -> Image.Image:
        # Pillow maps 16/32-bit and float images only through a linear function: value * a + b.
        return picture.point(lambda value: value * scale + offset).convert("L")

    grey = to_8bit(image)
    key = image.info.get("transparency")
    if isinstance(key, int | float):  # a PNG's one transparent grey level, moved to the new scale
        grey.info["transparency"] = to_8bit(Image.new(image.mode, (1, 1), key)).getpixel((0, 0))
    return grey


def _grey_range(image: Image.Image) -> tuple[float, float]:
    """The values meaning black and white: the stored format's full scale, else the data's own span."""
    if image.mode.startswith("I;16"):
        return 0, 65535
    low, high = cast(tuple[float, float], image.getextrema())
    for white in (1.0, 255, 65535) if image.mode == "F" else (255, 65535):
        if low >= 0 and high <= white:
            return 0, white
    return low, max(high, low + 1)  # an image of one grey keeps it, instead of dividing by zero


def _flatten(image: Image.Image) -> tuple[Image.Image, str | None]:
    # DashScope takes PNG only without alpha (API reference, see ImageRules), so transparency is composited away.
    if not image.has_transparency_data:
        return image, None
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat, "flattened transparency onto white"


def _fit_within(image: Image.Image, max_side: int) -> tuple[Image.Image, str | None]:
    if max(image.size) <= max_side:
        return image, None
    smaller = _resized(image, max_side / max(image.size))
    return smaller, f"downscaled from {_dims(image.size)} to {_dims(smaller.size)}"


def _resized(image: Image.Image, scale: float) -> Image.Image:
    if image.mode in ("1", "P"):
        image = image.convert("RGB")  # Pillow resizes these modes with NEAREST, ignoring LANCZOS
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode_within(image: Image.Image, rules: ImageRules, notes: list[str]) -> tuple[Image.Image, str, bytes]:
    """The first encoding under max_bytes: PNG, then JPEG of falling quality, then smaller."""
    attempts = _attempts(rules)
    for target, quality in attempts:
        data = _encode(image, target, quality)
        if len(data) <= rules.max_bytes:
            break
    if (target, quality) != attempts[0]:
        notes.append(f"re-encoded as {_quality(target, quality)} to stay under {_limit(rules)}")
    if len(data) <= rules.max_bytes:
        return image, target, data
    smaller, data = _shrink_until_fits(image, target, quality, len(data), rules)
    resized = f"downscaled from {_dims(image.size)} to {_dims(smaller.size)}"
    notes.append(f"{resized} to stay under {_limit(rules)}")
    return smaller, target, data


def _attempts(rules: ImageRules) -> list[tuple[str, int | None]]:
    lossless: list[tuple[str, int | None]] = [("PNG", None)] if "PNG" in rules.formats else []
    lossy: list[tuple[str, int | None]] = [("JPEG", q) for q in _JPEG_QUALITIES] if "JPEG" in rules.formats else []
    return lossless + lossy


def _shrink_until_fits(
    image: Image.Image, target: str, quality: int | None, byte_size: int, rules: ImageRules
) -> tuple[Image.Image, bytes]:
    scale = 1.0
    for _ in range(_MAX_SHRINK_STEPS):
        # Encoded size grows roughly with pixel count, so each side shrinks by the square root.
        scale *= math.sqrt(_SHRINK_MARGIN * rules.max_bytes / byte_size)
        smaller = _resized(image, scale)  # always from the full image, so blur does not add up
        if min(smaller.size) < rules.min_side:
            break
        data = _encode(smaller, target, quality)
        if len(data) <= rules.max_bytes:
            return smaller, data
        byte_size = len(data)
    raise _Unusable(f"cannot fit under {_limit(rules)} without making a side shorter than {rules.min_side} px")


def _encode(image: Image.Image, target: str, quality: int | None) -> bytes:
    writable = image if image.mode in _WRITABLE_MODES[target] else image.convert("RGB")
    # Keep the colour profile, unless a mode conversion made it describe the wrong colours.
    icc_profile = image.info.get("icc_profile") if writable is image else None
    options = {"quality": quality} if quality is not None else {}
    buffer = io.BytesIO()
    writable.save(buffer, target, icc_profile=icc_profile, **options)
    return buffer.getvalue()


def _prepared(data: bytes, fmt: str, size: tuple[int, int], label: str, adjustments: tuple[str, ...]) -> PreparedImage:
    mime = _MIME.get(fmt, f"image/{fmt.lower()}")
    encoded = base64.b64encode(data).decode("ascii")
    return PreparedImage(
        wire=f"data:{mime};base64,{encoded}",
        label=label,
        width=size[0],
        height=size[1],
        byte_size=len(data),
        adjustments=adjustments,
    )


def _quality(target: str, quality: int | None) -> str:
    return target if quality is None else f"{target} (quality {quality})"


def _limit(rules: ImageRules) -> str:
    return _size(rules.max_bytes)


def _size(byte_count: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if byte_count >= scale:
            value = byte_count / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"  # never "1.2e+03"
    return f"{byte_count} bytes"


def _dims(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"
