"""Box edits in headless Chromium: two references uploaded, an area outlined with the mouse on image 2,
and a Wan 2.7 edit against the DashScope fake that receives exactly that box.

The page's model picker (Wan 2.6 / 2.7) is not part of this module: a small app built here holds the
Edit tab's references gallery and the box section (`BoxEditor`, wired as the page wires it), with
the model fixed at Wan 2.7, and runs the edit request the Edit tab builds (`edit_request`, with the
section's `boxes` value) through the real client. Screenshots go to /tmp/boxes-*.png.
"""

import io
import socket
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image
from test_browser import BROWSER_ARGS, CHROMIUM

from wan26 import AsyncClient, Model
from wan26.ui.actions import label_references
from wan26.ui.box_editor import BRUSH_RADIUS, BoxEditor, edit_limits
from wan26.ui.i18n import I18N
from wan26.ui.inputs import edit_request

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

BLUE = (30, 90, 200)  # image 2's colour, found again on the screen to know where the picture is drawn
IMAGE_2 = (1000, 750)  # under the surface's 1024 px: shown at its own size
OUTLINE = (300, 200, 600, 450)  # the rectangle dragged around, in image 2's pixels
WITHIN = 5  # px: a screen pixel is ~2 image pixels here, and a stroke's rim is soft


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def box_app(output_dir: Path) -> gr.Blocks:
    """The Edit tab's references and box section, and a run of the request the tab builds, with Wan 2.7."""

    async def run(prompt, references, boxes):
        request = edit_request(prompt, references, "", "1K", 1, -1, True, False, model=Model.WAN27.value, boxes=boxes)
        async with AsyncClient("dashscope", output_dir=output_dir) as client:
            result = await client.generate(request)
        return f"done: {len(result.images)} image(s)"

    with gr.Blocks() as demo:
        references = gr.Gallery(
            elem_id="edit-references",
            type="filepath",
            interactive=True,
            file_types=["image"],
            format="png",
            columns=4,
            height=200,
        )
        section = BoxEditor()
        section.build()
        prompt = gr.Textbox(elem_id="edit-prompt")
        go = gr.Button("Generate", elem_id="edit-run")
        details = gr.Markdown(elem_id="edit-details")
        vendor = gr.Textbox("dashscope", visible=False)
        model = gr.Textbox(Model.WAN27.value, visible=False)  # stands in for the page's model picker
        loaded = demo.load(lambda: None)
        references.upload(label_references, references, references)
        section.wire(references)
        section.follow([vendor, model], edit_limits, after=loaded)
        go.click(run, [prompt, references, section.value], details)
    return demo.queue()


@pytest.fixture
def app_url(dashscope_env, tmp_path):
    demo = box_app(tmp_path / "runs")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, i18n=I18N)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture
def page(app_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        opened = context.new_page()
        opened.goto(app_url)
        yield opened
        opened.screenshot(path="/tmp/boxes-last.png", full_page=True)  # what the page showed at the end
        browser.close()


def picture_on_screen(page):
    """Where image 2 is drawn on the surface: its on-screen box (x, y, width, height), found by colour."""
    surface = page.locator("#edit-boxes-surface")
    surface.scroll_into_view_if_needed()  # before measuring: taking its picture would scroll it
    area = surface.bounding_box()
    shot = Image.open(io.BytesIO(surface.screenshot())).convert("RGB")
    scale = shot.width / area["width"]  # screenshot pixels per CSS pixel
    blue = shot.point(lambda v: v).split()
    mask = Image.eval(blue[2], lambda v: 255 * (185 <= v <= 215))
    mask = Image.composite(mask, Image.new("L", shot.size), Image.eval(blue[0], lambda v: 255 * (v < 50)))
    left, top, right, bottom = mask.getbbox()
    return area["x"] + left / scale, area["y"] + top / scale, (right - left) / scale, (bottom - top) / scale


def outline(page, rect):
    """Drag the mouse around `rect` (image pixels), as a visitor outlines an area."""
    x, y, width, height = picture_on_screen(page)
    to_screen = [(x + px * width / IMAGE_2[0], y + py * height / IMAGE_2[1]) for px, py in _corners(rect)]
    page.mouse.move(*to_screen[0])
    page.mouse.down()
    for point in to_screen[1:]:
        page.mouse.move(*point, steps=12)
    page.mouse.up()


def _corners(rect):
    x1, y1, x2, y2 = rect
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)]


def test_an_area_outlined_on_image_2_is_sent_as_image_2s_box(page, dashscope_env, tmp_path):
    files = [tmp_path / "green.png", tmp_path / "blue.png"]
    Image.new("RGB", (640, 480), (20, 160, 60)).save(files[0])
    Image.new("RGB", IMAGE_2, BLUE).save(files[1])
    page.locator("#edit-references input[type=file]").set_input_files([str(path) for path in files])
    expect(page.locator("#edit-references")).to_contain_text("Image 2", timeout=20_000)

    page.locator("#edit-boxes").get_by_role("button", name="Mark areas to edit").click()
    page.locator("#edit-boxes-image").get_by_text("Image 2").click()
    expect(page.locator("#edit-boxes-surface canvas").first).to_be_visible(timeout=20_000)
    page.wait_for_timeout(1500)  # the picture is drawn into the canvas after it arrives
    outline(page, OUTLINE)

    summary = page.locator("#edit-boxes-summary")
    expect(summary).to_contain_text("image 2: 1 box", timeout=20_000)
    expected = [
        OUTLINE[0] - BRUSH_RADIUS,
        OUTLINE[1] - BRUSH_RADIUS,
        OUTLINE[2] + BRUSH_RADIUS,
        OUTLINE[3] + BRUSH_RADIUS,
    ]
    expect(page.locator("#edit-boxes-preview img")).to_be_visible(timeout=10_000)
    for name, viewport in (("desktop", {"width": 1280, "height": 720}), ("phone", {"width": 390, "height": 844})):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(800)
        summary.evaluate("line => line.scrollIntoView({block: 'center'})")  # the drawing, the line, the preview
        page.screenshot(path=f"/tmp/boxes-{name}.png")
    page.set_viewport_size({"width": 1280, "height": 720})

    page.locator("#edit-prompt textarea").fill("a red hat in the box on image 2")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-details")).to_contain_text("done: 1 image(s)", timeout=60_000)

    bbox_list = dashscope_env.generation_requests()[-1].json["parameters"]["bbox_list"]
    assert len(bbox_list) == 2 and bbox_list[0] == [] and len(bbox_list[1]) == 1, bbox_list
    assert all(abs(got - want) <= WITHIN for got, want in zip(bbox_list[1][0], expected, strict=True)), (
        bbox_list,
        expected,
    )
    job = dashscope_env.jobs[-1]
    assert job.images[0].boxes == () and len(job.images[1].boxes) == 1
    shown = summary.inner_text()
    x1, y1, x2, y2 = bbox_list[1][0]
    assert f"({x1}, {y1})–({x2}, {y2})" in shown  # what was said is what was sent

    # Image 1 removed: image 2 becomes image 1, and its box is dropped rather than moved with the number.
    page.locator("#edit-references").get_by_label("Delete image").first.click()
    expect(summary).to_contain_text("the boxes on image 2 were dropped", timeout=20_000)
    expect(summary).to_contain_text("No boxes")
