"""The app in a Chinese browser (zh-CN): labels, server-written texts, verdicts and errors in Chinese.

Uses test_browser.py's Chromium fixtures. Screenshots at 1280×720 and 390 px wide go to
$WAN26_SCREENSHOTS (default: the test's tmp folder).
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_browser import USER_KEY, browser, page_load_watch, type_size  # noqa: F401 (the module-scoped fixture, shared)
from test_browser_history import app_env, open_tab, own_app  # noqa: F401 (fixtures: an own-mode app of its own)

ZH_HEADERS = {"Accept-Language": "zh-CN,zh;q=0.9"}
LOCALES = {"zh": ("zh-CN", ZH_HEADERS), "en": ("en-US", {"Accept-Language": "en-US,en;q=0.9"})}
TABS = {"text_to_image": "文生图", "edit": "图像编辑", "interleave": "图文混排"}


def chinese_page(browser, served, width=1400, height=1000, **options):  # noqa: F811
    return language_page(browser, served, "zh", width, height, **options)


def language_page(browser, served, lang, width=1400, height=1000, **options):  # noqa: F811
    """A new browser context in `lang` ("zh" or "en") at the app, once the page-load events are over."""
    locale, headers = LOCALES[lang]
    context = browser.new_context(
        locale=locale, extra_http_headers=headers, viewport={"width": width, "height": height}, **options
    )
    page = context.new_page()
    settled = page_load_watch(page)
    page.goto(served)
    expect(page.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
    settled()
    return context, page


@pytest.fixture
def zh_page(browser, served, dashscope_fake):  # noqa: F811
    context, page = chinese_page(browser, served)
    yield page
    context.close()


@pytest.fixture
def zh_shots(tmp_path):
    folder = Path(os.environ.get("WAN26_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return lambda page, name, full=True: page.screenshot(path=str(folder / f"zh_{name}.png"), full_page=full)


def test_a_chinese_browser_gets_the_page_in_chinese(zh_page):
    page = zh_page
    for name in TABS.values():
        expect(page.get_by_role("tab", name=name)).to_be_visible()
    expect(page.locator("#text_to_image-prompt")).to_contain_text("提示词")
    expect(page.locator("#text_to_image-run")).to_have_text("生成")
    expect(page.locator("#text_to_image-shape")).to_contain_text("比例")
    expect(page.locator("#text_to_image-price")).to_contain_text("按标价每次 $0.030", timeout=10_000)
    expect(page.locator("#text_to_image-count")).to_contain_text("0 / 2,100 字符")
    expect(page.locator("#text_to_image-prompt textarea")).to_have_attribute(
        "placeholder", "黎明时分的灯塔，水彩画，柔和光线（Enter 生成 · Shift+Enter 换行）"
    )
    page.locator("#text_to_image-prompt textarea").fill("一座灯塔")
    expect(page.locator("#text_to_image-count")).to_contain_text("4 / 2,100 字符")


def test_a_refused_size_is_explained_in_chinese(zh_page, dashscope_fake, zh_shots):
    page = zh_page
    page.locator("#text_to_image-prompt textarea").fill("一只狐狸")
    page.locator("#text_to_image-advanced").get_by_role("button", name="高级设置").click()
    type_size(page, "text_to_image", "width", "2880", "2880x1280")
    type_size(page, "text_to_image", "height", "2880", "2880x2880")
    verdict = page.locator("#text_to_image-size-check")
    expect(verdict).to_contain_text("2880x2880 共 8,294,400 像素；总像素须在 1,638,400–2,073,600 之间", timeout=10_000)
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-prompt")).to_contain_text("尺寸：2880x2880 共 8,294,400 像素", timeout=10_000)
    zh_shots(page, "size_refused")
    assert dashscope_fake.requests == []


def test_a_refused_key_gets_our_hint_in_chinese(zh_page, served, dashscope_fake, monkeypatch, zh_shots):
    page = zh_page
    page.locator("#open-settings").click()
    expect(page.locator("#key-status")).to_contain_text("服务器密钥", timeout=10_000)
    page.locator("#own-key input").fill("sk-wrong-key-000")
    page.locator("#use-key").click()
    expect(page.locator("#key-status")).to_contain_text("你自己的 Alibaba Cloud DashScope 密钥", timeout=10_000)
    page.get_by_label("Toggle Sidebar").click()  # out of the way of the error's pop-up
    page.locator("#text_to_image-prompt textarea").fill("一只狐狸")
    page.locator("#text_to_image-run").click()
    expect(page.get_by_text("认证失败").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("拒绝了你提供的密钥").first).to_be_visible()
    page.wait_for_timeout(500)  # the pop-up fades in
    # The pop-up's heading: Gradio writes its type in English; the page shows 错误 in its place.
    heading = page.locator(".toast-title.error").first
    assert heading.evaluate("e => getComputedStyle(e, '::before').content") == '"错误"'
    assert heading.evaluate("e => getComputedStyle(e).fontSize") == "0px"  # Gradio's "Error" not shown
    zh_shots(page, "key_refused")


def test_a_finished_run_is_described_in_chinese(zh_page, dashscope_fake):
    page = zh_page
    page.locator("#text_to_image-prompt textarea").fill("一座灯塔")
    page.locator("#text_to_image-run").click()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    details = page.locator("#text_to_image-details")
    expect(details).to_contain_text("经由 Alibaba Cloud DashScope · 1 张图 · 种子")
    expect(details).to_contain_text("请求 ID")


def test_the_api_description_keeps_english_labels(served):
    import httpx

    info = httpx.get(f"{served.rstrip('/')}/gradio_api/info", headers=ZH_HEADERS, timeout=30).json()
    labels = [p["label"] for p in info["named_endpoints"]["/text_to_image"]["parameters"]]
    assert labels[0] == "Prompt" and all(isinstance(label, str) for label in labels)
    returns = [r["label"] for r in info["named_endpoints"]["/text_to_image"]["returns"]]
    assert returns == ["Results", "Run details", "Seed used"]


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_screenshots_in_chinese_with_generate_in_view(browser, served, dashscope_fake, zh_shots, width, height):  # noqa: F811
    phone = {"is_mobile": True} if width < 640 else {}
    context, page = chinese_page(browser, served, width, height, **phone)
    try:
        for mode, tab in TABS.items():
            page.get_by_role("tab", name=tab).click()
            run = page.locator(f"#{mode}-run")
            expect(run).to_have_text("生成")
            if width >= 1280:  # the first screen holds the prompt and Generate, without scrolling
                box = run.bounding_box()
                assert box is not None and box["y"] + box["height"] <= height, (mode, box)
            zh_shots(page, f"{mode}_{width}", full=width >= 1280)
        open_tab(page, "历史记录")  # on a phone, under Gradio's "More tabs" menu with Compare and Batch
        expect(page.locator("#history-where")).to_have_text(
            re.compile(r"^\s*第 \d+/\d+ 页 · 共 \d+ 次运行|还没有保存的运行")
        )
        expect(page.locator("#history-refresh")).to_have_text("🔄 刷新")
        zh_shots(page, f"history_{width}", full=width >= 1280)
        page.locator("#open-settings").click()
        expect(page.locator("#key-status")).to_contain_text("服务器密钥", timeout=10_000)
        page.wait_for_timeout(500)  # the panel slides in
        zh_shots(page, f"settings_{width}", full=False)
    finally:
        context.close()


# ---- History, the examples and the before/after view, in each language ------------------------------------

HISTORY_WORDS = {
    "zh": {
        "tab": "历史记录",
        "t2i": "文生图",
        "empty": "这个浏览器里还没有保存的运行：你生成的内容会出现在这里。",
        "where": "第 1/1 页 · 共 1 次运行，最新的在前 · 选择一次运行可查看详情和操作",
        "caption": re.compile(r"DashScope · 文生图 · 种子 \d+ · 1280×1280 · 费用未知 · "),
        "buttons": ["♻️ 复用设置", "↗️ 用作编辑的参考图", "⬇️ 下载原图（.zip）", "🗑️ 删除"],
        "refresh": "🔄 刷新",
        "images": "这次运行的图片",
        "image": re.compile(r"^图1 · 种子 \d+ · 1280×1280$"),
        "details": [
            "提示词：a lighthouse at dawn",
            "服务商：Alibaba Cloud DashScope（wan2.6-t2i，直接调用） · 种子：",
            "费用：未报告费用 · 图片：1 张 · 状态：成功",
            "运行文件夹：",
        ],
        "confirm": "⚠️ 再点一次即删除这次运行",
        "filled": "已在“文生图”中填入这次运行的设置。",
        "deleted": "这次运行及其文件已删除。",
        "runs_link": "运行记录",
    },
    "en": {
        "tab": "History",
        "t2i": "Text to image",
        "empty": "No saved runs in this browser yet: what you generate appears here.",
        "where": "Page 1 of 1 · 1 run, newest first · select one for its details and actions",
        "caption": re.compile(r"DashScope · Text to image · seed \d+ · 1280×1280 · cost n/a · "),
        "buttons": ["♻️ Reuse settings", "↗️ Use as reference in Edit", "⬇️ Download originals (.zip)", "🗑️ Delete"],
        "refresh": "🔄 Refresh",
        "images": "This run's images",
        "image": re.compile(r"^image 1 · seed \d+ · 1280×1280$"),
        "details": [
            "Prompt: a lighthouse at dawn",
            "Vendor: Alibaba Cloud DashScope (wan2.6-t2i, direct) · Seed:",
            "Cost: no cost reported · Images: 1 · Status: succeeded",
            "Run folder:",
        ],
        "confirm": "⚠️ Click again to delete this run",
        "filled": "This run's settings are filled in under Text to image.",
        "deleted": "The run is deleted, with its files.",
        "runs_link": "Runs",
    },
}
HISTORY_BUTTONS = ["#history-reuse", "#history-to-edit", "#history-download", "#history-delete"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_history_is_in_the_browsers_language(browser, own_app, dashscope_fake, zh_shots, lang):  # noqa: F811
    words = HISTORY_WORDS[lang]
    context, page = language_page(browser, own_app, lang, 1280, 720)
    try:
        page.get_by_role("tab", name=words["tab"]).click()
        expect(page.locator("#history-where")).to_have_text(words["empty"], timeout=10_000)
        expect(page.locator("#history-refresh")).to_have_text(words["refresh"])
        page.get_by_role("tab", name=words["t2i"]).click()
        page.locator("#text_to_image-prompt textarea").fill("a lighthouse at dawn")
        page.locator("#text_to_image-run").click()
        expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
        page.get_by_role("tab", name=words["tab"]).click()
        expect(page.locator("#history-where")).to_have_text(words["where"], timeout=10_000)
        expect(page.locator("#history-runs .caption-label").first).to_contain_text(words["caption"])
        expect(page.locator("footer")).to_contain_text(words["runs_link"])  # Gradio's link to the browser's runs
        if lang == "zh":
            zh_shots(page, "history_list_1280", full=False)
        page.locator("#history-runs [aria-label^='Thumbnail']").first.click()
        history_run_is_described(page, words)
        page.locator("#history-delete").click()
        expect(page.locator("#history-delete")).to_have_text(words["confirm"], timeout=10_000)
        if lang == "zh":
            zh_shots(page, "history_selected_1280")
        page.locator("#history-reuse").click()
        expect(page.get_by_text(words["filled"])).to_be_visible(timeout=10_000)
        page.get_by_role("tab", name=words["tab"]).click()
        page.locator("#history-delete").click()  # the second click deletes
        expect(page.get_by_text(words["deleted"])).to_be_visible(timeout=10_000)
        expect(page.locator("#history-where")).to_have_text(words["empty"], timeout=10_000)
    finally:
        context.close()


def history_run_is_described(page, words):
    """The selected run's buttons, images and details, in the page's language."""
    details = page.locator("#history-details")
    for line in words["details"]:
        expect(details).to_contain_text(line, timeout=10_000)
    for button, text in zip(HISTORY_BUTTONS, words["buttons"], strict=True):
        expect(page.locator(button)).to_have_text(text)
    expect(page.locator("#history-images")).to_contain_text(words["images"])
    expect(page.locator("#history-images .caption-label").first).to_have_text(words["image"])


EXAMPLE_WORDS = {
    "zh": {
        "edit": "图像编辑",
        "interleave_tab": "图文混排",
        "label": "示例（点击即填入表单；点“生成”前不会运行）",
        "text_to_image": ["提示词", "比例"],
        "edit_headings": ["参考图", "提示词"],
        "interleave": ["提示词", "比例"],
        "image_1": "图1",
        "slider": "前后对比：图1与所选结果（拖动分割线）",
    },
    "en": {
        "edit": "Edit",
        "interleave_tab": "Interleaved",
        "label": "Examples (a click fills the form; nothing runs until Generate)",
        "text_to_image": ["Prompt", "Shape"],
        "edit_headings": ["References", "Prompt"],
        "interleave": ["Prompt", "Shape"],
        "image_1": "Image 1",
        "slider": "Before / after: image 1 against the selected result (drag the line)",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_examples_and_the_before_after_view_are_in_the_browsers_language(
    browser,  # noqa: F811
    served,
    dashscope_fake,
    zh_shots,
    lang,
):
    words = EXAMPLE_WORDS[lang]
    context, page = language_page(browser, served, lang, 1280, 720)
    try:
        examples_are_headed(page, "text_to_image", words["text_to_image"], words["label"])
        page.get_by_role("tab", name=words["interleave_tab"]).click()  # a tab's content is drawn once opened
        examples_are_headed(page, "interleave", words["interleave"], words["label"])
        page.get_by_role("tab", name=words["edit"]).click()
        examples = examples_are_headed(page, "edit", words["edit_headings"], words["label"])
        examples.locator("tbody tr", has_text="winter night").click()
        expect(page.locator("#edit-references img")).to_have_count(1, timeout=10_000)
        expect(page.locator("#edit-references .caption-label")).to_have_text([words["image_1"]], timeout=10_000)
        page.locator("#edit-run").click()
        expect(page.locator("#edit-results img")).to_have_count(1, timeout=30_000)
        slider = page.locator("#edit-before-after")
        expect(slider.locator("img")).to_have_count(2, timeout=10_000)
        expect(slider).to_contain_text(words["slider"])
        if lang == "zh":
            zh_shots(page, "edit_example_before_after_1280")
    finally:
        context.close()


def examples_are_headed(page, mode, headings, label):
    examples = page.locator(f"#{mode}-examples")
    expect(examples.locator("th")).to_have_text(headings)
    expect(examples).to_contain_text(label)
    return examples
