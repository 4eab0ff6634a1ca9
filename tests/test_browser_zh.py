"""The app in a Chinese browser (zh-CN): labels, server-written texts, verdicts and errors in Chinese.

Uses test_browser.py's Chromium fixtures. Screenshots at 1280×720 and 390 px wide go to
$WAN26_SCREENSHOTS (default: the test's tmp folder).
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_browser import USER_KEY, browser, page_load_watch  # noqa: F401 (the module-scoped fixture, shared)

ZH_HEADERS = {"Accept-Language": "zh-CN,zh;q=0.9"}
TABS = {"text_to_image": "文生图", "edit": "图像编辑", "interleave": "图文混排"}


def chinese_page(browser, served, width=1400, height=1000, **options):  # noqa: F811
    context = browser.new_context(
        locale="zh-CN", extra_http_headers=ZH_HEADERS, viewport={"width": width, "height": height}, **options
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
    for side in ("width", "height"):
        box = page.locator(f"#text_to_image-{side} input[type=number]")
        box.fill("2880")
        box.press("Enter")
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
        page.locator("#open-settings").click()
        expect(page.locator("#key-status")).to_contain_text("服务器密钥", timeout=10_000)
        page.wait_for_timeout(500)  # the panel slides in
        zh_shots(page, f"settings_{width}", full=False)
    finally:
        context.close()
