"""Real, decodable PNGs for fake result URLs: fast to make, cached by their arguments."""

from __future__ import annotations

import functools
import io
import random

from PIL import Image, ImageDraw

STRIPE_COLOR = (255, 255, 255)


def _two_colors(seed_or_color: int | str | tuple[int, int, int]) -> tuple[tuple, tuple]:
    if isinstance(seed_or_color, tuple):
        return seed_or_color, tuple(255 - c for c in seed_or_color)
    rng = random.Random(seed_or_color)
    return tuple(rng.randrange(256) for _ in range(3)), tuple(rng.randrange(256) for _ in range(3))


@functools.lru_cache(maxsize=64)
def png_bytes(width: int, height: int, seed_or_color: int | str | tuple[int, int, int] = 0) -> bytes:
    """An RGB PNG (no alpha) of exactly ``width``×``height``: a vertical gradient and a stripe.

    ``seed_or_color`` is an RGB tuple (gradient from it to its inverse) or any hashable
    seed (two colours derived from it). 2048×2048 encodes in about 0.2 s.
    """
    top, bottom = _two_colors(seed_or_color)
    mask = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), mask)
    band = max(1, height // 16)
    ImageDraw.Draw(image).rectangle([0, height // 2 - band, width, height // 2 + band], fill=STRIPE_COLOR)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
