"""The app in headless Chromium, used the way a person would, against the DashScope fake.

Needs Debian's `chromium` and Python's `playwright` (.ci/run installs both). Screenshots go to
$WAN26_SCREENSHOTS (default: the test's tmp folder) so a person can look at what was tested.
"""

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from wan26.providers import PROVIDERS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
USER_KEY = "sk-browser-visitor-key-000111222333"
REPO = Path(__file__).resolve().parent.parent
GUARD = Path(__file__).resolve().parent / "subprocess_guard"

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):  # in CI a missing browser fails, never skips
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, served, dashscope_fake):
    with new_visitor(browser, served, 1400, 1000) as opened:
        yield opened


@contextlib.contextmanager
def new_visitor(browser, url, width, height):
    """A new visitor's page at `width`×`height`, its page-load events over; its context closed after."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        visitor = context.new_page()
        settled = page_load_watch(visitor)
        visitor.goto(url)
        expect(visitor.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
        settled()
        yield visitor
    finally:
        context.close()


def page_load_watch(page):
    """Call the result once the page is shown: it returns when the page-load events (which adapt the
    controls to the vendor, sliders among them) are over, so that what a test types is not replaced."""
    calls = {"open": 0, "last": 0.0}

    def seen(change):
        def count(request):
            if "/gradio_api/" in request.url and request.method == "POST":
                calls["open"] += change
                calls["last"] = time.monotonic()

        return count

    page.on("request", seen(+1))
    page.on("requestfinished", seen(-1))
    page.on("requestfailed", seen(-1))

    def settled(quiet_s=1.0, limit_s=20.0):
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if calls["open"] <= 0 and calls["last"] and time.monotonic() - calls["last"] > quiet_s:
                return
            page.wait_for_timeout(100)

    return settled


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("WAN26_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name, full_page=True):  # full_page=False: what the first screen shows
        page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)

    return shoot


def open_tab(page, name):
    """The tab `name`, also where a narrow screen puts it under Gradio's "More tabs" menu (on a phone,
    the tabs after Image set)."""
    tab, more = page.get_by_role("tab", name=name), page.get_by_role("button", name="More tabs")
    tab.or_(more).first.wait_for()  # the tab bar is laid out (and measured) once the page has rendered
    if tab.count() and tab.is_visible():
        tab.click()
        return
    more.click()
    page.locator(".overflow-dropdown button", has_text=name).click()


def open_advanced(page, mode):
    page.locator(f"#{mode}-advanced").get_by_role("button", name="Advanced").click()


def type_size(page, mode, side, value, shown):
    """Type a width or height as a visitor does, one box after the other, and wait for the verdict to
    show it (`shown`, e.g. "2880x1280"). Typed again if it was lost: filled within ~50 ms of Advanced
    opening, Gradio's slider (mounting then) can drop it and keep its old value."""
    box, verdict = page.locator(f"#{mode}-{side} input[type=number]"), page.locator(f"#{mode}-size-check")
    for _ in range(3):
        box.fill(value)
        box.press("Enter")
        try:
            expect(verdict).to_contain_text(shown, timeout=3_000)
            return
        except AssertionError:
            continue
    expect(verdict).to_contain_text(shown)


def upload_reference(page, path, size, color):
    """A PNG of `size` and `color` saved at `path`, uploaded as a reference in the Edit tab."""
    Image.new("RGB", size, color).save(path)
    open_tab(page, "Edit")
    page.locator("#edit-references input[type=file]").set_input_files(str(path))


def run_as_task_then_stop(page, prompt):
    """Text to image through the vendor's task flow, stopped once the page shows the task id."""
    page.locator("#text_to_image-prompt textarea").fill(prompt)
    open_advanced(page, "text_to_image")
    page.locator("#text_to_image-use-task input").check()
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-details")).to_contain_text("Task id", timeout=30_000)
    page.locator("#text_to_image-stop").click()


def open_settings(page):
    page.locator("#open-settings").click()
    expect(page.locator("#key-status")).to_be_visible(timeout=10_000)


def test_text_to_image_shows_the_generated_images(page, dashscope_fake, shots):
    prompt = page.locator("#text_to_image-prompt textarea")
    prompt.press_sequentially("a lighthouse at dawn")
    expect(page.locator("#text_to_image-count")).to_contain_text("20 / 2,100 characters")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    expect(page.locator("#text_to_image-details")).to_contain_text("wan2.6-t2i")
    shots(page, "text_to_image")
    assert len(dashscope_fake.generation_requests()) == 1


def test_a_size_the_api_would_refuse_is_flagged_and_never_sent(page, dashscope_fake, shots):
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    open_advanced(page, "text_to_image")
    type_size(page, "text_to_image", "width", "2880", "2880x1280")
    type_size(page, "text_to_image", "height", "2880", "2880x2880")
    expect(page.locator("#text_to_image-size-check")).to_contain_text("⛔", timeout=10_000)
    expect(page.locator("#text_to_image-size-check")).to_contain_text("allowed 1,638,400–2,073,600")
    page.locator("#text_to_image-run").click()
    expect(page.get_by_text("2880x2880 is 8,294,400 pixels").first).to_be_visible(timeout=10_000)
    # Said above Generate too, where the eye is, not only under the folded-away sliders.
    expect(page.locator("#text_to_image-prompt")).to_contain_text("Size: 2880x2880 is 8,294,400 pixels")
    shots(page, "size_refused")
    assert dashscope_fake.requests == []


def test_edit_with_an_uploaded_reference(page, dashscope_fake, shots, tmp_path):
    upload_reference(page, tmp_path / "cat.png", (640, 480), (30, 140, 90))
    expect(page.locator("#edit-references")).to_contain_text("Image 1", timeout=10_000)
    page.locator("#edit-prompt textarea").fill("image 1 as a pencil sketch")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-results img")).to_have_count(1, timeout=30_000)
    shots(page, "edit")
    content = dashscope_fake.generation_requests()[0].json["input"]["messages"][0]["content"]
    assert content[1]["image"].startswith("data:image/png;base64,")


def test_interleaved_text_and_images_appear_in_the_chat(page, dashscope_fake, shots):
    dashscope_fake.sse_chunk_size = 9
    open_tab(page, "Interleaved")
    page.locator("#interleave-prompt textarea").fill("a two-step recipe")
    page.locator("#interleave-run").click()
    chat = page.locator("#interleave-chat")
    expect(chat.locator("img")).to_have_count(3, timeout=30_000)  # the fake makes 3 images by default
    expect(chat).to_contain_text("准备食材")
    expect(page.locator("#interleave-details")).to_contain_text("3 image(s)", timeout=10_000)
    shots(page, "interleave")


def test_a_visitors_own_key_works_and_stays_out_of_the_page(page, served, dashscope_fake, monkeypatch, shots):
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-server-key-the-fake-refuses")
    dashscope_fake.api_key = USER_KEY
    try:
        open_settings(page)
        page.locator("#own-key input").fill(USER_KEY)
        page.locator("#use-key").click()
        expect(page.locator("#key-status")).to_contain_text("your own Alibaba Cloud DashScope key", timeout=10_000)
        expect(page.locator("#own-key input")).to_have_value("")  # not left in the page
        page.locator("#text_to_image-prompt textarea").fill("a fox")
        page.locator("#text_to_image-run").click()
        expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
        shots(page, "own_key")
        stored = page.evaluate("() => JSON.stringify(Object.assign({}, window.localStorage))")
        assert "gradio:run-history" in stored  # the run history exists and was checked
        assert USER_KEY not in stored and USER_KEY not in page.content()
    finally:
        dashscope_fake.api_key = type(dashscope_fake)().api_key
    assert dashscope_fake.generation_requests()[0].headers["authorization"] == f"Bearer {USER_KEY}"


def test_a_result_can_seed_the_next_run_and_become_a_reference(page, dashscope_fake, shots):
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    details = page.locator("#text_to_image-details")
    expect(details).to_contain_text("seed")
    used = re.search(r"seed (\d+)", details.inner_text()).group(1)

    page.locator("#text_to_image-reuse-seed").click()
    open_advanced(page, "text_to_image")
    expect(page.locator("#text_to_image-seed input")).to_have_value(used)
    expect(page.locator("#text_to_image-random-seed input")).not_to_be_checked()

    page.locator("#text_to_image-to-edit").click()
    expect(page.get_by_role("tab", name="Edit")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#edit-references img")).to_have_count(1, timeout=10_000)
    expect(page.locator("#edit-references")).to_contain_text("Image 1")
    shots(page, "reference_from_result")


def test_without_a_server_key_the_page_says_how_to_add_one(page, monkeypatch, shots):
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    page.reload()
    banner = page.locator("#no-key-help")
    expect(banner).to_be_visible(timeout=15_000)
    for advice in ("DASHSCOPE_API_KEY", ".env", "secret", "get-api-key"):
        expect(banner).to_contain_text(advice)
    shots(page, "no_key")


def test_references_can_be_reordered_and_removed(page, tmp_path):
    colours = {"red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "grey": (128, 128, 128)}
    files = []
    for name, rgb in colours.items():
        files.append(tmp_path / f"{name}.png")
        Image.new("RGB", (400, 300), rgb).save(files[-1])
    open_tab(page, "Edit")
    references = page.locator("#edit-references")
    references.locator("input[type=file]").set_input_files([str(path) for path in files])
    expect(references.get_by_label("Delete image")).to_have_count(4, timeout=10_000)

    def order():
        sources = references.locator("[aria-label^='Thumbnail'] img")
        found = [sources.nth(i).get_attribute("src") for i in range(sources.count())]
        return [next(name for name in colours if name in src) for src in found]

    assert order() == ["red", "green", "blue", "grey"]
    references.get_by_label("Delete image").nth(3).click()
    expect(references.get_by_label("Delete image")).to_have_count(3, timeout=10_000)
    assert order() == ["red", "green", "blue"]

    references.locator("[aria-label^='Thumbnail'] img").nth(2).click()
    page.get_by_role("button", name="◀ Move earlier").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#edit-references [aria-label^=\"Thumbnail\"] img')[1].src.includes('blue')"
    )
    references.get_by_label("Close").first.click()  # leave the preview, back to the thumbnail grid
    expect(references.get_by_label("Delete image")).to_have_count(3, timeout=10_000)
    assert order() == ["red", "blue", "green"]
    expect(references).to_contain_text("Image 2")


def wait_for_page_load_event(page, server_key_vendor):
    """The picker's vendors are decided by the page-load event: wait until it has answered."""
    open_settings(page)  # the key status shows the server's keys once it has
    expect(page.locator("#key-status")).to_contain_text(server_key_vendor, timeout=30_000)


def pick_vendor(page, title):
    """Type the vendor's name and click its option, then check it was taken. (Enter right after typing
    took whatever option was highlighted, or none, when the list had not yet filtered on a busy machine.)"""
    box = page.locator("#provider input")
    box.click()
    box.fill(title)
    page.get_by_role("option").filter(has_text=title).click()
    expect(box).to_have_value(title)


def test_switching_vendor_adapts_the_controls_and_runs_with_that_vendor(page, vendor_fakes, monkeypatch, shots):
    for name in ("aimlapi", "runware"):
        for variable, value in vendor_fakes[name].env().items():
            monkeypatch.setenv(variable, value)
    page.reload()
    wait_for_page_load_event(page, "Runware")
    page.locator("#provider input").click()
    expect(page.get_by_role("option")).to_have_count(3)  # only the vendors with a key
    expect(page.get_by_role("option")).to_contain_text(["Alibaba Cloud DashScope", "AI/ML API", "Runware"])
    page.locator("#provider input").blur()

    pick_vendor(page, "Runware")
    expect(page.locator("#text_to_image-notes")).to_contain_text("Runware takes no seed", timeout=10_000)
    expect(page.locator("#text_to_image-price")).to_contain_text("$0.030")
    expect(page.locator("#own-key-vendor input")).to_have_value("Runware")  # a key pasted now is Runware's
    open_advanced(page, "text_to_image")
    expect(page.locator("#text_to_image-seed")).to_be_hidden()
    expect(page.locator("#text_to_image-watermark")).to_be_hidden()
    expect(page.locator("#text_to_image-use-task")).to_be_visible()  # Runware has sync and async
    open_tab(page, "Interleaved")
    expect(page.locator("#interleave-unavailable")).to_contain_text("Runware does not offer text with images")
    expect(page.locator("#interleave-run")).to_be_disabled()
    shots(page, "vendor_runware_interleave")

    open_tab(page, "Text to image")
    pick_vendor(page, "AI/ML API")
    # The width box steps by AI/ML API's multiple of 32, and the verdict under it says its limits.
    expect(page.locator("#text_to_image-width input[type=number]")).to_have_attribute("step", "32", timeout=10_000)
    width = page.locator("#text_to_image-width input[type=number]")
    width.fill("2000")
    width.press("Enter")
    expect(page.locator("#text_to_image-size-check")).to_contain_text("Width: 2000 must be a positive multiple of 32")
    width.fill("1280")
    width.press("Enter")
    expect(page.locator("#text_to_image-size-check")).to_contain_text("✅ 1280×1280", timeout=10_000)
    expect(page.locator("#text_to_image-notes")).to_contain_text("one image per call")
    expect(page.locator("#text_to_image-seed")).to_be_visible()
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    expect(page.locator("#text_to_image-details")).to_contain_text("Cost reported by AI/ML API")
    shots(page, "vendor_aimlapi_result")
    assert len(vendor_fakes["aimlapi"].generation_requests()) == 1 and vendor_fakes["dashscope"].requests == []


def test_a_urls_only_vendor_takes_references_as_urls(page, vendor_fakes, monkeypatch, shots, tmp_path):
    for variable, value in vendor_fakes["shortapi"].env().items():
        monkeypatch.setenv(variable, value)
    settled = page_load_watch(page)
    page.reload()
    wait_for_page_load_event(page, "ShortAPI")
    open_tab(page, "Edit")  # an upload made with DashScope must not be sent to ShortAPI unseen
    local = tmp_path / "local.png"
    Image.new("RGB", (400, 300), (0, 90, 200)).save(local)
    page.locator("#edit-references input[type=file]").set_input_files(str(local))
    expect(page.locator("#edit-references img")).to_have_count(1, timeout=10_000)
    pick_vendor(page, "ShortAPI")
    expect(page.locator("#edit-notes")).to_contain_text("http(s) URLs only", timeout=10_000)
    expect(page.locator("#edit-references")).to_be_hidden()
    expect(page.locator("#edit-examples")).to_be_hidden()  # their images would be refused
    expect(page.locator("#edit-shape")).not_to_contain_text("Like the last reference")  # no 1K/2K tiers
    expect(page.locator("#edit-shape")).to_contain_text("1:1 · 1280×1280")
    expect(page.locator("#edit-notes")).to_contain_text("paste them in Reference URLs, under Advanced")
    expect(page.locator("#edit-urls textarea")).to_be_visible()  # Advanced opened: the box the note names is there
    expect(page.locator("#edit-width")).to_be_visible()
    settled()  # the vendor's updates are in: what is typed next is not replaced (a CI run lost the link once)
    page.locator("#edit-urls textarea").fill("http://127.0.0.1:9/reference/cat.png")
    page.locator("#edit-prompt textarea").fill("image 1 in watercolour")
    expect(page.locator("#edit-urls textarea")).to_have_value("http://127.0.0.1:9/reference/cat.png")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-results img")).to_have_count(1, timeout=30_000)
    expect(page.locator("#edit-before-after")).to_be_hidden()  # a link is never fetched to be compared
    shots(page, "vendor_shortapi_edit")
    [job] = vendor_fakes["shortapi"].generation_requests()
    assert job.json["args"]["image_urls"] == ["http://127.0.0.1:9/reference/cat.png"]


def test_stopping_while_an_image_downloads_leaves_its_link_on_the_page(page, dashscope_fake, served, shots):
    dashscope_fake.delay("download", 8, times=4)  # the image exists at the vendor, not yet here
    page.locator("#text_to_image-prompt textarea").fill("a lighthouse at dawn")
    page.locator("#text_to_image-run").click()
    details = page.locator("#text_to_image-details")
    expect(details).to_contain_text("not saved yet", timeout=30_000)
    page.locator("#text_to_image-stop").click()
    page.wait_for_timeout(1500)
    link = details.locator("a", has_text="vendor's link")
    expect(link).to_have_count(1)
    assert link.get_attribute("href").startswith(dashscope_fake.server_url)
    shots(page, "stopped_during_download")


def test_stop_after_a_run_has_finished_leaves_its_details_as_they_are(page, dashscope_fake, shots):
    page.locator("#text_to_image-prompt textarea").fill("a lighthouse at dawn")
    page.locator("#text_to_image-run").click()
    details = page.locator("#text_to_image-details")
    expect(details).to_contain_text("wan2.6-t2i", timeout=30_000)
    finished = details.inner_text()
    page.locator("#text_to_image-stop").click()
    page.wait_for_timeout(1500)  # the stop's note would have come by now
    assert details.inner_text() == finished and "Stopped" not in finished
    expect(page.locator("#text_to_image-results img")).to_have_count(1)
    shots(page, "stop_after_finished")


def test_a_task_stopped_while_running_is_followed_and_its_images_shown(page, dashscope_fake, shots):
    dashscope_fake.task_script = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    run_as_task_then_stop(page, "a lighthouse at dawn")
    [task_id] = dashscope_fake.tasks
    details = page.locator("#text_to_image-details")
    expect(details).to_contain_text("Stopped.", timeout=10_000)
    expect(details).to_contain_text(f"Task id {task_id}")  # kept, without the advice on stopping
    expect(details).not_to_contain_text("if you stop")
    open_settings(page)
    page.get_by_role("button", name="Stopped runs").click()
    status = page.locator("#stopped-status")
    for _ in range(30):  # the task finishes at the vendor a few polls later
        page.locator("#stopped-check").click()
        page.wait_for_timeout(1000)
        if "finished" in status.inner_text():
            break
    expect(status).to_contain_text(f"Task {task_id}")
    expect(status).to_contain_text("finished: 1 image(s) saved")
    expect(page.locator("#stopped-runs img")).to_have_count(1)
    shots(page, "stopped_task_followed")
    assert len(dashscope_fake.generation_requests()) == 1
    # One run in History: the result is saved beside the stopped run's record, which keeps its prompt.
    outputs = Path(os.environ["WAN26_OUTPUT_DIR"])
    [record] = [r for r in map(json.loads, map(Path.read_text, outputs.rglob("run.json"))) if r["task_id"] == task_id]
    assert (record["status"], record["prompt"], len(record["images"])) == ("succeeded", "a lighthouse at dawn", 1)


def test_on_a_phone_interleaved_text_goes_on_while_an_image_downloads(browser, served, dashscope_fake, shots):
    dashscope_fake.delay("download", 2.0, times=3)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        phone.goto(served)
        open_tab(phone, "Interleaved")
        phone.locator("#interleave-prompt textarea").fill("a two-step recipe")
        phone.locator("#interleave-run").click()
        chat = phone.locator("#interleave-chat")
        expect(chat).to_contain_text("image 1 is being saved", timeout=30_000)
        expect(chat).to_contain_text("Step 2")  # the text after image 1, shown before its file arrives
        shots(phone, "interleave_phone_downloading")
        expect(chat.locator("img")).to_have_count(3, timeout=30_000)
        expect(chat).not_to_contain_text("is being saved")
        shots(phone, "interleave_phone_done")
    finally:
        context.close()


def test_pasted_text_is_counted_at_once(page):
    page.locator("#text_to_image-prompt textarea").click()
    page.keyboard.insert_text("x" * 2200)  # what a paste does: one input of the whole text
    expect(page.locator("#text_to_image-count")).to_contain_text("2,200 / 2,100 characters", timeout=10_000)
    expect(page.locator("#text_to_image-count")).to_contain_text("100 too many")


def test_a_width_typed_beyond_the_slider_gets_our_verdict_and_no_error(page, dashscope_fake, shots):
    open_advanced(page, "text_to_image")
    type_size(page, "text_to_image", "width", "5000", "5000x1280 is 6,400,000 pixels")
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)  # no pop-up from the slider's own check
    shots(page, "width_5000")
    assert dashscope_fake.requests == []


def test_sending_a_result_to_edit_says_so_on_the_page(page):
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    page.locator("#text_to_image-to-edit").click()
    expect(page.get_by_text("Sent to Edit as image 1.")).to_be_visible(timeout=10_000)


def test_a_result_is_not_sent_to_edit_for_a_vendor_that_takes_links_only(page, vendor_fakes, monkeypatch, shots):
    for variable, value in vendor_fakes["shortapi"].env().items():
        monkeypatch.setenv(variable, value)
    page.reload()
    wait_for_page_load_event(page, "ShortAPI")
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    pick_vendor(page, "ShortAPI")
    expect(page.locator("#text_to_image-notes")).to_contain_text("ShortAPI", timeout=10_000)
    page.locator("#text_to_image-to-edit").click()
    expect(page.get_by_text("takes reference images as http(s) links only")).to_be_visible(timeout=10_000)
    open_tab(page, "Edit")
    expect(page.locator("#edit-references img")).to_have_count(0)
    shots(page, "to_edit_refused_for_shortapi")


TABS = (("Text to image", "text_to_image"), ("Edit", "edit"), ("Interleaved", "interleave"))


def click_example(page, mode, text):
    page.locator(f"#{mode}-examples tbody tr", has_text=text).click()


def nothing_sent(fakes):
    return {name: len(fake.requests) for name, fake in fakes.items() if fake.requests} == {}


def test_generate_stays_on_the_first_screen_with_the_examples_below(page, shots):
    page.set_viewport_size({"width": 1280, "height": 720})
    for tab, mode in TABS:
        open_tab(page, tab)
        expect(page.locator(f"#{mode}-examples")).to_be_visible()
        run, examples = page.locator(f"#{mode}-run").bounding_box(), page.locator(f"#{mode}-examples").bounding_box()
        assert run["y"] + run["height"] < 720, f"{tab}: Generate is below the first screen"
        assert examples["y"] > run["y"], f"{tab}: the examples push Generate down"
        shots(page, f"first_screen_{mode}", full_page=False)


def test_examples_fill_the_form_and_run_nothing(page, vendor_fakes, shots):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_advanced(page, "text_to_image")
    negative = page.locator("#text_to_image-negative textarea")
    click_example(page, "text_to_image", "coffee mug")
    expect(negative).to_have_value("text, logo, watermark")  # filled, though its column is not shown
    click_example(page, "text_to_image", "LISBOA")
    expect(page.locator("#text_to_image-prompt textarea")).to_have_value(re.compile(r'^Minimalist .*"LISBOA"'))
    expect(page.locator("#text_to_image-shape input[value='2:3']")).to_be_checked()
    expect(negative).to_have_value("")  # the last example's is not left behind
    # The shape sets the exact size, as a click on it does.
    expect(page.locator("#text_to_image-width input[type=number]")).to_have_value("1056", timeout=10_000)
    shots(page, "example_text_to_image")

    open_tab(page, "Edit")
    click_example(page, "edit", "blue top hat")
    references = page.locator("#edit-references")
    expect(references.locator("img")).to_have_count(2, timeout=10_000)
    expect(references).to_contain_text("Image 2")
    expect(page.locator("#edit-prompt textarea")).to_have_value(re.compile("^Put the blue top hat from image 2"))
    shots(page, "example_edit")

    open_tab(page, "Interleaved")
    click_example(page, "interleave", "Kyoto")
    expect(page.locator("#interleave-prompt textarea")).to_have_value(re.compile("^A one-day travel guide to Kyoto"))
    expect(page.locator("#interleave-shape input[value='3:2']")).to_be_checked()
    shots(page, "example_interleave")
    page.wait_for_timeout(1000)  # time for a run to have started, were one started
    assert nothing_sent(vendor_fakes)


def test_an_edit_examples_shipped_images_are_sent_as_its_references(page, dashscope_fake):
    open_tab(page, "Edit")
    click_example(page, "edit", "blue top hat")
    expect(page.locator("#edit-references img")).to_have_count(2, timeout=10_000)
    assert dashscope_fake.requests == []
    page.locator("#edit-run").click()
    expect(page.locator("#edit-results img")).to_have_count(1, timeout=30_000)
    content = dashscope_fake.generation_requests()[0].json["input"]["messages"][0]["content"]
    assert [part["image"][:22] for part in content[1:]] == ["data:image/png;base64,"] * 2


def test_on_a_phone_an_edit_example_fills_the_references(browser, served, dashscope_fake, shots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        phone.goto(served)
        open_tab(phone, "Edit")
        click_example(phone, "edit", "winter night")
        expect(phone.locator("#edit-references img")).to_have_count(1, timeout=10_000)
        expect(phone.locator("#edit-prompt textarea")).to_have_value(re.compile("^Image 1 on a winter night"))
        shots(phone, "example_edit_phone")
        open_tab(phone, "Text to image")
        shots(phone, "examples_text_to_image_phone")
    finally:
        context.close()
    assert dashscope_fake.requests == []


def test_an_edit_shows_its_first_reference_against_the_chosen_result(page, dashscope_fake, shots, tmp_path):
    upload_reference(page, tmp_path / "field.png", (640, 480), (200, 170, 40))
    expect(page.locator("#edit-references")).to_contain_text("Image 1", timeout=10_000)
    count = page.locator("#edit-count-slider input[type=number]")
    count.fill("2")
    count.press("Enter")
    page.locator("#edit-prompt textarea").fill("image 1 at dusk")
    page.locator("#edit-run").click()
    results = page.locator("#edit-results img")
    expect(results).to_have_count(2, timeout=30_000)
    compared = page.locator("#edit-before-after img")
    expect(compared).to_have_count(2, timeout=10_000)
    expect(compared.nth(1)).to_have_attribute("src", results.nth(0).get_attribute("src"))
    shots(page, "before_after_first")
    second = results.nth(1).get_attribute("src")
    results.nth(1).click()
    expect(compared.nth(1)).to_have_attribute("src", second, timeout=10_000)
    assert "field" in compared.nth(0).get_attribute("src")  # the reference itself: same shape as the result
    shots(page, "before_after_second")


def shown_images_loaded(page, selector):
    """Every <img> under `selector` fetched and decoded: the server let the browser have the file."""
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{selector} img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=10_000,
    )


@contextlib.contextmanager
def app_started_in(folder, *fakes):
    """`python <repo>/app.py` started from `folder`, with only the vendors of `fakes`; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    no_keys = {adapter.facts.key_env: "" for adapter in PROVIDERS.values()}
    env = {**os.environ, **no_keys, **{k: v for fake in fakes for k, v in fake.env().items()}, "WAN26_MCP": "off"}
    env |= {"GRADIO_SERVER_PORT": str(port), "WAN26_OUTPUT_DIR": str(folder / "outputs"), "PYTHONPATH": str(GUARD)}
    app = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=folder, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            assert app.poll() is None, "the app stopped"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            time.sleep(0.5)
        yield url
    finally:
        app.terminate()
        app.wait(timeout=30)


def two_references_from_an_edit_example(page):
    """The Edit example with two shipped images, clicked: both land in the references and load."""
    open_tab(page, "Edit")
    shown_images_loaded(page, "#edit-examples")
    click_example(page, "edit", "blue top hat")
    expect(page.locator("#edit-references img")).to_have_count(2, timeout=10_000)
    shown_images_loaded(page, "#edit-references")


def test_edit_examples_load_their_images_when_the_app_runs_from_another_folder(browser, dashscope_fake, tmp_path):
    with app_started_in(tmp_path, dashscope_fake) as url, new_visitor(browser, url, 1280, 720) as page:
        two_references_from_an_edit_example(page)
    assert dashscope_fake.requests == []


def test_started_from_another_folder_a_vendor_switch_adapts_the_form(browser, vendor_fakes, tmp_path, shots):
    """Gradio checks the Edit examples' images again whenever the vendor switch rebuilds their table;
    outside the folder the app was started from it refused them, and the whole switch failed with
    them ("Error" under the form, the last vendor's sizes kept). Nothing else of the app's is served."""
    with app_started_in(tmp_path, vendor_fakes["dashscope"], vendor_fakes["runware"]) as url:
        with new_visitor(browser, url, 1280, 720) as page:
            wait_for_page_load_event(page, "Runware")
            pick_vendor(page, "Runware")
            expect(page.locator("#text_to_image-notes")).to_contain_text("Runware takes no seed", timeout=10_000)
            expect(page.locator("#text_to_image-shape")).to_contain_text("1480×1112")  # Runware's 4:3, not DashScope's
            shots(page, "started_elsewhere_runware", full_page=False)
            two_references_from_an_edit_example(page)
        examples = REPO / "wan26" / "ui" / "examples"
        with httpx.Client(base_url=url) as stranger:  # the shipped images by path, and nothing beside them
            assert stranger.get(f"gradio_api/file={examples / 'blue-hat.png'}").status_code == 200
            beside = (examples, examples / "blue-hat.png.bak", examples.parent / "form_examples.py", REPO / "app.py")
            for path in beside:
                assert stranger.get(f"gradio_api/file={path}").status_code == 403, path
    assert all(fake.requests == [] for fake in vendor_fakes.values())
