"""Wan 2.7 Image rules every vendor fake shares: palettes, edit boxes, sizes, counts, token usage.

Vendor-neutral: a broken rule raises ``Refused(field, detail)`` and each fake turns it into its own
error envelope. The rules come from Alibaba's 2.7 pages, cited below by these names:
- ZH-REF: https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference
- QW-OAS: https://platform.qianwenai.com/docs/api-reference/image-generation/wan27-image-gen-edit/create-task
- QW-T2I: https://platform.qianwenai.com/docs/developer-guides/image-generation/text-to-image
Marks: [C] documented, [D] the sources disagree, [U] our reading where nothing is documented.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MODEL_27 = "wan2.7-image"
MODEL_27_PRO = "wan2.7-image-pro"
MODELS_27 = (MODEL_27, MODEL_27_PRO)

PROMPT_LIMIT = 5000  # longer text is truncated (ZH-REF, QW-OAS maxLength 5000) [C]
MAX_INPUT_IMAGES = 9  # 0-9 image items (QW-OAS) [C]
INPUT_MAX_BYTES = 20 * 1024 * 1024  # ZH-REF [C]
INPUT_MAX_RATIO = 8  # input images within 1:8..8:1 (ZH-REF) [C]
SEED_MAX = 2_147_483_647
N_RANGE = {False: (1, 4), True: (1, 12)}  # keyed by image-set mode (ZH-REF) [C]
# [D] the normal-mode default is 1 (ZH-REF) or 4 (QW-OAS, QW-T2I); the fake follows QW-OAS. Sets: 12 [C].
N_DEFAULT = {False: 4, True: 12}
DEFAULT_SIZE = "2K"  # ZH-REF, QW-OAS [C]
TIERS = {"1K": 1024 * 1024, "2K": 2048 * 2048, "4K": 4096 * 4096}  # total pixels (ZH-REF) [C]
MIN_PIXELS = 768 * 768  # W*H bounds (ZH-REF) [C]
MAX_PIXELS = 2048 * 2048
MAX_PIXELS_PRO_T2I = 4096 * 4096  # pro text-to-image only, not sets (ZH-REF) [C]
OUTPUT_MAX_RATIO = 8  # W*H within 1:8..8:1 (ZH-REF) [C]
PALETTE_ITEMS = (3, 10)  # QW-OAS minItems 3, maxItems 10 [C]
MAX_BOXES_PER_IMAGE = 2  # QW-OAS items.maxItems 2 [C]
SIZE_PATTERN = re.compile(r"(\d+)\*(\d+)")
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
RATIO = re.compile(r"(\d{1,3})\.(\d{2})%")  # a string with exactly two decimals, e.g. "25.00%" (ZH-REF) [C]
DATA_URI = re.compile(r"data:image/[a-z]+;base64,(.*)", re.DOTALL | re.IGNORECASE)

Box = tuple[int, int, int, int]
Size = tuple[int, int]


class Refused(ValueError):
    """A request broke a 2.7 rule; ``field`` names the parameter, ``detail`` says how."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


@dataclass(frozen=True)
class Wan27Options:
    """The 2.7-only parameters as the vendor received them (None when left out)."""

    sequential: bool  # image-set mode (enable_sequential / settings.sequential)
    thinking_mode: bool | None
    watermark: bool | None
    color_palette: tuple[tuple[str, str], ...] | None  # (hex, ratio) pairs, in order
    bbox_list: tuple[tuple[Box, ...], ...] | None  # one entry per input image, in order
    size_param: str | None = None  # DashScope's `size` as sent (None: the "2K" default applied)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise Refused(field, "must be a JSON boolean")
    return value


def check_n(value: object, sequential: bool, field: str = "n") -> int:
    """1-4 normally, 1-12 in image-set mode (ZH-REF)."""
    low, high = N_RANGE[sequential]
    if not is_int(value) or not low <= value <= high:  # type: ignore[operator]
        mode = "with enable_sequential" if sequential else "without enable_sequential"
        raise Refused(field, f"must be an integer in [{low}, {high}] {mode}")
    return value  # type: ignore[return-value]


def check_seed(value: object, field: str = "seed") -> int:
    if not is_int(value) or not 0 <= value <= SEED_MAX:  # type: ignore[operator]
        raise Refused(field, f"must be an integer in [0, {SEED_MAX}]")
    return value  # type: ignore[return-value]


def check_palette(value: object, field: str = "color_palette") -> tuple[tuple[str, str], ...]:
    """3-10 items of exactly {hex, ratio}; ratios "NN.NN%", each > 0, summing to exactly 100.00% (ZH-REF, QW-OAS)."""
    low, high = PALETTE_ITEMS
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise Refused(field, f"must be a list of {low}-{high} colours")
    pairs, hundredths = [], 0
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or set(item) != {"hex", "ratio"}:
            raise Refused(where, 'must be exactly {"hex": "#RRGGBB", "ratio": "NN.NN%"}')
        hex_, ratio = item["hex"], item["ratio"]
        if not isinstance(hex_, str) or not HEX_COLOUR.fullmatch(hex_):
            raise Refused(f"{where}.hex", f"{hex_!r} is not # followed by six hex digits")
        match = RATIO.fullmatch(ratio) if isinstance(ratio, str) else None
        if not match:
            raise Refused(f"{where}.ratio", f'{ratio!r} is not a percentage with two decimals, like "25.00%"')
        part = int(match[1]) * 100 + int(match[2])  # integers in hundredths: no float rounding
        if part <= 0:
            raise Refused(f"{where}.ratio", "must be above 0.00%")
        hundredths += part
        pairs.append((hex_, ratio))
    if hundredths != 10000:
        raise Refused(field, f"the ratios add up to {hundredths // 100}.{hundredths % 100:02d}%, not 100.00%")
    return tuple(pairs)


def check_boxes(
    value: object, image_sizes: Sequence[Size | None], field: str = "bbox_list"
) -> tuple[tuple[Box, ...], ...]:
    """One list of <= 2 boxes [x1, y1, x2, y2] per input image, in the image's own pixels (ZH-REF, QW-OAS).

    A box must lie inside its image when the fake knows that image's size (a decoded data URI);
    images given by URL are never fetched, so only the box's own order is checked for them [U].
    """
    if not image_sizes:
        raise Refused(field, "needs at least one input image")
    if not isinstance(value, list) or len(value) != len(image_sizes):
        count = len(value) if isinstance(value, list) else "no list"
        raise Refused(field, f"needs one entry per input image: {len(image_sizes)} images, got {count}")
    entries = []
    for index, (entry, size) in enumerate(zip(value, image_sizes, strict=True)):
        where = f"{field}[{index}]"
        if not isinstance(entry, list) or len(entry) > MAX_BOXES_PER_IMAGE:
            raise Refused(where, f"must be a list of at most {MAX_BOXES_PER_IMAGE} boxes")
        entries.append(tuple(_box(f"{where}[{number}]", box, size) for number, box in enumerate(entry)))
    return tuple(entries)


def _box(where: str, box: object, size: Size | None) -> Box:
    if not isinstance(box, list) or len(box) != 4 or not all(is_int(v) for v in box):
        raise Refused(where, "must be 4 integers [x1, y1, x2, y2]")
    x1, y1, x2, y2 = box
    width, height = size if size else (math.inf, math.inf)
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        inside = f" inside the {size[0]}x{size[1]} image" if size else ""
        raise Refused(where, f"{box} must have 0 <= x1 < x2 and 0 <= y1 < y2{inside}")
    return (x1, y1, x2, y2)


def check_input_ratio(size: Size, field: str = "image") -> None:
    width, height = size
    if max(width, height) > INPUT_MAX_RATIO * min(width, height):
        raise Refused(field, f"image is {width}x{height}; the aspect ratio must be within 1:8..8:1")


def output_size(size: object, *, pro: bool, image_count: int, sequential: bool, last_image: Size | None) -> Size:
    """The size `usage.size` reports (ZH-REF): a tier scales to its total pixels, keeping the LAST
    input image's aspect ratio (square without images, or when the image is a URL the fake never
    fetches [U]); W*H is checked against the pixel and ratio bounds and answered as asked."""
    pro_t2i = pro and image_count == 0 and not sequential
    if not isinstance(size, str):
        raise Refused("size", 'must be a string: "1K", "2K", "4K" or "W*H"')
    if size in TIERS:
        if size == "4K" and not pro_t2i:
            raise Refused("size", "4K is only for wan2.7-image-pro text-to-image without images and not in a set")
        aspect = last_image[0] / last_image[1] if image_count and last_image else 1.0
        return _scaled(TIERS[size], aspect)
    match = SIZE_PATTERN.fullmatch(size)
    if not match:
        raise Refused("size", f'{size!r} is not "1K", "2K", "4K" or "W*H" (the separator is "*")')
    width, height = int(match[1]), int(match[2])
    high = MAX_PIXELS_PRO_T2I if pro_t2i else MAX_PIXELS
    if not MIN_PIXELS <= width * height <= high:
        raise Refused("size", f"{size} has {width * height} pixels; this request allows [{MIN_PIXELS}, {high}]")
    if max(width, height) > OUTPUT_MAX_RATIO * min(width, height):
        raise Refused("size", f"{size} has an aspect ratio outside 1:8..8:1")
    return width, height


def _scaled(total_pixels: int, aspect: float) -> Size:
    """[U] The fake rounds tier sizes to multiples of 16; real outputs need not be (ZH-REF: 2985*1405)."""

    def round16(value: float) -> int:
        return max(16, int(value / 16 + 0.5) * 16)

    return round16(math.sqrt(total_pixels * aspect)), round16(math.sqrt(total_pixels / aspect))


def usage_tokens(image_count: int, prompt: str, images_returned: int) -> tuple[int, int]:
    """Non-zero, unbilled token counts, shaped like ZH-REF's examples (720 / 10867 in; 2 for one image, 11 for four)."""
    return 700 + len(prompt) // 4 + 5000 * image_count, 2 + 3 * max(0, images_returned - 1)


def image_size_of(value: str) -> Size | None:
    """The pixel size of a data URI or raw base64 image; None for URLs, UUIDs or anything unreadable."""
    match = DATA_URI.fullmatch(value)
    payload = match[1] if match else value
    if not match and (value.startswith(("http://", "https://")) or len(value) < 64):
        return None
    try:
        with Image.open(io.BytesIO(base64.b64decode(payload, validate=True))) as image:
            return image.size
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        return None


class CountScript:
    """How many images the next image-set answers return: each takes the next count (the last one
    repeats), capped at the request's n; with no counts a set returns all n images."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def set(self, counts: Sequence[int]) -> None:
        if not all(is_int(count) and count >= 1 for count in counts):
            raise ValueError(f"set counts must be integers >= 1, got {counts!r}")
        self.counts = list(counts)

    def take(self, n: int) -> int:
        if not self.counts:
            return n
        count = self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]
        return min(count, n)
