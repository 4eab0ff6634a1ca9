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
    INTERLEAVE = "interleave"


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
    """Edit-mode sizes picked by total pixels; the shape follows the last reference image."""

    K1 = "1K"
    K2 = "2K"


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
        raise ValueError(f"size must look like 1280x1280 or be 1K/2K, not {text!r}")
    return Size(int(match[1]), int(match[2]))


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

    def settings(self) -> dict[str, object]:
        """What was asked for, as plain JSON values (the images left out: callers say what they need of them)."""
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


@dataclass(frozen=True, slots=True)
class Finished:
    result: GenerationResult


Event: TypeAlias = Progress | TextDelta | ImageOffered | ImageSaved | Finished
