"""The History tab in headless Chromium, as a visitor uses it, against the DashScope fake.

Each test launches its own app (History's mode is read when the app is built) on its own output
folder; `own` mode is what a public Space runs. Screenshots go to $WAN26_SCREENSHOTS, as in
test_browser.py, whose browser fixture and helpers are reused here.
"""

import io
import os
import re
import zipfile
from pathlib import Path

import pytest
import test_browser  # skips this module too when Chromium is missing
from playwright.sync_api import expect
from test_browser import open_advanced, pick_vendor, run_as_task_then_stop

from history_app import free_port, history_env, launched

browser, page, shots = test_browser.browser, test_browser.page, test_browser.shots  # its fixtures

VIEWPORT = {"width": 1280, "height": 720}


@pytest.fixture
def app_env(_vendor_servers, dashscope_fake, tmp_path, monkeypatch):
    """An own-mode app's environment, also set in the process (a run's client reads it there)."""
    env = history_env(_vendor_servers, tmp_path / "outputs")
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    return env


@pytest.fixture
def own_app(app_env):
    with launched(app_env, free_port()) as url:
        yield url


def visit(context, url):
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
    return page


def generate(page, prompt):
    """Run text to image; the id of the run folder it made (its details name it)."""
    open_tab(page, "Text to image")
    details = page.locator("#text_to_image-details")
    before = details.inner_text()
    page.locator("#text_to_image-prompt textarea").fill(prompt)
    page.locator("#text_to_image-run").click()
    for _ in range(300):
        named = re.search(r"run folder\s+(\S+)", details.inner_text())
        if named and named.group(1) not in before:
            return named.group(1)
        page.wait_for_timeout(100)
    raise AssertionError(f"the run did not finish: {details.inner_text()}")


def open_tab(page, name):
    """test_browser's open_tab, also where a narrow screen puts the tab under "More tabs"."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.is_visible():
        tab.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator(".overflow-dropdown button", has_text=name).click()


def open_history(page):
    open_tab(page, "History")
    expect(page.locator("#history-where")).to_be_visible(timeout=10_000)


def cards(page):
    return page.locator("#history-runs [aria-label^='Thumbnail']")


def test_a_run_appears_in_history_and_can_be_reused_downloaded_and_deleted(browser, own_app, app_env, shots):
    context = browser.new_context(viewport=VIEWPORT)
    page = visit(context, own_app)
    first = generate(page, "a lighthouse at dawn")
    page.wait_for_timeout(1100)  # run ids tell time to the second: runs within one second have no order
    second = generate(page, "a red fox in fresh snow")
    page.locator("#text_to_image-prompt textarea").fill("something else")  # for Reuse to bring it back
    open_history(page)
    expect(page.locator("#history-where")).to_contain_text("Page 1 of 1 · 2 runs", timeout=10_000)
    expect(cards(page)).to_have_count(2)
    captions = page.locator("#history-runs .caption-label")
    expect(captions.first).to_contain_text("a red fox in fresh snow")  # newest first
    expect(captions.nth(1)).to_contain_text("a lighthouse at dawn")
    expect(captions.first).to_contain_text("DashScope · Text to image")
    seed = re.search(r"seed (\d+)", captions.first.inner_text()).group(1)
    shots(page, "history_list")

    cards(page).first.click()
    details = page.locator("#history-details")
    expect(details).to_contain_text("a red fox in fresh snow", timeout=10_000)
    expect(details).to_contain_text(second)
    expect(page.locator("#history-images img")).to_have_count(1)
    shots(page, "history_selected")

    with page.expect_download() as download:
        page.locator("#history-download").click()
    assert download.value.suggested_filename == f"{second}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    folder = Path(app_env["WAN26_OUTPUT_DIR"]) / second
    assert sorted(archive.namelist()) == [f"{second}/01.png", f"{second}/run.json"]
    assert archive.read(f"{second}/01.png") == (folder / "01.png").read_bytes()

    page.locator("#history-reuse").click()
    expect(page.get_by_role("tab", name="Text to image")).to_have_attribute("aria-selected", "true", timeout=10_000)
    expect(page.locator("#text_to_image-prompt textarea")).to_have_value("a red fox in fresh snow")
    open_advanced(page, "text_to_image")
    expect(page.locator("#text_to_image-seed input")).to_have_value(seed)
    expect(page.locator("#text_to_image-random-seed input")).not_to_be_checked()
    shots(page, "history_reused")

    open_history(page)
    page.locator("#history-to-edit").click()
    expect(page.get_by_role("tab", name="Edit")).to_have_attribute("aria-selected", "true", timeout=10_000)
    expect(page.locator("#edit-references img")).to_have_count(1, timeout=10_000)

    open_history(page)
    cards(page).first.click()
    expect(details).to_contain_text(second, timeout=10_000)
    page.locator("#history-delete").click()
    expect(page.locator("#history-delete")).to_contain_text("Click again to delete", timeout=10_000)
    assert folder.is_dir()  # not yet: one click only asks
    page.locator("#history-delete").click()
    expect(page.locator("#history-where")).to_contain_text("1 run", timeout=10_000)
    expect(cards(page)).to_have_count(1)
    expect(page.locator("#history-runs .caption-label").first).to_contain_text("a lighthouse at dawn")
    assert not folder.exists()
    assert (Path(app_env["WAN26_OUTPUT_DIR"]) / first).is_dir()
    context.close()


def test_history_survives_a_reload_and_a_restart_of_the_app(browser, app_env, shots):
    port = free_port()
    context = browser.new_context(viewport=VIEWPORT)
    with launched(app_env, port) as url:
        page = visit(context, url)
        made = generate(page, "a lighthouse at dawn")
        open_history(page)  # the browser holds the run's id once History lists it: then restart
        expect(page.locator("#history-where")).to_contain_text("1 run", timeout=10_000)
    secret = Path(app_env["WAN26_OUTPUT_DIR"]) / ".browser-state-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    with launched(app_env, port):  # a new app on the same folder and address, as after a restart
        page.reload()
        expect(page.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
        open_history(page)
        expect(page.locator("#history-where")).to_contain_text("1 run", timeout=10_000)
        expect(page.locator("#history-runs .caption-label").first).to_contain_text("a lighthouse at dawn")
        cards(page).first.click()
        expect(page.locator("#history-details")).to_contain_text(made, timeout=10_000)
        shots(page, "history_after_restart")
    context.close()


def test_another_visitor_sees_none_of_my_runs(browser, own_app, shots):
    mine = browser.new_context(viewport=VIEWPORT)
    page = visit(mine, own_app)
    generate(page, "my private prompt")
    open_history(page)
    expect(cards(page)).to_have_count(1, timeout=10_000)

    stranger = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    other = visit(stranger, own_app)
    open_history(other)
    expect(other.locator("#history-where")).to_contain_text("No saved runs in this browser yet", timeout=10_000)
    expect(cards(other)).to_have_count(0)
    assert "my private prompt" not in other.content()
    shots(other, "history_stranger_phone")
    mine.close()
    stranger.close()


def test_on_a_phone_history_shows_two_cards_a_row_and_the_run_below(browser, own_app, shots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = visit(context, own_app)
    for prompt in ("a lighthouse at dawn", "a red fox in fresh snow", "a teapot on a windowsill"):
        generate(page, prompt)
    open_history(page)
    expect(cards(page)).to_have_count(3, timeout=10_000)
    first, second, third = (cards(page).nth(i).bounding_box() for i in range(3))
    assert first["y"] == second["y"] < third["y"]  # two a row
    assert first["width"] > 120
    shots(page, "history_phone_list")
    cards(page).first.click()
    expect(page.locator("#history-details")).to_contain_text("Text to image", timeout=10_000)
    page.locator("#history-selected").scroll_into_view_if_needed()
    shots(page, "history_phone_selected")
    context.close()


def test_with_history_off_there_is_no_history_tab(browser, app_env, monkeypatch):
    app_env["WAN26_HISTORY"] = "off"
    with launched(app_env, free_port()) as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = visit(context, url)
        expect(page.get_by_role("tab", name="Interleaved")).to_be_visible()
        expect(page.get_by_role("tab", name="History")).to_have_count(0)
        context.close()


def test_in_all_mode_a_run_from_the_command_line_is_listed(page, served, shots):
    """The shared app runs in `all` mode (no SPACE_ID): the whole output folder, whoever wrote it."""
    from PIL import Image

    from wan26.storage import RunFolder

    folder = RunFolder(Path(os.environ["WAN26_OUTPUT_DIR"]), "text_to_image")
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 30)).save(image, "PNG")
    folder.save_image(1, image.getvalue())
    folder.write_sidecar({"status": "succeeded", "provider": "dashscope", "prompt": "made on the command line"})
    open_history(page)
    expect(page.locator("#history-runs .caption-label").first).to_contain_text(
        "made on the command line", timeout=10_000
    )


def test_a_run_stopped_while_its_image_downloads_is_kept_in_history(browser, own_app, dashscope_fake, shots):
    dashscope_fake.delay("download", 8, times=4)  # the image exists at the vendor, not yet here
    context = browser.new_context(viewport=VIEWPORT)
    page = visit(context, own_app)
    page.locator("#text_to_image-prompt textarea").fill("a lighthouse at dawn")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-details")).to_contain_text("not saved yet", timeout=30_000)
    page.locator("#text_to_image-stop").click()
    open_history(page)
    caption = page.locator("#history-runs .caption-label").first
    expect(caption).to_contain_text("a lighthouse at dawn", timeout=15_000)
    expect(caption).to_contain_text("stopped")
    cards(page).first.click()
    expect(page.locator("#history-details")).to_contain_text("Status: stopped", timeout=10_000)
    shots(page, "history_stopped_run")
    context.close()


def test_a_task_stopped_while_running_joins_history_with_what_it_made_later(browser, own_app, dashscope_fake, shots):
    dashscope_fake.task_script = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    context = browser.new_context(viewport=VIEWPORT)
    page = visit(context, own_app)
    run_as_task_then_stop(page, "a lighthouse at dawn")
    open_history(page)
    captions = page.locator("#history-runs .caption-label")
    expect(captions.first).to_contain_text("stopped", timeout=15_000)  # its record: the prompt, no image yet
    for _ in range(30):  # the task finishes at the vendor a few polls later, and is saved into the same run
        page.wait_for_timeout(1000)
        page.locator("#history-refresh").click()
        if "stopped" not in captions.first.inner_text():
            break
    expect(captions.first).not_to_contain_text("stopped")
    expect(captions.first).to_contain_text("a lighthouse at dawn")  # one run, its prompt kept, not a second one
    expect(page.locator("#history-runs").get_by_text("(prompt not known)")).to_have_count(0)
    expect(cards(page)).to_have_count(1)  # a new visitor: only this run
    cards(page).first.click()
    expect(page.locator("#history-images img")).to_have_count(1, timeout=10_000)
    shots(page, "history_stopped_task_followed")
    context.close()



def test_reuse_switches_to_the_runs_vendor_then_fills_its_shape_and_seed(browser, app_env, vendor_fakes, monkeypatch):
    for variable, value in vendor_fakes["aimlapi"].env().items():
        monkeypatch.setenv(variable, value)
        app_env[variable] = value
    with launched(app_env, free_port()) as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = visit(context, url)
        page.locator("#open-settings").click()
        expect(page.locator("#key-status")).to_contain_text("AI/ML API", timeout=30_000)  # the page load answered
        pick_vendor(page, "AI/ML API")
        expect(page.locator("#text_to_image-notes")).to_contain_text("one image per call", timeout=10_000)
        open_advanced(page, "text_to_image")
        page.locator("#text_to_image-shape").get_by_text("16:9").click()
        expect(page.locator("#text_to_image-width input[type=number]")).to_have_value("1408", timeout=10_000)
        generate(page, "a wide fox")
        seed = re.search(r"seed (\d+)", page.locator("#text_to_image-details").inner_text()).group(1)
        for _ in range(2):  # the vendor's own reset of the form must never land after the run's values
            pick_vendor(page, "Alibaba Cloud DashScope")
            expect(page.locator("#text_to_image-width input[type=number]")).to_have_value("1280", timeout=10_000)
            open_history(page)
            cards(page).first.click()
            expect(page.locator("#history-details")).to_contain_text("a wide fox", timeout=10_000)
            page.locator("#history-reuse").click()
            expect(page.locator("#provider input")).to_have_value("AI/ML API", timeout=10_000)
            expect(page.locator("#text_to_image-shape input:checked")).to_have_value("16:9", timeout=10_000)
            expect(page.locator("#text_to_image-width input[type=number]")).to_have_value("1408")
            expect(page.locator("#text_to_image-height input[type=number]")).to_have_value("800")
            expect(page.locator("#text_to_image-seed input")).to_have_value(seed)
        context.close()


def test_reuse_after_a_reload_sends_the_runs_seed_with_advanced_never_opened(browser, own_app, dashscope_fake):
    """The seed controls sit in the closed Advanced accordion, which a reloaded page has not mounted:
    Reuse must still set them, and Generate send the run's seed, not 0."""
    context = browser.new_context(viewport=VIEWPORT)
    page = visit(context, own_app)
    open_advanced(page, "text_to_image")
    page.locator("#text_to_image-random-seed input").uncheck()
    page.locator("#text_to_image-seed input").fill("4242")
    page.locator("#text_to_image-seed input").press("Enter")
    generate(page, "a fox with a fixed seed")
    assert dashscope_fake.generation_requests()[-1].json["parameters"]["seed"] == 4242
    open_history(page)  # the browser keeps the run's id once History lists it
    expect(page.locator("#history-where")).to_contain_text("1 run", timeout=10_000)
    page.reload()  # Advanced is closed again, and never opened below until the run is sent
    expect(page.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
    open_history(page)
    cards(page).first.click()
    expect(page.locator("#history-details")).to_contain_text("a fox with a fixed seed", timeout=10_000)
    page.locator("#history-reuse").click()
    expect(page.locator("#text_to_image-prompt textarea")).to_have_value("a fox with a fixed seed", timeout=10_000)
    sent = len(dashscope_fake.generation_requests())
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    assert len(dashscope_fake.generation_requests()) == sent + 1
    assert dashscope_fake.generation_requests()[-1].json["parameters"]["seed"] == 4242
    open_advanced(page, "text_to_image")
    expect(page.locator("#text_to_image-random-seed input")).not_to_be_checked()
    expect(page.locator("#text_to_image-seed input")).to_have_value("4242")
    expect(page.locator("#text_to_image-seed input")).to_be_editable()  # as when a visitor unticks Random
    context.close()


def test_reuse_of_a_wan_2_7_run_brings_back_its_palette_and_generate_sends_it(page, served, dashscope_fake):
    """A run made with a palette (here written as the command line would): Reuse picks Wan 2.7,
    shows the palette's rows with the run's colours and shares, and Generate sends them."""
    from PIL import Image

    from wan26.storage import RunFolder

    colours = [("#112233", 40.0), ("#445566", 30.0), ("#778899", 20.0), ("#AABBCC", 10.0)]
    folder = RunFolder(Path(os.environ["WAN26_OUTPUT_DIR"]), "text_to_image")
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 40, 60)).save(image, "PNG")
    folder.save_image(1, image.getvalue())
    record = {"status": "succeeded", "mode": "text_to_image", "provider": "dashscope", "wan_model": "wan2.7"}
    record |= {"prompt": "a harbour in four colours", "parameters": {"size": "2K", "seed": 5, "n": 1}}
    folder.write_sidecar(record | {"palette": [{"hex": code, "percent": share} for code, share in colours]})
    open_history(page)
    cards(page).first.click()
    expect(page.locator("#history-details")).to_contain_text("a harbour in four colours", timeout=10_000)
    page.locator("#history-reuse").click()
    expect(page.locator("#text_to_image-prompt textarea")).to_have_value("a harbour in four colours", timeout=10_000)
    expect(page.locator("#model input")).to_have_value("Wan 2.7")
    page.locator("#text_to_image-palette").get_by_text("Colour palette").first.click()  # open the accordion
    expect(page.locator("#text_to_image-palette-use input")).to_be_checked()
    for number, (_, share) in enumerate(colours, start=1):
        expect(page.locator(f"#text_to_image-share-{number} input")).to_have_value(f"{share:g}")
    expect(page.locator("#text_to_image-share-5")).to_be_hidden()  # four rows, as the run had
    sent = len(dashscope_fake.generation_requests())
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    assert len(dashscope_fake.generation_requests()) == sent + 1
    palette = dashscope_fake.generation_requests()[-1].json["parameters"]["color_palette"]
    assert palette == [{"hex": code, "ratio": f"{share:.2f}%"} for code, share in colours]
    # A 2.7 run made without a palette, reused next, is sent without one: not with the palette left on.
    plain = RunFolder(Path(os.environ["WAN26_OUTPUT_DIR"]), "text_to_image")
    plain.save_image(1, image.getvalue())
    plain.write_sidecar(record | {"prompt": "a harbour in its own colours"})
    open_history(page)
    page.locator("#history-refresh").click()
    captions = page.locator("#history-runs .caption-label")
    expect(captions.filter(has_text="a harbour in its own colours")).to_have_count(1, timeout=10_000)
    cards(page).nth(captions.all_inner_texts().index(captions.filter(has_text="own colours").inner_text())).click()
    expect(page.locator("#history-details")).to_contain_text("a harbour in its own colours", timeout=10_000)
    page.locator("#history-reuse").click()
    expect(page.locator("#text_to_image-prompt textarea")).to_have_value("a harbour in its own colours", timeout=10_000)
    expect(page.locator("#text_to_image-palette-use input")).not_to_be_checked()
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    assert len(dashscope_fake.generation_requests()) == sent + 2
    assert "color_palette" not in dashscope_fake.generation_requests()[-1].json["parameters"]
