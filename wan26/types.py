"""The canonical request, result and progress events shared by every provider."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, Union

if TYPE_CHECKING:
    from PIL.Image import Image

ImageInput: TypeAlias = Union[str, "os.PathLike[str]", bytes, "Image"]
"""A reference image: a local path, raw file bytes, a PIL image, or an http(s) URL."""


class Mode(StrEnum):
    TEXT_TO_IMAGE = "text_to_image"
    EDIT = "edit"
    INTERLEAVE = "interleave"  # Wan 2.6 only: text and images in one stream
    IMAGE_SET = "image_set"  # Wan 2.7 only: up to 12 images that belong together, from text or references


class Model(StrEnum):
    """The Wan image model a request is for. Each vendor serves some of them (`ProviderFacts.offers`);
    2.6 is the default, and the only one with interleaved output."""

    WAN26 = "wan2.6"
    WAN27 = "wan2.7"
    WAN27_PRO = "wan2.7-pro"  # 4K in text to image

    @property
    def label(self) -> str:
        """As people write it: "Wan 2.7 Pro"."""
        return _MODEL_LABELS[self]

    @classmethod
    def named(cls, text: str) -> Model:
        """The model `text` names, as a value ("wan2.7-pro") or as people write it ("Wan 2.7 Pro",
        "wan 2.7"); ValueError for any other text."""
        text = text.strip()
        wanted = _squeezed(text) if len(text) <= 40 else ""  # no model's name is longer: a longer text names none
        found = next((model for model in cls if wanted in (_squeezed(model.value), _squeezed(model.label))), None)
        if found is None:
            raise ValueError(f"{text[:40]!r} is not a model")
        return found


_MODEL_LABELS = {Model.WAN26: "Wan 2.6", Model.WAN27: "Wan 2.7", Model.WAN27_PRO: "Wan 2.7 Pro"}


def _squeezed(text: str) -> str:
    return "".join(char for char in text.lower() if char not in " -_")


class ProviderName(StrEnum):
    """The vendors, each with an adapter in `wan26.providers`; named here so that the CLI can list
    them without loading the adapters."""

    DASHSCOPE = "dashscope"
    AIMLAPI = "aimlapi"
    RUNWARE = "runware"
    SHORTAPI = "shortapi"
    VTRIX = "vtrix"


class Flow(StrEnum):
    """How a run reaches the provider."""

    DIRECT = "direct"  # one call that answers with the result (streamed for interleave)
    TASK = "task"  # submit a task, then poll it until it ends


class SizeTier(StrEnum):
    """Sizes picked by total pixels (about 1024², 2048², 4096²); with references the shape follows the
    last one, without them it is square (Wan 2.7). Which tiers a mode offers is in its limits."""

    K1 = "1K"
    K2 = "2K"
    K4 = "4K"


@dataclass(frozen=True, slots=True)
class Size:
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


SizeSpec: TypeAlias = Size | SizeTier | None
"""None means the provider's default: 1K in edit, the input image's size in interleave."""

_SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*[xX*×]\s*(\d+)\s*$")


def parse_size(text: str) -> Size | SizeTier:
    """Read '1280x720', '1280*720' or '1K'/'2K'; raise ValueError for anything else."""
    tier = text.strip().upper()
    if tier in SizeTier.__members__.values():
        return SizeTier(tier)
    match = _SIZE_PATTERN.match(text)
    if not match:
        raise ValueError(f"size must look like 1280x1280 or be 1K/2K/4K, not {text!r}")
    return Size(int(match[1]), int(match[2]))


_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# A minus sign is read, so that a negative share is refused as one ("give more than 0").
_PALETTE_ENTRY = re.compile(r"^\s*(#?[0-9A-Fa-f]{6})\s*:\s*(-?)(\d{1,3}(?:\.\d{1,2})?)\s*%?\s*$")
MAX_BOX_LINES = 64  # boxes the edit endpoint reads: far past any model's limit, enough to name them all
_BOX = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class PaletteColor:
    """One colour of a palette the image should follow, and its share of the image in hundredths of a
    percent (2351 is 23.51 %): the vendors take shares with exactly two decimals that sum to 100.00 %."""

    hex: str  # "#RRGGBB"
    hundredths: int

    @property
    def percent(self) -> str:
        return percent_of(self.hundredths)

    @property
    def is_valid_hex(self) -> bool:
        return bool(_HEX_COLOUR.match(self.hex))

    def __str__(self) -> str:
        return f"{self.hex}:{self.percent}"


def percent_of(hundredths: int) -> str:
    """2351 as "23.51%", -450 as "-4.50%"."""
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{abs(hundredths) // 100}.{abs(hundredths) % 100:02d}%"


def parse_palette_color(text: str) -> PaletteColor:
    """Read '#C2D1E6:23.51' (or '#C2D1E6:25%'); raise ValueError for anything else."""
    match = _PALETTE_ENTRY.match(text)
    if not match:
        raise ValueError(f"a palette colour looks like #C2D1E6:25 (colour:percent), not {text!r}")
    whole, _, fraction = match[3].partition(".")
    hundredths = int(whole) * 100 + int(fraction.ljust(2, "0"))
    return PaletteColor("#" + match[1].lstrip("#").upper(), -hundredths if match[2] else hundredths)


@dataclass(frozen=True, slots=True)
class Box:
    """A region of reference image `image` (1 for the first) to edit, in that image's own pixels as
    it looks upright (after its EXIF rotation): top-left (x1, y1), bottom-right (x2, y2)."""

    image: int
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def corners(self) -> tuple[int, int, int, int]:
        return self.x1, self.y1, self.x2, self.y2

    def __str__(self) -> str:
        return f"{self.image}:{self.x1},{self.y1},{self.x2},{self.y2}"


def box_entries(text: str | None) -> list[str]:
    """The entries of a text of boxes, as the edit endpoint reads it: one a line, or separated by ";"."""
    return [entry.strip() for entry in str(text or "").replace(";", "\n").splitlines() if entry.strip()]


def parse_box(text: str) -> Box:
    """Read 'IMAGE:x1,y1,x2,y2', e.g. '2:989,515,1138,681'; raise ValueError for anything else."""
    match = _BOX.match(text)
    if not match:
        raise ValueError(f"a box looks like 2:989,515,1138,681 (image number:x1,y1,x2,y2), not {text!r}")
    return Box(*(int(part) for part in match.groups()))


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One generation, the same for every provider. Checked by `wan26.limits.check`."""

    mode: Mode
    prompt: str
    negative_prompt: str = ""
    images: tuple[ImageInput, ...] = ()
    size: SizeSpec = None
    n: int = 1
    max_images: int = 5
    seed: int | None = None  # None: a random seed is drawn, sent, and reported back
    prompt_extend: bool = True
    watermark: bool = False
    model: Model = Model.WAN26
    thinking: bool | None = None  # Wan 2.7 text to image: think longer for a better image; None: the vendor's default
    palette: tuple[PaletteColor, ...] = ()  # Wan 2.7, not in image sets: 3–10 colours to follow
    boxes: tuple[Box, ...] = ()  # Wan 2.7 edit: where on the references the edit goes

    def settings(self) -> dict[str, object]:
        """What was asked for, as plain JSON values (the images left out: callers say what they need of them).
        The Wan 2.7 fields appear only when used, so a 2.6 request reads (and hashes, in a batch's
        journal) as it did before they existed."""
        return self._settings_of_2_6() | {
            key: value for key, value in self._settings_of_2_7().items() if value not in (None, [], Model.WAN26.value)
        }

    def _settings_of_2_6(self) -> dict[str, object]:
        return {
            "mode": self.mode.value,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "size": None if self.size is None else str(self.size),
            "n": self.n,
            "max_images": self.max_images,
            "seed": self.seed,
            "prompt_extend": self.prompt_extend,
            "watermark": self.watermark,
        }

    def _settings_of_2_7(self) -> dict[str, object]:
        return {
            "model": self.model.value,
            "thinking": self.thinking,
            "palette": [str(color) for color in self.palette],
            "boxes": [str(box) for box in self.boxes],
        }


class Phase(StrEnum):
    PREPARING = "preparing"
    QUEUED = "queued"  # waiting for the key's turn: the vendor runs only so many jobs at once
    SUBMITTING = "submitting"
    WAITING = "waiting"
    DOWNLOADING = "downloading"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Progress:
    """A run moved on; `task_status` is the provider's raw status while a task is polled."""

    phase: Phase
    message: str
    task_id: str | None = None
    task_status: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of interleaved text, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class SavedImage:
    """A generated image already on disk, exactly the bytes the provider served."""

    index: int  # 1-based position among the run's images
    path: Path
    source_url: str
    width: int
    height: int
    seed: int | None = None  # the seed sent for (or reported with) this image, where there is one


@dataclass(frozen=True, slots=True)
class ImageOffered:
    """The provider made image `index`; it is being saved now. Until then `url` is the only copy
    (it works for about 24 hours), so a run stopped before `ImageSaved` can still show it."""

    index: int
    url: str


@dataclass(frozen=True, slots=True)
class ImageSaved:
    image: SavedImage


@dataclass(frozen=True, slots=True)
class TextSegment:
    text: str


@dataclass(frozen=True, slots=True)
class ImageSegment:
    image_index: int  # 1-based, into GenerationResult.images


Segment: TypeAlias = TextSegment | ImageSegment


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What a finished (or partly finished) run produced, all of it saved under `run_dir`."""

    mode: Mode
    provider: str
    model: str
    images: tuple[SavedImage, ...]
    seed: int | None
    run_dir: Path
    sidecar: Path | None  # run.json; None when even that could not be written (`notes` says why)
    text: str = ""
    segments: tuple[Segment, ...] = ()
    request_id: str | None = None
    task_id: str | None = None
    size: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    cost_usd: float | None = None  # as the provider reported it; None where it reports none
    notes: tuple[str, ...] = ()  # what the user should know: an output item skipped, a record not written
    wan_model: Model = Model.WAN26  # the model asked for; `model` is the id the vendor was sent


@dataclass(frozen=True, slots=True)
class Finished:
    result: GenerationResult


Event: TypeAlias = Progress | TextDelta | ImageOffered | ImageSaved | Finished
