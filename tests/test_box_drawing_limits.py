"""Edit's box drawing against what a stranger can send (found by review): a small file of many pixels
is refused from its header before anything is decoded, once; a huge field is read as the run reads it;
boxes follow their images when references move or go; a click on a picture being replaced, on a
closed section, or on an image too large to show; the events are never queued; the pictures kept in
Gradio's cache stay small."""

import io
import json
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import gradio as gr
import pytest
from gradio import utils as gr_utils
from PIL import Image

from wan26.providers import get_adapter
from wan26.types import Box
from wan26.ui import box_picture
from wan26.ui.box_drawing import BoxDrawing, follow_references, picture_token, reference
from wan26.ui.box_marks import boxes_on, preview_size, renumbered, to_upright
from wan26.ui.box_picture import Unpreviewable, preview, upright_size
from wan26.ui.controls import FollowsVendor, Form
from wan26.ui.settings import Settings

DASHSCOPE_27 = ("dashscope", "wan2.7")
ROOT = Path(__file__).resolve().parent.parent


def uploaded(name: str) -> Path:
    folder = Path(gr_utils.get_upload_folder()) / "box-drawing-limits"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def zeros_png(path: Path, width: int, height: int, colour_type: int = 6) -> Path:
    """A PNG of zeros written by hand (the pixels are never held): RGBA by default, 1 byte a channel."""
    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    row, packer = b"\0" * (width * channels + 1), zlib.compressobj(1)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def huge_progressive_jpeg(path: Path, side: int) -> Path:
    """A 64 px progressive JPEG whose header says `side`×`side`: decoding it would set aside the
    coefficients of the whole claimed image (hundreds of MB) before finding the data short."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buffer, "JPEG", progressive=True)
    data = bytearray(buffer.getvalue())
    at = data.find(b"\xff\xc2")  # SOF2: marker, length, precision, then height and width
    data[at + 5 : at + 9] = struct.pack(">HH", side, side)
    path.write_bytes(bytes(data))
    return path


PEAK = """
import json, sys
from wan26.ui import box_picture

def peak():  # kB; VmHWM of this fresh process (ru_maxrss would carry the parent's over fork/exec)
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])

before, said = peak(), []
for path in sys.argv[1:]:
    for ask in (box_picture.upright_size, lambda p: box_picture.preview(p, [], (10, 10))):
        try:
            said.append(str(ask(path)))
        except box_picture.Unpreviewable as error:
            said.append("refused: " + str(error))
print(json.dumps({"grew_mb": (peak() - before) / 1024, "said": said}))
"""


def test_a_small_file_of_many_pixels_is_refused_from_its_header_with_little_memory():
    """A 13000×13000 PNG of ~0.5 MB (Pillow decodes a PNG to find its EXIF) and a progressive JPEG
    claiming 13000×13000: each refused before its pixels are read, in a fresh process."""
    png = zeros_png(uploaded("bomb-13000.png"), 13000, 13000)
    jpeg = huge_progressive_jpeg(uploaded("bomb-13000.jpg"), 13000)
    ran = subprocess.run(
        [sys.executable, "-c", PEAK, str(png), str(jpeg)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    found = json.loads(ran.stdout)
    assert all(said.startswith("refused: 13000×13000 px is too large") for said in found["said"]), found
    assert found["grew_mb"] < 40, found


def test_a_refused_file_and_an_upright_size_are_found_once(monkeypatch):
    """Each click asks for the upright size: the header is read once per file, failures included."""
    big, small = zeros_png(uploaded("over-the-cap.png"), 8000, 7000, 0), uploaded("small.png")
    Image.new("RGB", (640, 480)).save(small)
    opened = []
    real_open = Image.open
    monkeypatch.setattr(box_picture.Image, "open", lambda *args, **kw: opened.append(args[0]) or real_open(*args, **kw))
    for _ in range(3):
        with pytest.raises(Unpreviewable):
            upright_size(str(big))
        assert upright_size(str(small)) == (640, 480)
        preview(str(small), [], None)
    assert opened == [str(big), str(small)]


def test_only_the_formats_references_come_in_are_opened(tmp_path):
    path = uploaded("scan.tiff")
    Image.new("RGB", (64, 64)).save(path, "TIFF")
    with pytest.raises(Unpreviewable):
        preview(str(path), [], None)
    webp = uploaded("photo.webp")
    Image.new("RGB", (64, 48)).save(webp, "WEBP")
    assert preview(str(webp), [], None).size == (64, 48)


def test_the_preview_reads_the_field_as_the_run_does_and_draws_at_most_the_models_boxes():
    many = "1:1,1,5,5\n" * 30_000
    assert len(boxes_on(many, 1)) == 64  # the run reads 64 lines (and refuses more)
    assert len(boxes_on(many, 1, most=2)) == 2
    assert boxes_on("1:1,1,5,5\n" * 64 + "2:1,1,5,5", 2) == []  # past the 64th line: not read
    assert boxes_on("x" * 10_000 + "\n2:1,1,5,5", 2) == []  # past the first 4096 characters: not read


def test_a_redraw_sent_thousands_of_lines_draws_the_models_two(drawing, monkeypatch):
    path = uploaded("lines.png")
    Image.new("RGB", (400, 300)).save(path)
    drawn = []

    def drawing_of(_path, boxes, _corner):
        drawn.append(boxes)
        return Image.new("RGB", (400, 300))

    monkeypatch.setattr("wan26.ui.box_drawing.preview", drawing_of)
    drawing.redrawn([(str(path), "Image 1")], 1, "1:1,1,50,50\n" * 30_000, None, True, DASHSCOPE_27, None)
    assert drawn == [[Box(1, 1, 1, 50, 50)] * 2]


def test_boxes_follow_their_images_when_references_move_or_go():
    field = "1:10,10,20,20\n2:30,30,40,40\n3:1,1,2,2\n9:5,5,6,6\nnot a box"
    moved = "2:10,10,20,20\n1:30,30,40,40\n3:1,1,2,2\n9:5,5,6,6\nnot a box"
    assert renumbered(field, ["a", "b", "c"], ["b", "a", "c"]) == moved  # image 2 moved earlier
    # Image 2 removed: its box goes, image 3's becomes image 2's; a number naming no image stays.
    assert renumbered(field, ["a", "b", "c"], ["a", "c"]) == "1:10,10,20,20\n2:1,1,2,2\n9:5,5,6,6\nnot a box"
    assert renumbered(field, ["a", "b", "c"], ["x", "y"]) == ""  # other references (an example): none left
    assert renumbered("1:1,1,2,2; 2:3,3,4,4", ["a", "b"], ["a", "b", "c"]) == "1:1,1,2,2; 2:3,3,4,4"  # as typed


def test_the_field_follows_the_gallery_from_what_it_last_held():
    refs = [("/up/a.png", "Image 1"), ("/up/b.png", "Image 2")]
    assert follow_references(refs, [], "2:1,1,5,5") == (gr.skip(), ["/up/a.png", "/up/b.png"])
    swapped = [refs[1], refs[0]]
    assert follow_references(swapped, ["/up/a.png", "/up/b.png"], "2:1,1,5,5") == (
        "1:1,1,5,5",
        ["/up/b.png", "/up/a.png"],
    )
    assert follow_references(refs, ["/up/a.png", "/up/b.png"], "2:1,1,5,5")[0] == gr.skip()  # unchanged


@pytest.fixture
def drawing(tmp_path):
    vendors = Settings.from_env({"WAN26_OUTPUT_DIR": str(tmp_path), "DASHSCOPE_API_KEY": "sk-test"}).vendors
    return BoxDrawing(Form(vendors, FollowsVendor(vendors), get_adapter("dashscope")), FollowsVendor(vendors))


def select(point):
    return gr.SelectData(None, {"index": list(point), "value": None})


def test_a_click_on_a_picture_being_replaced_is_not_read_at_the_new_ones_scale(drawing):
    """The page sends the token of the picture it shows: another image's (picked a moment ago, its
    picture not yet shown) makes the click be asked for again, nothing marked or added."""
    wide, tall = uploaded("wide.png"), uploaded("tall.png")
    Image.new("RGB", (1600, 400)).save(wide)
    Image.new("RGB", (400, 1600)).save(tall)
    refs = [(str(wide), "Image 1"), (str(tall), "Image 2")]
    shown_of_1 = picture_token(reference(refs, 1), preview_size((1600, 400)))
    field, picture, token, corner, status = drawing.clicked(
        refs, 2, "", None, True, DASHSCOPE_27, shown_of_1, select((700, 150)), None
    )
    assert (field, picture, token, corner) == (gr.skip(), gr.skip(), gr.skip(), None)
    assert status == "The picture changed as you clicked: click again on the one shown now."
    right = picture_token(reference(refs, 2), preview_size((400, 1600)))
    _, _, _, corner, _ = drawing.clicked(refs, 2, "", None, True, DASHSCOPE_27, right, select((150, 700)), None)
    assert corner[1] == to_upright((150, 700), (400, 1600))


def test_a_click_on_an_image_too_large_to_show_says_so(drawing):
    """60 MP (over the preview's 50, under what a reference may have): no corner, no 'opposite corner'."""
    path = zeros_png(uploaded("sixty.png"), 8000, 7500, 0)
    refs = [(str(path), "Image 1")]
    _, _, _, corner, status = drawing.clicked(refs, 1, "", None, True, DASHSCOPE_27, "", select((10, 10)), None)
    assert corner is None and status.startswith("Image 1 cannot be shown here")


def test_nothing_is_drawn_while_the_section_is_closed(drawing, monkeypatch):
    path = uploaded("closed.png")
    Image.new("RGB", (64, 64)).save(path)
    monkeypatch.setattr("wan26.ui.box_drawing.preview", lambda *_: pytest.fail("decoded while closed"))
    refs = [(str(path), "Image 1")]
    assert drawing.fresh(refs, 1, "", False, DASHSCOPE_27, None) == (None, "", None, "")
    assert drawing.redrawn(refs, 1, "1:1,1,5,5", None, False, DASHSCOPE_27, None) == (None, "")


def test_the_drawing_events_are_not_queued_and_a_click_made_meanwhile_runs_after(tmp_path):
    """Off the queue the runs share; 'always_last': a click made while one is handled is not dropped."""
    from wan26.ui import build_app

    studio = build_app({"DASHSCOPE_API_KEY": "sk-test", "WAN26_OUTPUT_DIR": str(tmp_path / "out")})
    try:
        config = studio.blocks.get_config_file()
        ids = {c["props"].get("elem_id"): c["id"] for c in config["components"]}
        events = [d for d in config["dependencies"] if (ids["edit-draw-preview"], "select") in map(tuple, d["targets"])]
        assert [(d["queue"], d["trigger_mode"]) for d in events] == [(False, "always_last")]
    finally:
        studio.blocks.close()


def test_a_picture_clicked_on_is_kept_small_in_gradios_cache(drawing):
    """Each corner clicked makes a picture Gradio keeps for a day: a detailed one (noise, the worst
    case) stays well under what a 1024 px picture took (526 KB)."""
    path = uploaded("noise.png")
    noise = random.Random(1).randbytes(1600 * 1200 * 3)
    Image.frombytes("RGB", (1600, 1200), noise).save(path)
    with gr.Blocks():
        drawing.build()
    picture = preview(str(path), [], (800, 600))
    kept = drawing.preview.postprocess(picture)
    assert Path(kept.path).stat().st_size < 350_000
