"""A visitor's box edits while they mark them: which boxes are on which reference, and what the
drawing surface shows. Kept in the session (a gr.State: never sent to the browser). Pure.

Each reference's boxes remember the file they were drawn on: when the references change (one
removed, or their order), boxes whose reference is no longer at the same place are dropped, never
carried over to whatever image took its number."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from wan26.types import Box
from wan26.ui.box_shapes import Rect, SizeWH


@dataclass(frozen=True, slots=True)
class Marked:
    path: str  # the reference the boxes were drawn on
    upright: SizeWH
    boxes: tuple[Rect, ...]


@dataclass(frozen=True, slots=True)
class Showing:
    """The reference on the drawing surface: its number, file, upright and shown sizes."""

    image: int
    path: str
    upright: SizeWH
    shown: SizeWH


@dataclass(frozen=True, slots=True)
class Marks:
    # Never changed in place (a gr.State value must deep-copy, which a read-only mapping cannot).
    by_image: Mapping[int, Marked] = field(default_factory=dict)
    showing: Showing | None = None
    per_image: int = 2  # the model's `boxes_per_image`
    active: bool = True  # the chosen vendor and model take boxes: otherwise none is sent, whatever is marked

    def on(self, image: int) -> tuple[Rect, ...]:
        marked = self.by_image.get(image)
        return marked.boxes if marked is not None else ()

    def with_boxes(self, image: int, path: str, upright: SizeWH, boxes: Sequence[Rect]) -> Marks:
        """These boxes on `image` in place of its earlier ones (none: the image has no boxes)."""
        others = {number: marked for number, marked in self.by_image.items() if number != image}
        if boxes:
            others[image] = Marked(path, upright, tuple(boxes))
        return replace(self, by_image=others)

    def cleared(self) -> Marks:
        return replace(self, by_image={})

    def after_references(self, paths: Sequence[str]) -> tuple[Marks, list[int]]:
        """The marks once the references are `paths`; and the images whose boxes were dropped because
        their reference moved or went."""

        def still(image: int, path: str) -> bool:
            return image <= len(paths) and paths[image - 1] == path

        kept = {image: marked for image, marked in self.by_image.items() if still(image, marked.path)}
        dropped = sorted(set(self.by_image) - set(kept))
        showing = self.showing if self.showing and still(self.showing.image, self.showing.path) else None
        return replace(self, by_image=kept, showing=showing), dropped

    def boxes(self) -> tuple[Box, ...]:
        return tuple(Box(image, *box) for image, marked in sorted(self.by_image.items()) for box in marked.boxes)

    def as_text(self) -> str:
        """What the edit endpoint's `boxes` input takes: one IMAGE:x1,y1,x2,y2 a line (nothing while
        the section is hidden: the marks wait there for a model that takes them)."""
        return "\n".join(str(box) for box in self.boxes()) if self.active else ""
