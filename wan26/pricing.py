"""List prices per image, and what a request is expected to cost before it is sent.

Prices are the vendors' published figures, each cited where its adapter declares it
(wan26/providers/*.py); the cost a vendor reports after a run, where it reports one, is the figure
that counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from wan26.types import ImageRequest, Mode


@dataclass(frozen=True, slots=True)
class Price:
    per_image_usd: float | None  # None: the vendor publishes no price for this model
    note: str = ""  # where the figure comes from, or what it depends on


@dataclass(frozen=True, slots=True)
class Estimate:
    images: int  # how many images may be billed
    usd: float | None
    at_most: bool  # interleave and image sets bill the images the model chooses to make, up to the number asked
    note: str

    def __str__(self) -> str:
        if self.images <= 0:  # formatted before validation too, when n may still be 0 or negative
            return "no images requested, so nothing to pay"
        if self.usd is None:
            return f"{self.images} image(s); no published price ({self.note})" if self.note else "no published price"
        prefix = "up to " if self.at_most else ""
        return f"{prefix}{self.images} × ${self.usd / self.images:.3f} = ${self.usd:.3f}" + (
            f" ({self.note})" if self.note else ""
        )


def estimate(price: Price, request: ImageRequest) -> Estimate:
    """The expected charge for `request`: images × list price (billing counts successful images)."""
    interleave = request.mode is Mode.INTERLEAVE
    # Clamped: a count not yet validated may be 0 or negative, and a price is never below $0.
    images = max(0, request.max_images if interleave else request.n)
    usd = None if price.per_image_usd is None else round(images * price.per_image_usd, 6)
    # Interleave and image sets bill the images the model chooses to make: up to the number asked.
    return Estimate(images, usd, request.mode in (Mode.INTERLEAVE, Mode.IMAGE_SET), price.note)
