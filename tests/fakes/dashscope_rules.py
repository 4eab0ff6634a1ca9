"""What the DashScope fake accepts: request validation and output sizing.

Every rule comes from DashScope's API reference (https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference)
or, for wan2.6-t2i, its t2i reference (https://platform.qianwenai.com/docs/api-reference/image-generation/wan-text-to-image-v2/synchronous).
``parse_job(body)`` turns a request body into a ``Job`` or raises ``ApiError``.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from .wan27_rules import Box, Wan27Options

Mode = Literal["t2i", "edit", "interleave", "set"]  # "set": wan2.7 image sets (dashscope_rules27)

MODEL_T2I = "wan2.6-t2i"
MODEL_IMAGE = "wan2.6-image"
BODY_INVALID = "Required body invalid, please check the request body format."
# The documented error example for n != 1 in interleave mode.
INTERLEAVE_N_MESSAGE = "num_images_per_prompt must be 1"

DEFAULT_N = 4  # n defaults to 4 when absent (both references)
MAX_N = 4
DEFAULT_MAX_IMAGES = 5
MAX_MAX_IMAGES = 5
SEED_MAX = 2_147_483_647
MAX_ASPECT_RATIO = 4  # 1:4 .. 4:1 inclusive
PROMPT_LIMIT: dict[Mode, int] = {"t2i": 2100, "edit": 2000, "interleave": 2000}  # both references
NEGATIVE_PROMPT_LIMIT = 500
INPUT_IMAGE_COUNT: dict[Mode, tuple[int, int]] = {"t2i": (0, 0), "edit": (1, 4), "interleave": (0, 1)}
INPUT_SIDE_RANGE = (240, 8000)  # [D] newer docs; older said [384, 5000]
INPUT_MAX_BYTES = 10 * 1024 * 1024
BOOLEAN_PARAMS = ("prompt_extend", "watermark", "enable_interleave", "stream")
DATA_URI = re.compile(r"data:image/(png|jpeg|jpg|bmp|webp);base64,(.*)", re.DOTALL | re.IGNORECASE)
PIL_FORMAT_BY_MIME = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "bmp": "BMP", "webp": "WEBP"}
SIZE_PATTERN = re.compile(r"(\d+)\*(\d+)")
ONE_K = 1280 * 1280
TWO_K = 2048 * 2048


@dataclass(frozen=True)
class SizeRule:
    min_pixels: int
    max_pixels: int
    presets: dict[str, int] = field(default_factory=dict)  # name -> target total pixels
    also_allowed: frozenset[tuple[int, int]] = frozenset()  # documented sizes outside the pixel range


SIZE_RULES: dict[Mode, SizeRule] = {
    # [D] t2i reference: the minimum is 1280*1280, yet it recommends four sizes just below it; accept
    # exactly those. https://docs.qwencloud.com/api-reference/image-generation/wan-text-to-image-v2/create-task
    "t2i": SizeRule(
        1280 * 1280, 1440 * 1440, also_allowed=frozenset({(1104, 1472), (1472, 1104), (960, 1696), (1696, 960)})
    ),
    "edit": SizeRule(768 * 768, 2048 * 2048, {"1K": ONE_K, "2K": TWO_K}),  # [D] newer docs
    "interleave": SizeRule(768 * 768, 1280 * 1280),
}


class ApiError(Exception):
    """An error the fake answers with: HTTP status plus DashScope ``code``/``message`` (https://www.alibabacloud.com/help/en/model-studio/error-code)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class InputImage:
    value: str
    size: tuple[int, int] | None  # None for http(s) URLs: accepted, never fetched
    boxes: tuple[Box, ...] = ()  # wan2.7 only: this image's bbox_list entry


@dataclass(frozen=True)
class Truncation:
    field: str
    length: int
    limit: int


@dataclass(frozen=True)
class Job:
    """A validated request, with server defaults applied and the output size resolved."""

    model: str
    mode: Mode
    prompt: str
    negative_prompt: str | None
    images: tuple[InputImage, ...]
    n: int
    max_images: int
    size: tuple[int, int]
    seed: int | None
    truncations: tuple[Truncation, ...]
    wan27: Wan27Options | None = None  # the wan2.7 parameters (dashscope_rules27); None for wan2.6


def invalid(param: str, detail: str) -> ApiError:
    return ApiError(400, "InvalidParameter", f"Required parameter({param}) missing or invalid: {detail}")


def parse_job(body: object) -> Job:
    """Validate a generation request body as strictly as the docs allow."""
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidParameter", BODY_INVALID)
    model = _model(body)
    params = _parameters(body)
    _check_booleans(params)
    mode = _mode(model, params)
    text, image_values = _split_content(_single_user_content(body))
    images = tuple(_input_image(value) for value in image_values)
    _check_image_count(mode, images)
    prompt, cut_prompt = _truncate("text", _prompt(text), PROMPT_LIMIT[mode])
    negative, cut_negative = _negative_prompt(params)
    return Job(
        model=model,
        mode=mode,
        prompt=prompt,
        negative_prompt=negative,
        images=images,
        n=_n(mode, params),
        max_images=_max_images(mode, params),
        size=_output_size(mode, params, images),
        seed=_seed(params),
        truncations=cut_prompt + cut_negative,
    )


# ---- envelope --------------------------------------------------------------------------


def _model(body: dict) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model", "a model name string is required")
    if model not in (MODEL_T2I, MODEL_IMAGE):
        raise ApiError(404, "ModelNotFound", "Model can not be found.")
    return model


def _parameters(body: dict) -> dict:
    params = body.get("parameters", {})
    if not isinstance(params, dict):
        raise invalid("parameters", "must be an object")
    return params


def _check_booleans(params: dict) -> None:
    for name in BOOLEAN_PARAMS:
        if name in params and not isinstance(params[name], bool):
            raise invalid(name, "must be a JSON boolean")


def _mode(model: str, params: dict) -> Mode:
    if model == MODEL_T2I:
        return "t2i"  # t2i has no enable_interleave; unknown params are ignored
    return "interleave" if params.get("enable_interleave") else "edit"


# ---- messages and content ---------------------------------------------------------------


def _single_user_content(body: dict) -> list:
    input_ = body.get("input")
    if not isinstance(input_, dict):
        raise invalid("input", "must be an object")
    messages = input_.get("messages")
    if not isinstance(messages, list) or len(messages) != 1:
        raise invalid("input.messages", "exactly one message is required")
    message = messages[0]
    if not isinstance(message, dict) or message.get("role") != "user":
        raise invalid("input.messages[0].role", 'the only message must have role "user"')
    content = message.get("content")
    if not isinstance(content, list) or not content:
        raise invalid("input.messages[0].content", "must be a non-empty list")
    return content


def _split_content(content: list) -> tuple[object, list]:
    texts, images = [], []
    for item in content:
        if not isinstance(item, dict):
            raise invalid("content", "each item must be an object")
        if "type" in item:  # only response items carry "type"
            raise invalid("content", 'request content items must not carry "type"')
        if set(item) == {"text"}:
            texts.append(item["text"])
        elif set(item) == {"image"}:
            images.append(item["image"])
        else:
            raise invalid("content", f'unsupported item keys {sorted(item)}; use {{"text"}} or {{"image"}}')
    if len(texts) != 1:
        raise invalid("text", f"exactly one text item is required, got {len(texts)}")
    return texts[0], images


def _prompt(text: object) -> str:
    if not isinstance(text, str) or not text.strip():  # [U] an empty prompt is assumed to be rejected
        raise invalid("text", "must be a non-empty string")
    return text


def _check_image_count(mode: Mode, images: tuple) -> None:
    low, high = INPUT_IMAGE_COUNT[mode]
    if not low <= len(images) <= high:
        raise invalid("image", f"{mode} mode takes {low}-{high} input images, got {len(images)}")


def _truncate(name: str, text: str, limit: int) -> tuple[str, tuple[Truncation, ...]]:
    if len(text) <= limit:
        return text, ()
    return text[:limit], (Truncation(name, len(text), limit),)  # truncated, not rejected


def _negative_prompt(params: dict) -> tuple[str | None, tuple[Truncation, ...]]:
    if "negative_prompt" not in params:
        return None, ()
    value = params["negative_prompt"]
    if not isinstance(value, str):
        raise invalid("negative_prompt", "must be a string")
    return _truncate("negative_prompt", value, NEGATIVE_PROMPT_LIMIT)


# ---- input images ---------------------------------------------------------------------


def _input_image(value: object, max_bytes: int = INPUT_MAX_BYTES) -> InputImage:
    if not isinstance(value, str):
        raise invalid("image", "must be a string URL or data URI")
    if value.startswith("data:"):
        return InputImage(value, _decode_data_uri(value, max_bytes))
    url = urlsplit(value)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise invalid("image", "must be an http(s) URL or a data:image/...;base64 URI")
    return InputImage(value, None)


def _decode_data_uri(uri: str, max_bytes: int = INPUT_MAX_BYTES) -> tuple[int, int]:
    match = DATA_URI.fullmatch(uri)
    if not match:
        raise invalid("image", "data URI must be data:image/<png|jpeg|jpg|bmp|webp>;base64,<data>")
    try:
        raw = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise invalid("image", "data URI payload is not valid base64") from None
    if len(raw) > max_bytes:
        raise invalid("image", f"image is {len(raw)} bytes, over the {max_bytes // (1024 * 1024)} MB limit")
    return _image_size(raw, PIL_FORMAT_BY_MIME[match.group(1).lower()])


def _image_size(raw: bytes, declared_format: str) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            fmt, size, has_alpha = image.format, image.size, _has_alpha(image)
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise invalid("image", "data URI does not decode to an image") from None
    if fmt != declared_format:  # [U] assumed: the declared MIME type must match the bytes
        raise invalid("image", f"data URI says {declared_format} but the bytes are {fmt}")
    if fmt == "PNG" and has_alpha:
        raise invalid("image", "PNG input must not have an alpha channel")
    _check_sides(size)
    return size


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _check_sides(size: tuple[int, int]) -> None:
    low, high = INPUT_SIDE_RANGE
    if not all(low <= side <= high for side in size):
        raise invalid("image", f"image is {size[0]}x{size[1]}; each side must be in [{low}, {high}]")


# ---- numeric parameters ---------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_param(params: dict, name: str, low: int, high: int, default: int | None) -> int | None:
    if name not in params:
        return default
    value = params[name]
    if not _is_int(value) or not low <= value <= high:
        raise invalid(name, f"must be an integer in [{low}, {high}]")
    return value


def _n(mode: Mode, params: dict) -> int:
    if mode != "interleave":
        return _int_param(params, "n", 1, MAX_N, DEFAULT_N)
    if "n" in params and not (_is_int(params["n"]) and params["n"] == 1):
        raise ApiError(400, "InvalidParameter", INTERLEAVE_N_MESSAGE)
    return 1


def _max_images(mode: Mode, params: dict) -> int:
    if mode != "interleave":
        return DEFAULT_MAX_IMAGES  # interleave only; ignored elsewhere like any unknown parameter
    return _int_param(params, "max_images", 1, MAX_MAX_IMAGES, DEFAULT_MAX_IMAGES)


def _seed(params: dict) -> int | None:
    return _int_param(params, "seed", 0, SEED_MAX, None)


# ---- output size ----------------------------------------------------------------------


def round16(value: float) -> int:
    """Nearest multiple of 16 (half up), at least 16: the model's output grid."""
    return max(16, int(value / 16 + 0.5) * 16)


def scaled_to(total_pixels: int, aspect: float) -> tuple[int, int]:
    return round16(math.sqrt(total_pixels * aspect)), round16(math.sqrt(total_pixels / aspect))


def _last_image_aspect(images: tuple[InputImage, ...]) -> float:
    size = images[-1].size if images else None
    return size[0] / size[1] if size else 1.0  # URLs are never fetched: assume square


def _output_size(mode: Mode, params: dict, images: tuple[InputImage, ...]) -> tuple[int, int]:
    if "size" not in params:
        return _default_size(mode, images)
    size, rule = params["size"], SIZE_RULES[mode]
    if not isinstance(size, str):
        raise invalid("size", 'must be a string such as "1280*1280"')
    if size in rule.presets:  # 1K/2K keep the aspect ratio of the LAST input image
        return scaled_to(rule.presets[size], _last_image_aspect(images))
    width, height = _parse_size(size, mode, rule)
    return round16(width), round16(height)


def _parse_size(size: str, mode: Mode, rule: SizeRule) -> tuple[int, int]:
    match = SIZE_PATTERN.fullmatch(size)
    if not match:
        raise invalid("size", f'{size!r} is not "W*H" (the separator is "*"){_preset_hint(rule)}')
    width, height = int(match.group(1)), int(match.group(2))
    if not rule.min_pixels <= width * height <= rule.max_pixels and (width, height) not in rule.also_allowed:
        bounds = f"[{rule.min_pixels}, {rule.max_pixels}]"
        raise invalid("size", f"{size} has {width * height} pixels; {mode} allows {bounds}")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise invalid("size", f"{size} has an aspect ratio outside 1:4..4:1")
    return width, height


def _preset_hint(rule: SizeRule) -> str:
    return f" or one of {sorted(rule.presets)}" if rule.presets else ""


def _default_size(mode: Mode, images: tuple[InputImage, ...]) -> tuple[int, int]:
    if mode == "edit":
        return scaled_to(ONE_K, _last_image_aspect(images))  # 1K is the default
    if mode == "interleave" and images and images[-1].size:
        return _follow_input(images[-1].size)
    return (1280, 1280)  # t2i default; interleave without a decodable input image


def _follow_input(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    if width * height <= ONE_K:  # inputs up to 1280*1280 keep their size
        return round16(width), round16(height)
    return scaled_to(ONE_K, width / height)
