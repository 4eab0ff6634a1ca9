"""Box edits' geometry and bookkeeping, without Gradio: painted regions become boxes in the reference's
upright pixels; boxes stay with the reference they were drawn on; the edit endpoint reads them."""

import pytest
from PIL import Image, ImageChops, ImageDraw

from wan26.errors import InvalidRequest
from wan26.types import Box
from wan26.ui.box_marks import Marks, Showing
from wan26.ui.box_shapes import (
    boxes_from_layer,
    layer_of,
    painted_regions,
    preview,
    shown_copy,
    to_upright,
    upright_size,
)
from wan26.ui.inputs import box_list, edit_request

PAINT = (255, 59, 59, 255)


def layer(size, *shapes):
    """A transparent layer with each (kind, xy) painted: "rect" corners inclusive, "line" a 3 px stroke."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for kind, xy in shapes:
        if kind == "rect":
            draw.rectangle(xy, fill=PAINT)
        elif kind == "line":
            draw.line(xy, fill=PAINT, width=3)
        else:
            draw.point(xy, fill=PAINT)
    return image


def close(corners, expected, within):
    return all(abs(a - b) <= within for a, b in zip(corners, expected, strict=True))


def test_each_separate_painted_region_becomes_its_bounding_box_largest_first():
    painted = layer((400, 300), ("rect", (10, 20, 59, 79)), ("rect", (200, 100, 349, 249)))
    assert painted_regions(painted) == [(200, 100, 350, 250), (10, 20, 60, 80)]  # edges: x2, y2 just past


def test_an_outline_is_one_region_and_a_diagonal_touch_joins_two_strokes():
    outline = [(50, 50), (150, 50), (150, 120), (50, 120), (50, 50)]
    assert painted_regions(layer((300, 200), ("line", outline))) == [(49, 49, 152, 122)]
    corner_to_corner = layer((100, 100), ("rect", (10, 10, 19, 19)), ("rect", (20, 20, 29, 29)))
    assert painted_regions(corner_to_corner) == [(10, 10, 30, 30)]
    apart = layer((100, 100), ("rect", (10, 10, 19, 19)), ("rect", (21, 10, 29, 19)))
    assert len(painted_regions(apart)) == 2


def test_regions_shaped_like_a_u_or_a_comb_are_joined_however_their_rows_split():
    u_shape = layer((100, 100), ("rect", (10, 10, 14, 60)), ("rect", (40, 10, 44, 60)), ("rect", (10, 56, 44, 60)))
    assert painted_regions(u_shape) == [(10, 10, 45, 61)]
    comb = layer((100, 100), *[("rect", (x, 10, x + 1, 40)) for x in range(10, 60, 4)], ("rect", (10, 5, 61, 9)))
    assert painted_regions(comb) == [(10, 5, 62, 41)]


def test_specks_and_a_brushs_faint_rim_are_not_areas():
    painted = layer((200, 200), ("rect", (50, 50, 99, 99)), ("point", (5, 5)), ("rect", (150, 150, 152, 152)))
    faint = Image.new("RGBA", (3, 40), (255, 0, 0, 20))  # alpha 20: a soft edge, not paint
    painted.alpha_composite(faint, (10, 100))
    assert painted_regions(painted) == [(50, 50, 100, 100)]
    assert painted_regions(layer((200, 200), ("rect", (150, 150, 153, 153)))) == [(150, 150, 154, 154)]  # 16 px


def test_boxes_scale_from_the_shown_copy_to_the_upright_size_outwards_and_within_the_image():
    assert to_upright((100, 50, 200, 150), (1000, 500), (4000, 2000)) == (400, 200, 800, 600)
    assert to_upright((333, 0, 1000, 500), (1000, 500), (1500, 750)) == (499, 0, 1500, 750)
    assert to_upright((1, 1, 3, 3), (3, 3), (10, 10)) == (3, 3, 10, 10)  # 3.33 → 3, 10.0 → 10
    assert to_upright((1, 1, 2, 2), (3, 3), (10, 10)) == (3, 3, 7, 7)  # 6.67 → 7: a box only grows


def test_at_most_the_limit_of_boxes_the_largest_kept_in_reading_order_and_the_count_of_areas_said():
    painted = layer(
        (400, 400),
        ("rect", (300, 10, 319, 29)),  # 400 px: the smallest
        ("rect", (10, 200, 109, 299)),  # 10000 px
        ("rect", (200, 100, 269, 169)),  # 4900 px
    )
    boxes, found = boxes_from_layer(painted, (800, 800), 2)
    assert found == 3
    assert boxes == [(400, 200, 540, 340), (20, 400, 220, 600)]  # the higher one first


def test_boxes_drawn_back_onto_the_surface_read_back_as_exactly_the_same_boxes():
    upright, shown = (8400, 1200), (1024, 146)
    boxes = [(4200, 300, 4620, 900), (17, 5, 333, 1111)]
    back = layer_of(boxes, upright, shown)
    assert boxes_from_layer(back, upright, 2, boxes)[0] == sorted(boxes, key=lambda b: (b[1], b[0]))
    moved, _ = boxes_from_layer(back, upright, 2, ())  # without them, only as exact as one shown pixel
    assert all(close(old, new, 9) for old, new in zip(sorted(boxes, key=lambda b: (b[1], b[0])), moved, strict=True))


def _turned_photo_with_a_red_patch(path, upright=(2400, 1600), patch=(1500, 300, 1820, 700)):
    """A JPEG stored on its side (EXIF orientation 6: turn 90° clockwise to view); a red patch at
    `patch` when upright (as in test_wan27.py)."""
    image = Image.new("RGB", upright, (30, 90, 200))
    image.paste((230, 20, 20), patch)
    stored = image.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, quality=95, exif=exif.tobytes())
    return patch


def test_a_jpeg_stored_on_its_side_is_shown_upright_and_painting_its_patch_gives_the_patch_in_upright_pixels(
    tmp_path,
):
    photo = tmp_path / "turned.jpg"
    patch = _turned_photo_with_a_red_patch(photo)
    with Image.open(photo) as stored:
        assert stored.size == (1600, 2400) and upright_size(stored) == (2400, 1600)
    shown, upright = shown_copy(photo)
    assert upright == (2400, 1600) and shown.size == (1024, 683)  # upright, and small enough to draw on
    # Paint over the red the visitor sees on the shown copy, exactly as far as it goes.
    red, _, blue = shown.split()
    painted = Image.new("RGBA", shown.size, PAINT)
    painted.putalpha(ImageChops.multiply(red.point(lambda v: 255 * (v > 150)), blue.point(lambda v: 255 * (v < 100))))
    [box], found = boxes_from_layer(painted, upright, 2)
    assert found == 1
    assert close(box, patch, 4), (box, patch)  # within a shown pixel and JPEG's blur


def test_the_preview_outlines_each_box_on_the_shown_copy():
    shown = Image.new("RGB", (500, 250), (0, 0, 0))
    drawn = preview(shown, [(200, 100, 600, 300)], (1000, 500))
    assert drawn.getpixel((100, 75)) != (0, 0, 0) and drawn.getpixel((200, 100)) == (0, 0, 0)  # edge; inside


# ---- which reference the boxes are on ----------------------------------------------------------------


def marked():
    marks = Marks().with_boxes(1, "/up/a.png", (100, 100), [(1, 2, 3, 4)])
    return marks.with_boxes(2, "/up/b.png", (100, 100), [(5, 6, 7, 8), (10, 10, 20, 20)])


def test_the_boxes_are_sent_per_image_in_order_and_as_the_endpoint_reads_them():
    marks = marked()
    assert marks.boxes() == (Box(1, 1, 2, 3, 4), Box(2, 5, 6, 7, 8), Box(2, 10, 10, 20, 20))
    assert box_list(marks.as_text()) == marks.boxes()


def test_boxes_are_dropped_when_their_reference_moves_or_goes_never_given_to_another_image():
    marks = replace_showing(marked(), Showing(2, "/up/b.png", (100, 100), (100, 100)))
    swapped, dropped = marks.after_references(["/up/b.png", "/up/a.png"])
    assert dropped == [1, 2] and swapped.boxes() == () and swapped.showing is None
    first_removed, dropped = marks.after_references(["/up/b.png"])
    assert dropped == [1, 2] and first_removed.boxes() == ()
    one_added, dropped = marks.after_references(["/up/a.png", "/up/b.png", "/up/c.png"])
    assert dropped == [] and one_added.boxes() == marks.boxes() and one_added.showing == marks.showing


def replace_showing(marks, showing):
    from dataclasses import replace

    return replace(marks, showing=showing)


def test_the_edit_request_carries_the_boxes_and_refuses_what_is_not_a_box():
    request = edit_request(
        "x", ["/up/a.png", "/up/b.png"], "", "1K", 1, -1, True, False, "", "wan2.7", "", "2:10,20,30,40; 1:0,0,5,5"
    )
    assert request.boxes == (Box(2, 10, 20, 30, 40), Box(1, 0, 0, 5, 5))
    assert edit_request("x", [], "", "1K", 1, -1, True, False).boxes == ()
    with pytest.raises(InvalidRequest, match="line 2 is not IMAGE:x1,y1,x2,y2"):
        box_list("2:10,20,30,40\n/etc/passwd")
    with pytest.raises(InvalidRequest, match="at most 64 are read"):
        box_list("1:0,0,1,1\n" * 65)


def test_marks_kept_while_the_model_takes_no_boxes_are_not_sent():
    from dataclasses import replace

    from wan26.ui.box_marks import Marks

    marks = Marks().with_boxes(1, "/up/a.png", (640, 480), [(10, 10, 50, 50)])
    assert marks.as_text() == "1:10,10,50,50"
    hidden = replace(marks, active=False)  # the picker moved to Wan 2.6: the section is hidden
    assert hidden.as_text() == "" and replace(hidden, active=True).as_text() == "1:10,10,50,50"
