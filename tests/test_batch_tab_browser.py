"""The Batch tab in headless Chromium, as a visitor uses it: upload a jobs file and the image it
names, see the rows and the estimate, run, watch the progress and the gallery grow, download the
zip. At 1280×720 and on a phone (390×844); screenshots go to /tmp/batchtab-*.png (or
$WAN26_SCREENSHOTS) for a person to look at.

Uses test_browser.py's browser and the session's app (DashScope's key on the server, its fake)."""

import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from test_browser import browser  # noqa: F401  (fixture)
from test_browser_history import open_tab

HELD, QUICK = ["RUNNING"], ["SUCCEEDED"]
WAIT_MS = 30_000


@pytest.fixture
def shoot():
    folder = Path(os.environ.get("WAN26_SCREENSHOTS") or "/tmp")

    def take(page, name: str, full_page: bool = False) -> None:  # full_page=False: what the screen shows
        page.screenshot(path=str(folder / f"batchtab-{name}.png"), full_page=full_page)

    return take


def visit(browser, served, width: int, height: int, chinese: bool = False):  # noqa: F811
    language = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}} if chinese else {}
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=width < 500, **language)
    page = context.new_page()
    page.goto(served)
    expect(page.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=WAIT_MS)
    open_batch(page, "批量" if chinese else "Batch")
    return context, page


def open_batch(page, name: str = "Batch") -> None:
    """The Batch tab, also where a narrow screen puts it under "More tabs"."""
    open_tab(page, name)
    expect(page.locator("#batch-status")).to_be_visible(timeout=10_000)


def jobs_files(folder: Path, rows: int) -> tuple[Path, Path]:
    """A jobs file of `rows` rows, the last an edit of the image it names, and that image."""
    image = folder / "bottle.png"
    Image.new("RGB", (640, 640), (40, 90, 160)).save(image)
    lines = ["prompt,mode,images,n"] + [f"product shot {n:02d},,,1" for n in range(1, rows)]
    lines.append("image 1 on a marble table,edit,bottle.png,1")
    jobs = folder / "products.csv"
    jobs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return jobs, image


def upload(page, jobs: Path, image: Path) -> None:
    page.locator("#batch-images input[type=file]").set_input_files(str(image))
    page.locator("#batch-jobs input[type=file]").set_input_files(str(jobs))


def on_first_screen(page, selector: str, height: int) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] + box["height"] <= height, f"{selector} is below the fold: {box}"


def release(fake, how_many: int | None = None) -> None:
    """Let held tasks (all, or the first `how_many`) finish at their next poll."""
    with fake._lock:
        for task in list(fake.tasks.values())[:how_many]:
            task.script, task.step = list(QUICK), -1


def test_upload_check_run_watch_and_download_at_1280(browser, served, dashscope_fake, tmp_path, shoot):  # noqa: F811
    dashscope_fake.task_script = list(HELD)
    context, page = visit(browser, served, 1280, 720)
    try:
        for selector in ("#batch-jobs", "#batch-images", "#batch-run"):
            on_first_screen(page, selector, 720)
        shoot(page, "1280-empty")
        upload(page, *jobs_files(tmp_path, 8))
        status = page.locator("#batch-status")
        expect(status).to_contain_text("8 row(s) · 8 image(s) · estimated $0.240", timeout=WAIT_MS)
        expect(page.locator("#batch-plan")).to_contain_text("product shot 03")
        expect(page.locator("#batch-plan")).to_contain_text("image 1 on a marble table")
        expect(page.locator("#batch-run")).to_be_enabled()
        on_first_screen(page, "#batch-status", 720)
        shoot(page, "1280-checked")

        page.locator("#batch-run").click()
        expect(status).to_contain_text("0 / 8 rows", timeout=WAIT_MS)
        expect(page.locator("#batch-stop")).to_be_enabled()
        shoot(page, "1280-running")
        release(dashscope_fake, 2)
        expect(page.locator("#batch-gallery img")).to_have_count(2, timeout=WAIT_MS)  # the gallery grows
        expect(status).to_contain_text("2 / 8 rows")
        shoot(page, "1280-growing")
        dashscope_fake.task_script = list(QUICK)
        release(dashscope_fake)
        expect(status).to_contain_text("Batch done", timeout=60_000)
        expect(page.locator("#batch-gallery img")).to_have_count(8)
        shoot(page, "1280-done")
        shoot(page, "1280-done-full", full_page=True)

        with page.expect_download() as downloading:
            page.locator("#batch-download").click()
        archive = zipfile.ZipFile(io.BytesIO(Path(downloading.value.path()).read_bytes()))
        names = archive.namelist()
        assert downloading.value.suggested_filename.startswith("batch-")
        assert sum(name.endswith(".png") and "/inputs/" not in name for name in names) == 8
        assert {"index.csv", "index.jsonl", "index.html"} <= {name.split("/", 1)[1] for name in names}
        assert len(dashscope_fake.generation_requests()) == 8
        edit = dashscope_fake.generation_requests()
        assert any("image 1 on a marble table" in request.body.decode() for request in edit)
    finally:
        context.close()


def test_on_a_phone_the_uploads_run_and_the_verdict_are_on_the_first_screen(
    browser,  # noqa: F811
    served,
    dashscope_fake,
    tmp_path,
    shoot,
):
    dashscope_fake.task_script = list(QUICK)
    context, page = visit(browser, served, 390, 844)
    try:
        on_first_screen(page, "#batch-run", 844)
        shoot(page, "390-empty")
        jobs, image = jobs_files(tmp_path, 3)
        jobs.write_text(jobs.read_text() + "a bad row,,/etc/passwd,1\n", encoding="utf-8")
        upload(page, jobs, image)
        status = page.locator("#batch-status")
        expect(status).to_contain_text("1 problem(s)", timeout=WAIT_MS)
        expect(status).to_contain_text("line 5 (row 4) · image 1: is a file path")
        expect(page.locator("#batch-run")).to_be_disabled()
        on_first_screen(page, "#batch-status", 844)
        shoot(page, "390-problem")

        page.locator("#batch-jobs").get_by_role("button", name="Clear").click()  # and another file
        expect(status).to_contain_text("Upload a jobs file", timeout=WAIT_MS)
        page.locator("#batch-jobs input[type=file]").set_input_files(str(jobs_files(tmp_path, 3)[0]))
        expect(status).to_contain_text("3 row(s)", timeout=WAIT_MS)
        on_first_screen(page, "#batch-run", 844)
        shoot(page, "390-checked")
        page.locator("#batch-run").click()
        expect(status).to_contain_text("Batch done", timeout=60_000)
        expect(page.locator("#batch-gallery img")).to_have_count(3)
        shoot(page, "390-done")
        shoot(page, "390-done-full", full_page=True)
        assert len(dashscope_fake.generation_requests()) == 3
    finally:
        context.close()


def test_a_chinese_browser_gets_the_tab_and_its_verdict_in_chinese(browser, served, dashscope_fake, tmp_path, shoot):  # noqa: F811
    context, page = visit(browser, served, 1280, 720, chinese=True)
    try:
        status = page.locator("#batch-status")
        expect(status).to_contain_text("请上传任务文件")
        expect(page.locator("#batch-run")).to_contain_text("运行批量任务")
        jobs, image = jobs_files(tmp_path, 3)
        jobs.write_text(jobs.read_text() + "a bad row,,../secret.png,1\n", encoding="utf-8")
        upload(page, jobs, image)
        expect(status).to_contain_text("1 个问题", timeout=WAIT_MS)
        expect(status).to_contain_text("第 5 行（序号 4） · 图1：是文件路径")
        expect(page.locator("#batch-plan")).to_contain_text("文生图")
        shoot(page, "1280-zh")
        assert dashscope_fake.requests == []
    finally:
        context.close()


@pytest.fixture
def space(_vendor_servers, tmp_path):
    """The app as a public Space: DashScope's key on the server, not allowed for batches."""
    from history_app import free_port, history_env, launched

    env = history_env(_vendor_servers, tmp_path / "outputs", mode="own") | {"SPACE_ID": "owner/studio"}
    with launched(env, free_port()) as url:
        yield url


def test_on_a_space_the_visitor_is_asked_for_their_key_and_the_verdict_follows_it(
    browser,  # noqa: F811
    space,
    dashscope_fake,
    tmp_path,
    shoot,
):
    dashscope_fake.task_script = list(QUICK)
    context, page = visit(browser, space, 1280, 720)
    try:
        upload(page, *jobs_files(tmp_path, 2))
        status = page.locator("#batch-status")
        expect(status).to_contain_text("On this Space a batch runs with your own key only", timeout=WAIT_MS)
        expect(page.locator("#batch-run")).to_be_disabled()
        shoot(page, "1280-space-no-key")
        page.locator("#open-settings").click()
        page.locator("#own-key input").fill(dashscope_fake.api_key)
        page.locator("#use-key").click()
        expect(status).to_contain_text("Paid with your Alibaba Cloud DashScope key", timeout=WAIT_MS)
        expect(page.locator("#batch-run")).to_be_enabled()
        assert dashscope_fake.requests == []
        page.locator("#batch-run").click()
        expect(status).to_contain_text("Batch done", timeout=60_000)
        assert len(dashscope_fake.generation_requests()) == 2
    finally:
        context.close()


def test_after_a_reload_the_batch_is_followed_stopped_and_its_end_shown_again(
    browser,  # noqa: F811
    served,
    dashscope_fake,
    tmp_path,
):
    """The page keeps its batch's id in the browser: reloaded, it follows the batch where it is,
    Stop works; reloaded after the end, it shows how it ended, its images and its zip."""
    dashscope_fake.task_script = list(HELD)
    context, page = visit(browser, served, 1280, 720)
    status, gallery = page.locator("#batch-status"), page.locator("#batch-gallery img")
    try:
        upload(page, *jobs_files(tmp_path, 12))
        expect(page.locator("#batch-run")).to_be_enabled(timeout=WAIT_MS)
        page.locator("#batch-run").click()
        expect(status).to_contain_text("0 / 12 rows", timeout=WAIT_MS)
        release(dashscope_fake, 1)
        expect(gallery).to_have_count(1, timeout=WAIT_MS)

        reload_batch(page)
        expect(status).to_contain_text("Your latest batch", timeout=WAIT_MS)
        expect(status).to_contain_text("products.csv")
        expect(status).to_contain_text("1 / 12 rows")
        expect(gallery).to_have_count(1)
        expect(page.locator("#batch-stop")).to_be_enabled()
        expect(page.locator("#batch-run")).to_be_disabled()
        on_first_screen(page, "#batch-status", 720)
        page.screenshot(path="/tmp/reload-running.png")
        release(dashscope_fake, 2)  # the progress goes on in the reloaded page
        expect(status).to_contain_text("2 / 12 rows", timeout=WAIT_MS)
        expect(gallery).to_have_count(2)
        page.locator("#batch-stop").click()
        expect(status).to_contain_text("Stopping", timeout=WAIT_MS)
        dashscope_fake.task_script = list(QUICK)
        release(dashscope_fake)  # the rows under way finish
        expect(status).to_contain_text("Stopped", timeout=WAIT_MS)
        done = gallery.count()

        reload_batch(page)
        expect(status).to_contain_text("Stopped", timeout=WAIT_MS)
        expect(status).to_contain_text("Your latest batch")
        expect(gallery).to_have_count(done)
        expect(page.locator("#batch-download")).to_be_visible()
        page.screenshot(path="/tmp/reload-ended.png")
        with page.expect_download() as downloading:
            page.locator("#batch-download").click()
        archive = zipfile.ZipFile(io.BytesIO(Path(downloading.value.path()).read_bytes()))
        assert sum(name.endswith(".png") and "/inputs/" not in name for name in archive.namelist()) == done
    finally:
        context.close()


def reload_batch(page) -> None:
    page.reload()
    expect(page.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=WAIT_MS)
    open_batch(page)


def test_rows_that_name_no_model_take_the_one_picked_at_the_top(browser, served, dashscope_fake, tmp_path):  # noqa: F811
    dashscope_fake.task_script = list(QUICK)
    context, page = visit(browser, served, 1280, 720)
    try:
        model = page.locator("#model input")
        model.click()
        page.get_by_role("option", name="Wan 2.7 Pro", exact=True).click()
        expect(model).to_have_value("Wan 2.7 Pro")
        jobs = tmp_path / "two.csv"
        jobs.write_text("prompt,model\na lighthouse,\na harbour,wan2.6\n", encoding="utf-8")
        page.locator("#batch-jobs input[type=file]").set_input_files(str(jobs))
        status = page.locator("#batch-status")
        expect(status).to_contain_text("2 row(s) · 2 image(s) · estimated $0.105", timeout=WAIT_MS)  # 0.075 + 0.03
        page.locator("#batch-run").click()
        expect(status).to_contain_text("Batch done", timeout=60_000)
        sent = {
            request.json["input"]["messages"][0]["content"][0]["text"]: request.json["model"]
            for request in dashscope_fake.generation_requests()
        }
        assert sent == {"a lighthouse": "wan2.7-image-pro", "a harbour": "wan2.6-t2i"}
    finally:
        context.close()
