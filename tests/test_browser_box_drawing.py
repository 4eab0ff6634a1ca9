"""Drawing a box by two clicks on a reference, in headless Chromium against the DashScope fake: the
typed field gets the line in the upright image's pixels, the run sends it as that image's bbox_list,
the page then stays quiet (no uploads: the gr.ImageEditor loop does not come back), and with Wan 2.6
the section is gone. Screenshots: /tmp/boxfix-desktop.png and /tmp/boxfix-phone.png."""

import base64
import io
import re

import pytest
import test_browser  # noqa: F401  (skips this module too when Chromium is missing)
from PIL import Image
from playwright.sync_api import expect
from test_browser import browser, new_visitor, page, page_load_watch  # noqa: F401  (fixtures)
from test_browser_history import open_tab
from test_browser_wan27 import pick_model

UPRIGHT = (1200, 900)  # image 2 as it looks: stored 900×1200, EXIF orientation 6 (turn 90° clockwise)
SHOWN = (768, 576)  # its preview


def references(tmp_path):
    """Image 1, a plain PNG; image 2, a JPEG that the camera stored on its side."""
    first, second = tmp_path / "green.png", tmp_path / "turned.jpg"
    Image.new("RGB", (640, 480), (20, 160, 60)).save(first)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (UPRIGHT[1], UPRIGHT[0]), (30, 60, 200)).save(second, "JPEG", exif=exif.tobytes())
    return [str(first), str(second)]


def uploads_counted(visitor):
    seen = []
    visitor.on("request", lambda request: "/gradio_api/upload" in request.url and seen.append(request.url))
    return seen


def open_drawing_on_image_2(visitor, tmp_path):
    """Wan 2.7, the Edit tab, two references uploaded, the drawing section opened on image 2."""
    pick_model(visitor, "Wan 2.7")
    open_tab(visitor, "Edit")
    visitor.locator("#edit-references input[type=file]").set_input_files(references(tmp_path))
    expect(visitor.locator("#edit-references")).to_contain_text("Image 2", timeout=20_000)
    section = visitor.locator("#edit-draw")
    expect(section).to_be_visible(timeout=10_000)
    section.get_by_role("button", name="Draw a box on a reference").click()
    visitor.locator("#edit-draw-image").get_by_text("Image 2", exact=True).click()
    wait_for_preview(visitor, SHOWN)


def wait_for_preview(visitor, size):
    """Until the preview shows a picture of `size` (its own pixels)."""
    visitor.wait_for_function(
        "size => { const i = document.querySelector('#edit-draw-preview img');"
        " return i && i.complete && i.naturalWidth === size[0] && i.naturalHeight === size[1]; }",
        arg=list(size),
        timeout=20_000,
    )


def shown_geometry(visitor):
    """Where the preview's picture lies in its <img> (object-fit: contain), as Gradio computes a click.
    Read in one go once a picture has loaded: after a first click the preview is replaced (the corner
    marked), and a picture still loading has no size (CI of 2026-12-01 divided by zero there)."""
    img = visitor.locator("#edit-draw-preview img")
    measured = visitor.wait_for_function(
        "() => { const i = document.querySelector('#edit-draw-preview img');"
        " if (!i || !i.complete || !i.naturalWidth) return null;"
        " const r = i.getBoundingClientRect(); return [r.width, r.height, i.naturalWidth, i.naturalHeight]; }",
        timeout=20_000,
    )
    width, height, *natural = measured.json_value()
    ratio = min(width / natural[0], height / natural[1], 1)
    offset = ((width - natural[0] * ratio) / 2, (height - natural[1] * ratio) / 2)
    return img, ratio, offset


def click_at(visitor, fraction):
    """Click the preview at `fraction` (across, down) of its picture; the point in upright pixels."""
    img, ratio, offset = shown_geometry(visitor)
    css = [offset[axis] + fraction[axis] * SHOWN[axis] * ratio for axis in (0, 1)]
    img.click(position={"x": css[0], "y": css[1]})
    return [(css[axis] - offset[axis]) / ratio * UPRIGHT[axis] / SHOWN[axis] for axis in (0, 1)]


def draw_box(visitor):
    """Two clicks on image 2; the corners expected, in upright pixels, top left first."""
    status = visitor.locator("#edit-draw-status")
    first = click_at(visitor, (0.7, 0.8))
    expect(status).to_contain_text("Click the opposite corner", timeout=10_000)
    second = click_at(visitor, (0.25, 0.3))
    expect(status).to_contain_text("added", timeout=10_000)
    return [min(first[0], second[0]), min(first[1], second[1]), max(first[0], second[0]), max(first[1], second[1])]


def typed_box(visitor, image):
    field = visitor.locator("#edit-boxes textarea")
    expect(field).to_have_value(re.compile(rf"(^|\n){image}:\d+,\d+,\d+,\d+$"), timeout=10_000)
    line = field.input_value().splitlines()[-1]
    return [int(part) for part in line.split(":")[1].split(",")]


def test_two_clicks_on_image_2_are_sent_as_its_bbox_list_and_the_page_stays_quiet(page, dashscope_fake, tmp_path):  # noqa: F811
    open_drawing_on_image_2(page, tmp_path)
    uploads = uploads_counted(page)
    expected = draw_box(page)
    corners = typed_box(page, 2)
    assert all(abs(got - want) <= 2 for got, want in zip(corners, expected, strict=True)), (corners, expected)
    page.wait_for_timeout(3_000)  # idle: a drawing surface that re-uploads itself would show here
    assert uploads == [], f"{len(uploads)} uploads while drawing and idle"
    page.locator("#edit-prompt textarea").fill("a red hat in the box on image 2")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-results img")).to_have_count(1, timeout=60_000)
    body = dashscope_fake.generation_requests()[-1].json
    assert body["model"] == "wan2.7-image" and body["parameters"]["bbox_list"] == [[], [corners]]
    sent = [item["image"] for item in body["input"]["messages"][0]["content"] if "image" in item][1]
    assert Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1]))).size == UPRIGHT  # sent upright, unscaled


def test_the_preview_follows_the_field_and_clear_empties_this_images_boxes(page, dashscope_fake, tmp_path):  # noqa: F811
    open_drawing_on_image_2(page, tmp_path)
    img, field = page.locator("#edit-draw-preview img"), page.locator("#edit-boxes textarea")
    before = img.get_attribute("src")
    field.fill("1:10,10,100,100\n2:100,100,600,450")
    expect(img).not_to_have_attribute("src", before, timeout=10_000)  # typed by hand: redrawn
    draw_box(page)
    field_text = field.input_value()
    assert field_text.count("\n2:") == 2
    click_at(page, (0.5, 0.5))  # a third on image 2: said, not added
    expect(page.locator("#edit-draw-status")).to_contain_text("already has 2 boxes", timeout=10_000)
    expect(field).to_have_value(field_text)
    page.locator("#edit-draw-clear").click()
    expect(field).to_have_value("1:10,10,100,100", timeout=10_000)


def test_moving_a_reference_shows_the_image_now_at_that_number(page, dashscope_fake, tmp_path):  # noqa: F811
    open_drawing_on_image_2(page, tmp_path)
    page.locator("#edit-references [aria-label^='Thumbnail'] img").nth(1).click()
    page.get_by_role("button", name="◀ Move earlier").click()
    wait_for_preview(page, (640, 480))  # image 2 is now the green PNG, shown at its own size
    expect(page.locator("#edit-draw-image input:checked")).to_have_value("2")


def test_a_box_drawn_on_image_2_follows_it_when_it_is_moved_earlier(page, dashscope_fake, tmp_path):  # noqa: F811
    """Moved, the image keeps its box: the field says image 1, and the run sends it as image 1's."""
    open_drawing_on_image_2(page, tmp_path)
    draw_box(page)
    corners = typed_box(page, 2)
    page.locator("#edit-references [aria-label^='Thumbnail'] img").nth(1).click()
    page.get_by_role("button", name="◀ Move earlier").click()
    field = page.locator("#edit-boxes textarea")
    expect(field).to_have_value(f"1:{','.join(map(str, corners))}", timeout=10_000)
    page.locator("#edit-prompt textarea").fill("a red hat in the box on image 1")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-results img")).to_have_count(1, timeout=60_000)
    body = dashscope_fake.generation_requests()[-1].json
    assert body["parameters"]["bbox_list"] == [[corners], []]
    sent = [item["image"] for item in body["input"]["messages"][0]["content"] if "image" in item][0]
    assert Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1]))).size == UPRIGHT  # image 1: the turned one


def test_the_section_hides_with_wan_2_6_and_comes_back_empty(page, dashscope_fake, tmp_path):  # noqa: F811
    open_drawing_on_image_2(page, tmp_path)
    draw_box(page)
    pick_model(page, "Wan 2.6")
    expect(page.locator("#edit-draw")).to_be_hidden(timeout=10_000)
    expect(page.locator("#edit-boxes")).to_be_hidden()
    pick_model(page, "Wan 2.7")
    expect(page.locator("#edit-draw")).to_be_visible(timeout=10_000)
    expect(page.locator("#edit-boxes textarea")).to_have_value("", timeout=10_000)
    expect(page.locator("#edit-draw-status")).not_to_contain_text("opposite corner")


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 720, "desktop"), (390, 844, "phone")])
def test_screens_with_a_drawn_box(browser, served, dashscope_fake, tmp_path, width, height, name):  # noqa: F811
    """Screenshots to look at: the Edit tab with Wan 2.7, two references and a box drawn on image 2."""
    with new_visitor(browser, served, width, height) as visitor:
        open_drawing_on_image_2(visitor, tmp_path)
        draw_box(visitor)
        typed_box(visitor, 2)
        visitor.locator("#edit-draw-preview").scroll_into_view_if_needed()
        visitor.wait_for_timeout(500)
        visitor.screenshot(path=f"/tmp/boxfix-{name}.png", full_page=False)
        visitor.screenshot(path=f"/tmp/boxfix-{name}-full.png", full_page=True)
