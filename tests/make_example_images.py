"""Draws the reference images the Edit tab's examples ship with: `python tests/make_example_images.py`.

The project makes them itself, so they are free to ship: flat shapes drawn with Pillow, the same
every time, 512×512 PNG (Wan takes references of at least 240 px a side) and a few KB each. They are
drawn at twice the size and scaled down, which smooths the edges.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

FOLDER = Path(__file__).resolve().parent.parent / "wan26" / "ui" / "examples"
SIDE = 512
SCALE = 2  # drawn at 1024×1024, saved at 512×512
Drawing = Callable[[ImageDraw.ImageDraw], None]


def box(*points: float) -> list[float]:
    """Coordinates given on the 512 grid, drawn on the larger canvas."""
    return [point * SCALE for point in points]


def red_cube(draw: ImageDraw.ImageDraw) -> None:
    """A red cube on a wooden table against a pale wall."""
    draw.rectangle(box(0, 0, 512, 330), fill=(236, 230, 218))
    draw.rectangle(box(0, 330, 512, 512), fill=(168, 112, 66))
    for y in (365, 405, 455):  # the table's grain
        draw.line(box(0, y, 512, y + 6), fill=(146, 94, 52), width=3 * SCALE)
    draw.ellipse(box(150, 395, 390, 430), fill=(120, 78, 44))  # its shadow
    draw.polygon(box(170, 230, 256, 270, 256, 410, 170, 370), fill=(178, 24, 30))  # left face
    draw.polygon(box(256, 270, 342, 230, 342, 370, 256, 410), fill=(214, 40, 44))  # right face
    draw.polygon(box(170, 230, 256, 190, 342, 230, 256, 270), fill=(240, 92, 90))  # top


def cat_at_sunset(draw: ImageDraw.ImageDraw) -> None:
    """A black cat's silhouette sitting on a wall, the sky behind it in sunset bands."""
    bands = [(255, 204, 128), (252, 170, 110), (236, 128, 104), (190, 92, 112), (120, 70, 120)]
    for index, colour in enumerate(bands):
        draw.rectangle(box(0, index * 80, 512, index * 80 + 80), fill=colour)
    draw.ellipse(box(60, 250, 180, 370), fill=(255, 232, 160))  # the sun, low
    draw.rectangle(box(0, 400, 512, 512), fill=(70, 48, 70))  # the wall
    black = (20, 16, 24)
    draw.ellipse(box(220, 230, 360, 410), fill=black)  # body
    draw.ellipse(box(238, 150, 338, 245), fill=black)  # head
    draw.polygon(box(244, 185, 250, 118, 284, 160), fill=black)  # ears
    draw.polygon(box(332, 185, 326, 118, 292, 160), fill=black)
    draw.arc(box(300, 370, 400, 490), start=-130, end=70, fill=black, width=14 * SCALE)  # tail, over the edge


def blue_hat(draw: ImageDraw.ImageDraw) -> None:
    """A blue top hat with a yellow band on a plain light background."""
    draw.rectangle(box(0, 0, 512, 512), fill=(244, 244, 240))
    draw.ellipse(box(120, 380, 392, 420), fill=(214, 214, 208))  # its shadow
    draw.ellipse(box(100, 330, 412, 400), fill=(28, 54, 120))  # brim
    draw.rectangle(box(170, 140, 342, 365), fill=(36, 70, 150))  # crown
    draw.ellipse(box(170, 120, 342, 160), fill=(60, 98, 180))  # its top
    draw.rectangle(box(170, 300, 342, 340), fill=(246, 196, 40))  # band


def house_by_day(draw: ImageDraw.ImageDraw) -> None:
    """A small house with a red roof on a green hill under a clear sky."""
    draw.rectangle(box(0, 0, 512, 512), fill=(150, 200, 240))
    draw.ellipse(box(400, 40, 470, 110), fill=(255, 230, 120))  # sun
    draw.ellipse(box(-200, 340, 712, 760), fill=(96, 170, 80))  # hill
    draw.rectangle(box(170, 250, 350, 390), fill=(240, 226, 196))  # walls
    draw.polygon(box(150, 260, 260, 170, 370, 260), fill=(190, 56, 46))  # roof
    draw.rectangle(box(240, 320, 280, 390), fill=(110, 70, 40))  # door
    for left in (190, 300):
        draw.rectangle(box(left, 280, left + 36, 312), fill=(120, 170, 210))  # windows


IMAGES: dict[str, Drawing] = {
    "red-cube.png": red_cube,
    "cat-at-sunset.png": cat_at_sunset,
    "blue-hat.png": blue_hat,
    "house-by-day.png": house_by_day,
}


def drawn(drawing: Drawing) -> Image.Image:
    canvas = Image.new("RGB", (SIDE * SCALE, SIDE * SCALE), "white")
    drawing(ImageDraw.Draw(canvas))
    return canvas.resize((SIDE, SIDE), Image.Resampling.LANCZOS)


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, drawing in IMAGES.items():
        drawn(drawing).save(FOLDER / name, optimize=True)
        print(f"{name}: {(FOLDER / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
