"""Edit's box drawing by clicks, without a browser: a click pair as a line of the typed field, the
preview's pixels taken back to the upright image's (an EXIF-turned JPEG too), clamping, the model's
limit, and which files the preview may open."""

from pathlib import Path

import gradio as gr
import pytest
from gradio import utils as gr_utils
from PIL import Image

from wan26.providers import get_adapter
from wan26.types import Box
from wan26.ui.box_drawing import BoxDrawing, kept_number, picture_token, reference
from wan26.ui.box_marks import box_between, boxes_on, preview_size, to_shown, to_upright, with_box, without_image
from wan26.ui.box_picture import Unpreviewable, preview, upright_size
from wan26.ui.controls import FollowsVendor, Form
from wan26.ui.settings import Settings

DASHSCOPE_27 = ("dashscope", "wan2.7")


def uploaded(name: str) -> Path:
    """A file where Gradio keeps a visitor's uploads (the only place the preview opens files from)."""
    folder = Path(gr_utils.get_upload_folder()) / "box-drawing-tests"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def turned_jpeg(name: str = "turned.jpg") -> Path:
    """Stored 1200×1600 with EXIF orientation 6 (turn 90° clockwise): upright it is 1600×1200. Its
    stored top-left quarter is red; upright, that quarter is the top right."""
    image = Image.new("RGB", (1200, 1600), (20, 20, 200))
    image.paste((230, 20, 20), (0, 0, 600, 800))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = uploaded(name)
    image.save(path, "JPEG", exif=exif.tobytes(), quality=90)
    return path


def test_the_preview_is_at_most_768_px_and_never_enlarged():
    assert preview_size((4000, 3000)) == (768, 576)
    assert preview_size((1200, 1600)) == (576, 768)
    assert preview_size((640, 480)) == (640, 480)
    assert preview_size((20000, 10)) == (768, 1)


def test_a_preview_pixel_is_scaled_back_to_the_upright_images_pixels():
    assert to_upright((0, 0), (4000, 3000)) == (0, 0)
    assert to_upright((383, 287), (4000, 3000)) == (1997, 1497)  # 767 steps of the picture span 4000 px
    assert to_upright((100, 50), (640, 480)) == (100, 50)  # shown at its own size


def test_a_click_is_kept_inside_the_image_and_its_last_pixel_reaches_the_far_edge():
    """Gradio reports a click as a pixel of the picture, x below its width: the last one is the edge."""
    assert to_upright((2000, -5), (4000, 3000)) == (4000, 0)
    assert to_upright((767, 575), (4000, 3000)) == (4000, 3000)
    assert to_upright((767, 101), (8000, 1000)) == (8000, 1000)  # shown 768×96
    assert to_upright((639, 479), (640, 480)) == (640, 480)
    assert to_upright((10**400, -(10**400)), (4000, 3000)) == (4000, 0)
    assert to_shown((8000, 1000), (8000, 1000), (768, 96)) == (767, 95)


def test_two_clicks_make_a_line_with_its_corners_in_order():
    box = box_between(2, (600, 450), (300, 200))
    assert str(box) == "2:300,200,600,450"
    assert str(box_between(1, (300, 450), (600, 200))) == "1:300,200,600,450"
    assert box_between(1, (300, 200), (300, 450)) is None  # no area: no box


def test_the_field_gets_the_line_and_keeps_what_was_typed():
    assert with_box("", Box(2, 1, 2, 3, 4)) == "2:1,2,3,4"
    assert with_box("1:0,0,5,5\n", Box(2, 1, 2, 3, 4)) == "1:0,0,5,5\n2:1,2,3,4"
    typed = "1:0,0,5,5; 2:1,1,9,9\n2:oops\n2:3,3,8,8"
    assert boxes_on(typed, 2) == [Box(2, 1, 1, 9, 9), Box(2, 3, 3, 8, 8)]
    assert without_image(typed, 2) == "1:0,0,5,5\n2:oops"


def test_an_exif_turned_jpeg_is_shown_upright_and_clicked_in_upright_pixels():
    path = turned_jpeg()
    assert upright_size(str(path)) == (1600, 1200)
    picture = preview(str(path), [], None)
    assert picture.size == (768, 576)
    red, blue = picture.getpixel((700, 75)), picture.getpixel((75, 75))
    assert red[0] > 180 and red[2] < 80 and blue[2] > 150 and blue[0] < 80
    assert str(box_between(2, to_upright((96, 72), (1600, 1200)), to_upright((671, 503), (1600, 1200)))) == (
        "2:200,150,1400,1050"
    )


def test_the_boxes_of_the_field_are_drawn_on_the_preview():
    path = uploaded("plain.png")
    Image.new("RGB", (2048, 1024), (128, 128, 128)).save(path)
    picture = preview(str(path), [Box(1, 200, 200, 1000, 800)], (1800, 900))
    assert picture.size == (768, 384)
    assert picture.getpixel((76, 150)) != (128, 128, 128)  # the left edge of the box, at 3/8 scale
    assert picture.getpixel((200, 150)) == (128, 128, 128)  # inside it: outlined, not filled
    assert picture.getpixel((674, 337)) != (128, 128, 128)  # the first corner's mark
    assert picture.getpixel((500, 40)) == (128, 128, 128)


def test_boxes_typed_any_way_round_or_far_past_the_image_are_drawn_on_it():
    path = uploaded("odd.png")
    Image.new("RGB", (400, 300), (128, 128, 128)).save(path)
    odd = [Box(1, 300, 200, 100, 50), Box(1, 5, 5, 5, 5), Box(1, 10, 10, 10**400, 10**400)]
    assert preview(str(path), odd, (10**400, 0)).size == (400, 300)


def test_what_is_not_an_image_or_too_large_is_not_previewed(monkeypatch):
    path = uploaded("notes.png")
    path.write_bytes(b"not an image at all")
    with pytest.raises(Unpreviewable):
        upright_size(str(path))
    big = uploaded("big.png")
    Image.new("L", (3000, 3000)).save(big)
    monkeypatch.setattr("wan26.ui.box_picture.MAX_PREVIEW_PIXELS", 4_000_000)
    with pytest.raises(Unpreviewable):
        preview(str(big), [], None)


def test_only_the_gallerys_files_inside_the_upload_folder_are_opened(tmp_path):
    inside = uploaded("inside.png")
    Image.new("RGB", (64, 64)).save(inside)
    outside = tmp_path / "outside.png"
    Image.new("RGB", (64, 64)).save(outside)
    assert reference([(str(inside), "Image 1")], 1) == str(inside.resolve())
    assert reference([(str(outside), "Image 1")], 1) is None
    assert reference([(str(inside), "Image 1")], 2) is None and reference([], 1) is None
    assert reference([(str(inside.parent / ".." / "x" / ".." / "box-drawing-tests" / "inside.png"), "")], 1)


def test_the_picked_image_follows_the_references():
    assert kept_number(2, 3) == 2 and kept_number(3, 2) == 2 and kept_number(None, 2) == 1
    assert kept_number(1, 0) is None


@pytest.fixture
def drawing(tmp_path):
    vendors = Settings.from_env({"WAN26_OUTPUT_DIR": str(tmp_path), "DASHSCOPE_API_KEY": "sk-test"}).vendors
    return BoxDrawing(Form(vendors, FollowsVendor(vendors), get_adapter("dashscope")), FollowsVendor(vendors))


def click(drawing, refs, number, text, corner, point, choice=DASHSCOPE_27, token=None):
    """A click on the picture the page shows of image `number` (its token sent with it, as the page does)."""
    if token is None:
        path = reference(refs, number)
        token = picture_token(path, preview_size(upright_size(path))) if path else ""
    select = gr.SelectData(None, {"index": list(point), "value": None})
    return drawing.clicked(refs, number, text, corner, True, choice, token, select, None)


def test_two_clicks_on_image_2_add_its_line_in_upright_pixels(drawing):
    refs = [(str(uploaded("first.png")), "Image 1"), (str(turned_jpeg("second.jpg")), "Image 2")]
    Image.new("RGB", (640, 480)).save(refs[0][0])
    text, picture, token, corner, status = click(drawing, refs, 2, "1:0,0,10,10", None, (671, 503))
    assert isinstance(picture, Image.Image) and corner[1] == (1400, 1050) and status == "Click the opposite corner."
    assert token == picture_token(reference(refs, 2), picture.size)
    text, picture, _, corner, status = click(drawing, refs, 2, "1:0,0,10,10", corner, (96, 72))
    assert text == "1:0,0,10,10\n2:200,150,1400,1050" and corner is None
    assert status == "Box 2:200,150,1400,1050 added."


def test_a_third_box_on_an_image_is_refused_with_the_models_limit(drawing):
    refs = [(str(turned_jpeg()), "Image 1")]
    typed = "1:0,0,10,10\n1:20,20,40,40"
    text, _, _, corner, status = click(drawing, refs, 1, typed, None, (10, 10))
    assert text == gr.skip() and corner is None  # the field is left as it is
    assert status.startswith("Image 1 already has 2 boxes, the most this model takes on one image")


def test_a_model_without_boxes_adds_nothing(drawing):
    refs = [(str(turned_jpeg()), "Image 1")]
    _, _, _, corner, _ = click(drawing, refs, 1, "", None, (10, 10), choice=("dashscope", "wan2.6"))
    assert corner is None
    assert drawing.fresh(refs, 1, "", True, ("dashscope", "wan2.6"), None) == (None, "", None, "")


def test_a_click_the_page_did_not_make_is_no_click(drawing):
    refs = [(str(turned_jpeg()), "Image 1")]
    for index in (None, "12,3", [1], [float("nan"), 2], ["1", "2"]):
        select = gr.SelectData(None, {"index": index, "value": None})
        _, _, _, corner, _ = drawing.clicked(refs, 1, "", None, True, DASHSCOPE_27, "", select, None)
        assert corner is None
