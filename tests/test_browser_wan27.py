"""Wan 2.7 in headless Chromium, used the way a person would, against the DashScope fake: the model
picker, Pro's 4K, the colour palette, an image set and a box on a reference. Screenshots go to
$WAN26_SCREENSHOTS."""

import re

import pytest
import test_browser  # noqa: F401  (skips this module too when Chromium is missing)
from PIL import Image
from playwright.sync_api import expect
from test_browser import browser, new_visitor, open_advanced, page, page_load_watch, shots  # noqa: F401  (fixtures)
from test_browser_history import open_tab


def pick_model(visitor, label):
    box = visitor.locator("#model input")
    box.click()
    visitor.get_by_role("option", name=label, exact=True).click()
    expect(box).to_have_value(label)


def test_wan_2_7_pro_offers_4k_and_hides_the_negative_prompt(page, dashscope_fake, shots):  # noqa: F811
    shapes = page.locator("#text_to_image-shape")
    expect(shapes).not_to_contain_text("4K")
    pick_model(page, "Wan 2.7 Pro")
    expect(shapes).to_contain_text("4K", timeout=10_000)
    expect(page.locator("#text_to_image-thinking")).to_be_visible()
    open_advanced(page, "text_to_image")
    expect(page.locator("#text_to_image-negative")).to_be_hidden()
    expect(page.locator("#text_to_image-prompt-extend")).to_be_hidden()
    shapes.get_by_text("4K", exact=False).click()
    page.locator("#text_to_image-prompt textarea").fill("a lighthouse at dawn")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    body = dashscope_fake.generation_requests()[-1].json
    assert body["model"] == "wan2.7-image-pro" and body["parameters"]["size"] == "4K"
    assert body["parameters"]["thinking_mode"] is True and "negative_prompt" not in body["input"]
    open_tab(page, "Interleaved")
    expect(page.locator("#interleave-unavailable")).to_contain_text("Wan 2.7 Pro makes no text with images")
    expect(page.locator("#interleave-run")).to_be_disabled()
    pick_model(page, "Wan 2.6")  # 2.6 as before: the negative prompt is back, 4K gone
    open_tab(page, "Text to image")
    expect(shapes).not_to_contain_text("4K", timeout=10_000)
    expect(page.locator("#text_to_image-negative")).to_be_visible()


def test_an_example_keeps_the_chosen_models_shapes_and_settings(page, dashscope_fake, shots):  # noqa: F811
    """Gradio's examples show and send each input's settings as built (2.6's shapes, the negative
    prompt shown, up to 4 references): they follow the chosen model instead."""
    pick_model(page, "Wan 2.7 Pro")
    shapes = page.locator("#text_to_image-shape")
    expect(shapes).to_contain_text("4K", timeout=10_000)
    examples = page.locator("#text_to_image-examples")
    expect(examples).to_contain_text("2:3 · 1024×1536")  # the size the example's shape sends here
    expect(examples).not_to_contain_text("1056×1568")
    examples.locator("tbody tr", has_text="LISBOA").click()
    expect(page.locator("#text_to_image-prompt textarea")).to_have_value(re.compile('"LISBOA"'))
    expect(shapes.locator("input[value='2:3']")).to_be_checked()
    expect(shapes).to_contain_text("4K", timeout=10_000)  # 2.7 Pro's tiers, not 2.6's list
    expect(shapes).to_contain_text("2:3 · 1024×1536")  # 2.7's size for the shape, as sent
    expect(shapes).not_to_contain_text("1056×1568")  # 2.6's
    open_advanced(page, "text_to_image")
    expect(page.locator("#text_to_image-width input[type=number]")).to_have_value("1024", timeout=10_000)
    expect(page.locator("#text_to_image-negative")).to_be_hidden()  # 2.7 takes none; the example's is dropped
    shots(page, "ui27-example-text-to-image", full_page=False)
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    body = dashscope_fake.generation_requests()[-1].json
    assert body["parameters"]["size"] == "1024*1536" and "negative_prompt" not in body["input"]

    open_tab(page, "Edit")
    page.locator("#edit-examples tbody tr", has_text="blue top hat").click()
    expect(page.locator("#edit-references img")).to_have_count(2, timeout=10_000)
    expect(page.locator("#edit-references")).to_contain_text("up to 9", timeout=10_000)


def set_share(visitor, number, value):
    box = visitor.locator(f"#text_to_image-share-{number} input")
    box.fill(str(value))
    box.press("Enter")


def test_a_chosen_palette_is_sent(page, dashscope_fake, shots):  # noqa: F811
    pick_model(page, "Wan 2.7")
    palette = page.locator("#text_to_image-palette")
    palette.get_by_role("button", name="Colour palette").click()
    page.locator("#text_to_image-palette-use input").check()
    total = page.locator("#text_to_image-palette-total")
    expect(total).to_contain_text("100 %", timeout=10_000)
    set_share(page, 1, 40)
    expect(total).to_contain_text("Total: 90 % — must be 100 %", timeout=10_000)
    page.locator("#text_to_image-palette-add").click()
    expect(page.locator("#text_to_image-share-4")).to_be_visible()
    set_share(page, 4, 25)
    page.locator("#text_to_image-palette-remove").click()
    expect(page.locator("#text_to_image-share-4")).to_be_hidden()
    page.locator("#text_to_image-palette-add").click()  # a new colour, not the one removed
    expect(page.locator("#text_to_image-share-4 input")).to_have_value("0", timeout=10_000)
    swatch = page.locator("#text_to_image-colour-4 .dialog-button")  # the new colour, white on a white page
    seen = swatch.evaluate("e => [getComputedStyle(e).borderTopWidth, getComputedStyle(e).borderTopColor]")
    page_colour = page.locator("#text_to_image-palette").evaluate("e => getComputedStyle(e).backgroundColor")
    assert seen[0] == "1px" and seen[1] not in (page_colour, "rgb(255, 255, 255)"), (seen, page_colour)
    set_share(page, 4, 10)
    expect(total).to_contain_text("✅ Total: 100 %", timeout=10_000)
    page.locator("#text_to_image-prompt textarea").fill("a harbour in the morning")
    shots(page, "ui27-palette-before-run", full_page=False)
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    sent = dashscope_fake.generation_requests()[-1].json["parameters"]["color_palette"]
    assert [colour["ratio"] for colour in sent] == ["40.00%", "30.00%", "20.00%", "10.00%"]
    assert sent[0]["hex"] == "#C2D1E6" and sent[3]["hex"] == "#FFFFFF"


def test_adding_a_colour_past_the_tenth_keeps_the_palette_as_it_is(page, dashscope_fake):  # noqa: F811
    failed = []
    page.on("response", lambda answer: failed.append(answer.url) if answer.status >= 500 else None)
    pick_model(page, "Wan 2.7")
    page.locator("#text_to_image-palette").get_by_role("button", name="Colour palette").click()
    page.locator("#text_to_image-palette-use input").check()
    add = page.locator("#text_to_image-palette-add")
    for number in range(4, 11):
        add.click()
        expect(page.locator(f"#text_to_image-share-{number}")).to_be_visible(timeout=10_000)
    set_share(page, 10, 7)
    total = page.locator("#text_to_image-palette-total")
    expect(total).to_contain_text("107 %", timeout=10_000)
    add.click()  # ten is the most: nothing changes, and nothing fails on the server
    page.wait_for_timeout(1000)
    expect(page.locator("#text_to_image-share-10 input")).to_have_value("7")
    expect(total).to_contain_text("107 %")
    assert failed == []


def test_an_image_set_is_shown_in_order_with_how_many_were_made(page, dashscope_fake, shots):  # noqa: F811
    open_tab(page, "Image set")
    expect(page.locator("#image_set-unavailable")).to_contain_text("Wan 2.6 makes no image sets")
    expect(page.locator("#image_set-run")).to_be_disabled()
    pick_model(page, "Wan 2.7")
    expect(page.locator("#image_set-run")).to_be_enabled(timeout=10_000)
    expect(page.locator("#image_set-price")).to_contain_text("up to $")
    dashscope_fake.set_count(3)
    page.locator("#image_set-prompt textarea").fill("four seasons of one cottage garden")
    page.locator("#image_set-run").click()
    details = page.locator("#image_set-details")
    expect(details).to_contain_text("made 3 of the 4 images asked for", timeout=30_000)
    gallery = page.locator("#image_set-results")
    expect(gallery.locator("img")).to_have_count(3)
    captions = gallery.locator(".caption-label")
    expect(captions).to_have_count(3)
    assert [text[:2] for text in captions.all_inner_texts()] == ["01", "02", "03"]
    assert dashscope_fake.generation_requests()[-1].json["parameters"]["enable_sequential"] is True


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_screens_with_wan_2_7_pro_the_palette_and_a_set(browser, served, dashscope_fake, width, height):  # noqa: F811
    """Screenshots to look at (/tmp/ui27-*.png); the prompt and Generate stay on the first screen."""
    with new_visitor(browser, served, width, height) as visitor:
        pick_model(visitor, "Wan 2.7 Pro")
        run = visitor.locator("#text_to_image-run")
        assert run.bounding_box()["y"] + run.bounding_box()["height"] <= height, "Generate is below the fold"
        visitor.locator("#text_to_image-palette").get_by_role("button", name="Colour palette").click()
        visitor.locator("#text_to_image-palette-use input").check()
        expect(visitor.locator("#text_to_image-palette-total")).to_contain_text("100 %", timeout=10_000)
        visitor.screenshot(path=f"/tmp/ui27-t2i-pro-palette-{width}.png", full_page=False)
        visitor.screenshot(path=f"/tmp/ui27-t2i-pro-palette-{width}-full.png", full_page=True)
        open_tab(visitor, "Image set")
        pick_model(visitor, "Wan 2.7")
        dashscope_fake.set_count(3)
        visitor.locator("#image_set-prompt textarea").fill("four seasons of one cottage garden")
        visitor.locator("#image_set-run").click()
        expect(visitor.locator("#image_set-details")).to_contain_text("made 3 of the 4", timeout=30_000)
        visitor.screenshot(path=f"/tmp/ui27-image-set-{width}.png", full_page=True)


def test_an_area_typed_in_the_edit_tab_with_wan_2_7_is_sent_as_image_2s_box(page, dashscope_fake, tmp_path):  # noqa: F811
    boxes = page.locator("#edit-boxes")
    open_tab(page, "Edit")
    expect(page.locator("#edit-references")).to_be_visible()
    expect(boxes).to_be_hidden()  # Wan 2.6 takes no boxes
    pick_model(page, "Wan 2.7")
    expect(boxes).to_be_visible(timeout=10_000)
    files = [tmp_path / "green.png", tmp_path / "blue.png"]
    Image.new("RGB", (640, 480), (20, 160, 60)).save(files[0])
    Image.new("RGB", (800, 600), (30, 60, 200)).save(files[1])
    page.locator("#edit-references input[type=file]").set_input_files([str(path) for path in files])
    expect(page.locator("#edit-references")).to_contain_text("Image 2", timeout=20_000)
    boxes.locator("textarea").fill("2:300,200,600,450")
    page.locator("#edit-prompt textarea").fill("a red hat in the box on image 2")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-results img")).to_have_count(1, timeout=60_000)
    body = dashscope_fake.generation_requests()[-1].json
    assert body["model"] == "wan2.7-image" and body["parameters"]["bbox_list"] == [[], [[300, 200, 600, 450]]]


def test_the_box_field_empties_and_hides_when_wan_2_6_is_picked(page, dashscope_fake):  # noqa: F811
    boxes = page.locator("#edit-boxes")
    pick_model(page, "Wan 2.7")
    open_tab(page, "Edit")
    boxes.locator("textarea").fill("1:0,0,10,10")
    pick_model(page, "Wan 2.6")
    expect(boxes).to_be_hidden(timeout=10_000)
    pick_model(page, "Wan 2.7")
    expect(boxes.locator("textarea")).to_have_value("", timeout=10_000)  # a 2.6 edit was never sent the box


def test_wan_2_7_keeps_up_to_nine_references_and_wan_2_6_four(page, dashscope_fake, tmp_path):  # noqa: F811
    files = []
    for number in range(1, 11):
        files.append(tmp_path / f"reference-{number}.png")
        Image.new("RGB", (400, 300), (number * 20, 80, 120)).save(files[-1])
    references = page.locator("#edit-references")
    pick_model(page, "Wan 2.7")
    open_tab(page, "Edit")
    references.locator("input[type=file]").set_input_files([str(path) for path in files[:6]])
    expect(references).to_contain_text("Image 6", timeout=20_000)  # all six kept, in order
    references.locator("input[type=file]").set_input_files([str(path) for path in files[6:]])
    expect(page.get_by_text("kept the first 9 of 10")).to_be_visible(timeout=20_000)
    expect(references).to_contain_text("Image 9")
    expect(references).not_to_contain_text("Image 10")
    page.locator("#edit-prompt textarea").fill("the nine together")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-results img")).to_have_count(1, timeout=60_000)
    assert len(dashscope_fake.generation_requests()[-1].json["input"]["messages"][0]["content"]) == 10  # 9 + text
    pick_model(page, "Wan 2.6")
    references.locator("input[type=file]").set_input_files(str(files[0]))
    expect(page.get_by_text("kept the first 4 of 10")).to_be_visible(timeout=20_000)


def test_with_a_1k_shape_the_exact_size_is_not_offered_as_if_it_were_sent(page, dashscope_fake):  # noqa: F811
    pick_model(page, "Wan 2.7 Pro")
    open_advanced(page, "text_to_image")
    width = page.locator("#text_to_image-width")
    expect(width).to_be_hidden(timeout=10_000)  # the 1K tier is picked: it is the size sent
    page.locator("#text_to_image-shape").get_by_text("16:9", exact=False).first.click()
    expect(width).to_be_visible(timeout=10_000)
    pick_model(page, "Wan 2.6")
    expect(width).to_be_visible(timeout=10_000)


@pytest.mark.parametrize(("typed", "refusal"), [("150", "at most 100%"), ("-5", "give more than 0")])
def test_a_share_out_of_0_to_100_is_named_and_nothing_is_sent(page, dashscope_fake, typed, refusal):  # noqa: F811
    """Gradio's own bounds once refused such a share before our handler ran: the total kept saying
    100 % and the run was sent with the share before."""
    pick_model(page, "Wan 2.7")
    page.locator("#text_to_image-palette").get_by_role("button", name="Colour palette").click()
    page.locator("#text_to_image-palette-use input").check()
    total = page.locator("#text_to_image-palette-total")
    for number, share in enumerate(("33.33", "33.33", "33.34"), start=1):
        set_share(page, number, share)
    expect(total).to_contain_text("✅ Total: 100 %", timeout=10_000)
    set_share(page, 1, typed)
    expect(total).to_contain_text(f"⛔ Share 1: {typed} % — each share must be 0–100 %", timeout=10_000)
    page.locator("#text_to_image-prompt textarea").fill("a harbour in the morning")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-prompt")).to_contain_text(refusal, timeout=10_000)
    expect(page.locator("#text_to_image-share-1 input")).to_have_value(typed)
    assert dashscope_fake.generation_requests() == []


@pytest.mark.parametrize("typed", ["13", "0"])
def test_an_image_set_count_out_of_1_to_12_is_named_and_nothing_is_sent(page, dashscope_fake, typed):  # noqa: F811
    """A slider's page once put 12 (or 1) in place of the count on leaving the box, and sent it."""
    open_tab(page, "Image set")
    pick_model(page, "Wan 2.7")
    expect(page.locator("#image_set-run")).to_be_enabled(timeout=10_000)
    count = page.locator("#image_set-count-slider input[type=number]")
    count.fill(typed)
    count.press("Enter")
    price = page.locator("#image_set-price")
    expect(price).to_contain_text(f"⛔ Images at most: {typed} — allowed 1–12", timeout=10_000)
    page.locator("#image_set-prompt textarea").fill("four seasons of one cottage garden")
    page.locator("#image_set-run").click()
    refusal = f"Images at most: {typed} images at most; allowed 1–12"
    expect(page.locator("#image_set-prompt")).to_contain_text(refusal, timeout=10_000)
    expect(count).to_have_value(typed)  # what was typed stays, and is what the message is about
    assert dashscope_fake.generation_requests() == []
