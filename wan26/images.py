"""Turn each reference image into what the API accepts, before anything is sent.

An http(s) URL passes through untouched (it is never fetched). A local image (a path, file bytes
or a PIL image) is checked and, only where a rule demands it, turned upright, flattened onto
white, converted, downscaled or re-encoded; every change is listed in plain words. A file that
already meets every rule is sent as its original bytes.

What has to be re-encoded goes out in the encoding that suits it, chosen before encoding anything:
JPEG for a photo that was a JPEG already (as PNG it would only keep the old JPEG's artefacts, at
five times the size and time), PNG for a lossless source (PNG, GIF, TIFF, a PIL image...) when it
will fit under `ImageRules.max_bytes`, judged from its own file size or from a sample of its rows,
and JPEG when it will not. Pixels are copied as little as Pillow allows: an oversized JPEG is
decoded straight at 1/2, 1/4 or 1/8 scale, and each step's input is freed as soon as it is replaced.
`prepare_images` works on two local images at once, in two threads (Pillow lets go of the GIL
while it decodes, turns and encodes): while one image is fixed and encoded, the next is decoded,
as far as their pixels fit in the memory the largest of them needs alone (`_PixelBudget`), so a
batch never needs more memory than its biggest image would by itself.

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
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
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
_REDUCING_GAP = 3.0  # a big downscale first shrinks by whole factors, faster; Pillow: at 3, no visible loss
_LOSSY = frozenset({"JPEG"})  # sources re-encoded as JPEG: as PNG they would keep the artefacts, 5x larger
_SAMPLE_ROWS, _SAMPLE_EVERY = 16, 16  # a PNG size is guessed from bands of 16 rows, one band in 16
# A PNG written by a fast encoder, or carrying metadata, often comes out a fifth smaller from Pillow:
# within that of the limit, PNG is still tried (and JPEG follows if it does not fit after all).
_PNG_RECOMPRESSION = 0.8
_SIDE_BY_SIDE_BYTES = 64 * 1024 * 1024  # pixels of images this small (16 MP in all) never wait for each other
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
    max_ratio: int | None = None  # longest side / shortest side, where the vendor bounds it

    def __post_init__(self) -> None:
        if not self.formats & {"PNG", "JPEG"}:
            raise ValueError("ImageRules.formats must include PNG or JPEG, to re-encode images")


DASHSCOPE_IMAGE_RULES = ImageRules()
# Wan 2.7: up to 20 MB, sides [240, 8000] px, aspect ratio within 1:8–8:1
# (https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference).
WAN27_IMAGE_RULES = ImageRules(max_bytes=20 * 1024 * 1024, max_ratio=8)


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """One reference image as it goes on the wire, and what was done to get it there."""

    wire: str  # the http(s) URL unchanged, or "data:image/<type>;base64,..."
    label: str  # file name, the URL, "bytes" or "PIL image"
    width: int | None  # None for URLs, which are never fetched
    height: int | None
    byte_size: int | None  # size of the encoded image sent (before base64)
    adjustments: tuple[str, ...] = ()
    # The size a person sees and draws boxes on: upright, before any downscaling (None for URLs).
    upright_size: tuple[int, int] | None = None

    def scale_box(self, corners: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Corners drawn on the upright image, in the pixels of the image sent (it may be smaller)."""
        if self.upright_size is None or self.width is None or self.height is None:
            return corners  # a URL goes as it is: boxes are in its own pixels
        across, down = self.width / self.upright_size[0], self.height / self.upright_size[1]
        x1, y1, x2, y2 = corners
        return (
            math.floor(x1 * across),
            math.floor(y1 * down),
            min(self.width, math.ceil(x2 * across)),
            min(self.height, math.ceil(y2 * down)),
        )

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
    """Prepare every image, two at a time, in order; or raise one InvalidRequest naming each bad one."""
    if isinstance(sources, str | bytes):
        raise TypeError("prepare_images takes a sequence of images; use prepare_image for one")
    numbered = [(source, f"image {number}") for number, source in enumerate(sources, start=1)]
    together = sum(not _is_url(source) for source, _ in numbered) > 1 and (os.cpu_count() or 1) > 1
    outcomes = _in_two_stages(numbered, rules) if together else [_outcome(*item, rules) for item in numbered]
    violations = [v for outcome in outcomes if isinstance(outcome, InvalidRequest) for v in outcome.violations]
    if violations:
        raise InvalidRequest(violations)
    return tuple(outcome for outcome in outcomes if isinstance(outcome, PreparedImage))


def _outcome(source: ImageInput, field: str, rules: ImageRules) -> PreparedImage | InvalidRequest:
    """The prepared image, or the refusal, so one bad image does not hide the others' problems."""
    try:
        return prepare_image(source, field, rules)
    except InvalidRequest as error:
        return error


def _in_two_stages(numbered: list[tuple[ImageInput, str]], rules: ImageRules) -> list[PreparedImage | InvalidRequest]:
    """Read, check and decode each image in this thread while a helper thread fixes and encodes the one before.

    Pillow lets go of the GIL while it decodes and encodes, so the stages run side by side. Each
    stage keeps to one thread because glibc gives every thread its own malloc arena, keeping what
    the thread frees for that thread: a stage reusing its own freed pixels needs no more memory
    than one image at a time does, where two threads doing everything would each keep their own.
    """
    budget = _PixelBudget()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wan26-images") as helper:
        staged = [_first_stage(source, field, rules, budget, helper) for source, field in numbered]
        return [outcome.result() if isinstance(outcome, Future) else outcome for outcome in staged]


def _first_stage(
    source: ImageInput, field: str, rules: ImageRules, budget: _PixelBudget, helper: ThreadPoolExecutor
) -> PreparedImage | InvalidRequest | Future[PreparedImage | InvalidRequest]:
    """Ready or refused here; or decoded, and handed to `helper` to finish."""
    try:
        with _refused_as(field):
            begun = _begun(source, rules, budget)
    except InvalidRequest as error:
        return error
    if isinstance(begun, PreparedImage):
        return begun
    return helper.submit(_second_stage, begun, field, rules)


def _second_stage(work: _Work, field: str, rules: ImageRules) -> PreparedImage | InvalidRequest:
    """Fixed and encoded, in the helper thread; or refused."""
    try:
        with _refused_as(field):
            return _finish(work, rules)
    except InvalidRequest as error:
        return error


def size_problems(sources: Sequence[ImageInput], rules: ImageRules = DASHSCOPE_IMAGE_RULES) -> list[Violation]:
    """Cheap checks of local image files before a run is queued: each one's pixel size, read from
    its header only (no decoding). `prepare_images` checks everything again when the run starts."""
    found = []
    for number, path in enumerate(sources, start=1):
        if not isinstance(path, str | Path) or _is_url(path):
            continue
        try:
            # As stored, not turned upright: these checks do not depend on which side is the width,
            # and finding a PNG's EXIF orientation may mean decoding every pixel (it may follow
            # them: PIL/PngImagePlugin.py, PngImageFile.getexif), gigabytes for a small crafted file.
            with Image.open(path) as image:
                size = image.size
            _check_pixel_count(size)
            fitted = _scaled(size, min(1.0, rules.max_side / max(size)))
            _check_min_side(size, fitted, rules)
            _check_ratio(size, rules)
        except _Unusable as problem:
            found.append(Violation(f"image {number}", str(problem)))
        except (OSError, ValueError, Image.DecompressionBombError):  # UnidentifiedImageError is an OSError
            found.append(Violation(f"image {number}", "is not an image file this app can read"))
    return found


def header_upright_sizes(sources: Sequence[ImageInput]) -> list[tuple[int, int] | None]:
    """Each local image file's size as it looks upright, read without decoding: None for a URL, a
    file that cannot be read or is too big to look into, and a PNG whose EXIF follows its pixels
    (Pillow decodes them all to find it: PIL/PngImagePlugin.py, getexif); the run checks those."""
    return [_header_upright_size(source) for source in sources]


def _header_upright_size(source: ImageInput) -> tuple[int, int] | None:
    if not isinstance(source, str | Path) or _is_url(source):
        return None
    try:
        with Image.open(source) as image:
            _check_pixel_count(image.size)
            if image.format != "PNG":
                return _upright_size(image, image.size)
            # The base class reads what the header holds (an eXIf chunk before the pixels, XMP,
            # ImageMagick's raw profile) without loading the pixels, as PngImageFile's own would.
            orientation = Image.Image.getexif(image).get(ExifTags.Base.Orientation)
            if orientation is None and _png_exif_after_pixels(Path(source)):
                return None
            width, height = image.size
            return (height, width) if orientation in range(5, 9) else (width, height)
    except (_Unusable, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _png_exif_after_pixels(path: Path, most_chunks: int = 100_000) -> bool:
    """Whether the PNG has an eXIf chunk (one not before its pixels, here), walking chunk headers
    only (PNG spec §5.3, https://www.w3.org/TR/png-3/#5Chunk-layout); True, unknown, past `most_chunks`."""
    with path.open("rb") as file:
        file.seek(8)  # the signature
        for _ in range(most_chunks):
            header = file.read(8)
            if len(header) < 8 or header[4:] == b"IEND":
                return False
            if header[4:] == b"eXIf":
                return True
            file.seek(int.from_bytes(header[:4], "big") + 4, os.SEEK_CUR)  # the data and its CRC
    return True


def prepare_image(source: ImageInput, field: str, rules: ImageRules = DASHSCOPE_IMAGE_RULES) -> PreparedImage:
    """Turn one image into what the API accepts, or raise InvalidRequest naming `field`."""
    with _refused_as(field):
        begun = _begun(source, rules, _PixelBudget())
        return begun if isinstance(begun, PreparedImage) else _finish(begun, rules)


@contextmanager
def _refused_as(field: str) -> Iterator[None]:
    """An image that cannot be sent becomes an InvalidRequest naming it, as "image 2"."""
    try:
        yield
    except _Unusable as problem:
        raise InvalidRequest([Violation(field, str(problem))]) from problem


def _begun(source: ImageInput, rules: ImageRules, budget: _PixelBudget) -> PreparedImage | _Work:
    """A URL, or a file sent as it is, ready to go; any other image decoded, for _finish."""
    if _is_url(source):
        return _prepare_url(cast(str, source), rules)
    if not rules.accepts_local:
        raise _Unusable(_URL_ONLY)
    if isinstance(source, Image.Image):
        return _lent(source, rules, budget)
    if isinstance(source, bytes | bytearray):
        return _decoded(bytes(source), "bytes", rules, budget)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return _decoded(_read_file(path), path.name, rules, budget)
    kind = type(source).__name__
    raise TypeError(f"an image must be a path, URL, bytes or PIL image, not {kind}")


def _is_url(source: ImageInput) -> bool:
    return isinstance(source, str) and bool(_SCHEME.match(source))


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


def _decoded(data: bytes, label: str, rules: ImageRules, budget: _PixelBudget) -> PreparedImage | _Work:
    """An image file's bytes: checked from the header first, then decoded only as far as needed."""
    stream = io.BytesIO(data)
    with _pillow_errors():
        image = Image.open(stream)
    _check_pixel_count(image.size)
    _check_min_side(image.size, image.size, rules)
    _check_ratio(image.size, rules)
    source_format, size, byte_size = _format_of(image), image.size, len(data)
    _decode_fitted(image, rules.max_side)  # only an oversized JPEG, which cannot go as it is anyway
    with budget.claim(image) as claim, _pillow_errors():  # a PNG's EXIF may follow its pixels: reading it decodes
        if _sendable_as_is(image, source_format, size, byte_size, rules):
            _check_decodes(image)
            return _prepared(data, source_format, size, label, (), upright_size=size)
        upright_size = _upright_size(image, size)  # as stored: not the size a JPEG draft decodes to
        work = _Work(image, label, upright_size, claim.kept(), True, source_format, byte_size, source_format in _LOSSY)
        work.notes.extend(_frames_note(image))
        image.load()
    del data  # decoded, and not sent as it is: the file's bytes go before the pixels are worked on
    stream.close()
    return work


def _frames_note(image: Image.Image) -> list[str]:
    return [f"used the first of {getattr(image, 'n_frames', 2)} frames"] if _is_animated(image) else []


def _lent(image: Image.Image, rules: ImageRules, budget: _PixelBudget) -> _Work:
    """A PIL image the caller lent: it is read, never changed."""
    _check_pixel_count(image.size)  # a PIL image may still be lazy, with nothing decoded yet
    _check_ratio(image.size, rules)
    with budget.claim(image) as claim, _pillow_errors():
        image.load()
        lossy = _format_of(image) in _LOSSY
        return _Work(image, "PIL image", _upright_size(image, image.size), claim.kept(), False, lossy=lossy)


@dataclass(slots=True)
class _Work:
    """An image on its way to the wire, and what is known of where it came from."""

    image: Image.Image
    label: str
    full_size: tuple[int, int]  # upright, as stored: a JPEG may be decoded smaller (_decode_fitted)
    claim: _Claim
    owned: bool  # decoded here, so its pixels are freed once a step replaces it; a caller's PIL image is not
    source_format: str | None = None  # None for a PIL image: it has no file, and no conversion to report
    source_bytes: int | None = None
    lossy: bool = False  # stored as JPEG: re-encoded as JPEG too
    notes: list[str] = field(default_factory=list)

    def take(self, result: tuple[Image.Image, str | None]) -> None:
        """Carry on with a step's result, freeing at once the pixels it replaces if they are ours."""
        image, note = result
        if image is not self.image:
            self.release()  # Pillow's pixels are C memory: freeing them now lowers the peak, not just later
            self.image, self.owned = image, True
        if note:
            self.notes.append(note)

    def release(self) -> None:
        if self.owned:
            self.image.close()


def _finish(work: _Work, rules: ImageRules) -> PreparedImage:
    """Fix what the rules demand, in the order that keeps the most quality, then encode."""
    try:
        for step in (_upright, _safe_colours, _flatten):  # colours first: _flatten would clip 16-bit grey
            work.take(step(work.image))
        work.take(_fit_within(work.image, rules.max_side, work.full_size))
        work.claim.copied()
        _check_min_side(work.full_size, work.image.size, rules)
        data, target = _encode_within(work, rules)
        size = work.image.size
    finally:
        work.release()
        work.claim.release()  # before base64: the next image may be decoded meanwhile
    if work.source_format and work.source_format != target:
        work.notes.insert(0, f"converted {work.source_format} to {target}")
    return _prepared(data, target, size, work.label, tuple(work.notes), upright_size=work.full_size)


class _PixelBudget:
    """Lets the next image be decoded only while the pixels of all under way fit in what the largest needs.

    Turning or flattening an image needs a second copy of its pixels for a moment, so decoding the
    next photo while the last is turned would need three copies where one at a time needs two. An
    image is let in when its decoded pixels fit beside everything claimed, including the copies
    promised to those under way: so the next photo is decoded while the last is encoded, but
    preparing several never needs more memory than the largest of them would alone.
    """

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.claims: list[_Claim] = []
        self.limit = _SIDE_BY_SIDE_BYTES

    @contextmanager
    def claim(self, image: Image.Image) -> Iterator[_Claim]:
        """Wait for room for `image`; the claim ends on leaving, unless it was kept for _finish."""
        claim = _Claim(self, _pixel_bytes(image), _copy_bytes(image))
        with self.changed:
            self.limit = max(self.limit, claim.pixels + claim.copy)
            self.changed.wait_for(lambda: not self.claims or self.claimed() + claim.pixels <= self.limit)
            self.claims.append(claim)
        try:
            yield claim
        except BaseException:
            claim.release()
            raise
        if not claim.kept_for_finish:
            claim.release()

    def claimed(self) -> int:
        return sum(claim.pixels + claim.copy for claim in self.claims)


@dataclass(eq=False)
class _Claim:
    """One image's share of a _PixelBudget: its decoded pixels, and room for one copy of them."""

    budget: _PixelBudget
    pixels: int
    copy: int
    kept_for_finish: bool = False

    def kept(self) -> _Claim:
        self.kept_for_finish = True
        return self

    def copying(self, size: int) -> None:
        """Another copy of `size` bytes is on its way: the next image waits for room beside it too."""
        self._set_copy(size)

    def copied(self) -> None:
        """The copying steps are done: their room goes back."""
        self._set_copy(0)

    def release(self) -> None:
        with self.budget.changed:
            if self in self.budget.claims:
                self.budget.claims.remove(self)
            self.budget.changed.notify_all()

    def _set_copy(self, size: int) -> None:
        with self.budget.changed:
            self.copy = size
            self.budget.changed.notify_all()


def _pixel_bytes(image: Image.Image) -> int:
    """What Pillow allocates for the decoded pixels: 4 bytes a pixel in most modes, RGB included."""
    per_pixel = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith("I;16") else 4
    return image.width * image.height * per_pixel


def _copy_bytes(image: Image.Image) -> int:
    """Room for the copies the fixing steps hold at once: one, or two to flatten alpha that is not RGBA."""
    copies = 2 if image.has_transparency_data and image.mode != "RGBA" else 1
    return copies * 4 * image.width * image.height


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


def _check_ratio(size: tuple[int, int], rules: ImageRules) -> None:
    """Turning an image does not change its ratio, so the stored size tells."""
    longest, shortest = max(size), max(1, min(size))
    if rules.max_ratio is not None and longest > rules.max_ratio * shortest:
        raise _Unusable(f"is {_dims(size)} px; its sides may differ at most {rules.max_ratio}:1")


def _sendable_as_is(image: Image.Image, fmt: str, size: tuple[int, int], byte_size: int, rules: ImageRules) -> bool:
    """True when the file already meets every rule, so its exact bytes go out (best fidelity)."""
    return (
        fmt in rules.formats
        and _mode_safe_as_is(image.mode, fmt)
        and not image.has_transparency_data
        and not _is_animated(image)
        and max(size) <= rules.max_side  # as stored: `image` may be set to decode smaller
        and byte_size <= rules.max_bytes
        and not _needs_turning(image)  # last: for a PNG this can mean decoding it
    )


def _check_decodes(image: Image.Image) -> None:
    """Decode the whole file once, so a truncated or corrupt one is refused here rather than by the API.

    A JPEG is decoded at 1/8 scale: libjpeg still reads every byte of it, for a fraction of the work.
    """
    image.draft(None, (max(1, image.width // 8), max(1, image.height // 8)))  # other formats ignore it
    image.load()


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


def _orientation(image: Image.Image) -> object:
    return image.getexif().get(ExifTags.Base.Orientation)


def _needs_turning(image: Image.Image) -> bool:
    return _orientation(image) in range(2, 9)


def _upright_size(image: Image.Image, size: tuple[int, int]) -> tuple[int, int]:
    """`size` once `image` is turned upright: EXIF orientations 5 to 8 are quarter turns."""
    width, height = size
    return (height, width) if _orientation(image) in range(5, 9) else (width, height)


def _decode_fitted(image: Image.Image, max_side: int) -> None:
    """Have a JPEG over max_side decoded at 1/2, 1/4 or 1/8 scale, the smallest still above its fitted size.

    libjpeg scales while it decodes: a 200 MP photo then costs a quarter of the time and memory.
    Other formats, and an image already decoded, ignore the draft.
    """
    if max(image.size) > max_side:
        image.draft(None, _scaled(image.size, max_side / max(image.size)))


def _upright(image: Image.Image) -> tuple[Image.Image, str | None]:
    if not _needs_turning(image):
        return image, None
    return ImageOps.exif_transpose(image), "rotated upright (EXIF)"  # a turned copy: the original is not changed


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
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba)  # an RGBA mask means its alpha band, without copying that band out
    return flat, "flattened transparency onto white"


def _fit_within(image: Image.Image, max_side: int, full_size: tuple[int, int]) -> tuple[Image.Image, str | None]:
    """Sized so the longest side of `full_size` becomes max_side; `image` may be decoded smaller already."""
    if max(full_size) <= max_side:
        return image, None
    fitted = _scaled(full_size, max_side / max(full_size))
    return _resized(image, fitted), f"downscaled from {_dims(full_size)} to {_dims(fitted)}"


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image  # a JPEG draft can land on the size exactly
    if image.mode in ("1", "P"):
        image = image.convert("RGB")  # Pillow resizes these modes with NEAREST, ignoring LANCZOS
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _encode_within(work: _Work, rules: ImageRules) -> tuple[bytes, str]:
    """The first encoding under max_bytes, from the one that suits the image, then falling JPEG quality."""
    natural = _natural_encoding(work, rules)
    for target, quality in _attempts(_first_target(work, natural, rules), rules):
        data = _encode(work.image, target, quality)
        if len(data) <= rules.max_bytes:
            break
    size_alone = not work.notes and work.source_format == target  # nothing else asked for re-encoding
    if (target, quality) != natural or size_alone:
        work.notes.append(f"re-encoded as {_quality(target, quality)} to stay under {_limit(rules)}")
    if len(data) <= rules.max_bytes:
        return data, target
    full_size = work.image.size
    work.claim.copying(_pixel_bytes(work.image))  # each smaller copy is at most this big
    smaller, data = _shrink_until_fits(work.image, target, quality, len(data), rules)
    work.take((smaller, f"downscaled from {_dims(full_size)} to {_dims(smaller.size)} to stay under {_limit(rules)}"))
    return data, target


def _natural_encoding(work: _Work, rules: ImageRules) -> tuple[str, int | None]:
    """PNG for a lossless source, so nothing is lost; JPEG for one stored as JPEG, or where PNG is not taken."""
    if "PNG" in rules.formats and not (work.lossy and "JPEG" in rules.formats):
        return "PNG", None
    return "JPEG", _JPEG_QUALITIES[0]


def _first_target(work: _Work, natural: tuple[str, int | None], rules: ImageRules) -> str:
    """The natural encoding, unless it is PNG that will not fit: then JPEG straight away, no PNG tried."""
    if natural[0] == "JPEG" or "JPEG" not in rules.formats or _png_fits(work, rules):
        return natural[0]
    return "JPEG"


def _attempts(first: str, rules: ImageRules) -> list[tuple[str, int | None]]:
    lossless: list[tuple[str, int | None]] = [("PNG", None)] if first == "PNG" else []
    lossy: list[tuple[str, int | None]] = [("JPEG", q) for q in _JPEG_QUALITIES] if "JPEG" in rules.formats else []
    return lossless + lossy


def _png_fits(work: _Work, rules: ImageRules) -> bool:
    """Whether the image will likely fit under max_bytes as PNG, judged without encoding it whole."""
    image = work.image
    if image.width * image.height * len(image.getbands()) <= rules.max_bytes:
        return True  # it would fit even uncompressed
    if work.source_format == "PNG" and work.source_bytes:
        # Already a PNG: its own size, for the pixels that are left, is a guess that costs nothing.
        kept = image.width * image.height / (work.full_size[0] * work.full_size[1])
        return work.source_bytes * kept * _PNG_RECOMPRESSION <= rules.max_bytes
    return _sampled_png_size(image) <= rules.max_bytes


def _sampled_png_size(image: Image.Image) -> int:
    """The PNG size guessed from bands of rows spread over the image: about a sixteenth of the work."""
    tops = range(0, max(1, image.height - _SAMPLE_ROWS + 1), _SAMPLE_ROWS * _SAMPLE_EVERY)
    bands = (image.crop((0, top, image.width, top + _SAMPLE_ROWS)) for top in tops)
    sampled = sum(_png_size(band) for band in bands)
    return sampled * image.height // (len(tops) * _SAMPLE_ROWS)


def _png_size(image: Image.Image) -> int:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", icc_profile=None)  # a colour profile is counted once, not once per band
    return buffer.tell()


def _shrink_until_fits(
    image: Image.Image, target: str, quality: int | None, byte_size: int, rules: ImageRules
) -> tuple[Image.Image, bytes]:
    scale = 1.0
    for _ in range(_MAX_SHRINK_STEPS):
        # Encoded size grows roughly with pixel count, so each side shrinks by the square root.
        scale *= math.sqrt(_SHRINK_MARGIN * rules.max_bytes / byte_size)
        smaller = _resized(image, _scaled(image.size, scale))  # always from the full image, so blur does not add up
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


def _prepared(
    data: bytes,
    fmt: str,
    size: tuple[int, int],
    label: str,
    adjustments: tuple[str, ...],
    upright_size: tuple[int, int],
) -> PreparedImage:
    mime = _MIME.get(fmt, f"image/{fmt.lower()}")
    encoded = base64.b64encode(data).decode("ascii")
    return PreparedImage(
        wire=f"data:{mime};base64,{encoded}",
        label=label,
        width=size[0],
        height=size[1],
        byte_size=len(data),
        adjustments=adjustments,
        upright_size=upright_size,
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
