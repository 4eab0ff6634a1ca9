"""The interface's two languages: which one a visitor gets, and the core's English messages in Chinese."""

import importlib
import os
import re
import string
import struct
import zlib
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image
from starlette.requests import Request

from wan26.errors import ConfigError, InvalidRequest, Violation
from wan26.guard import KeyGuard
from wan26.images import WAN27_IMAGE_RULES, ImageRules, prepare_image, size_problems
from wan26.limits import ModeLimits, Range, boxes_outside, mode_limits_for, violations
from wan26.providers import PROVIDERS, get_adapter
from wan26.types import Box, ImageRequest, Mode, PaletteColor, Size, SizeTier, parse_size
from wan26.ui import i18n
from wan26.ui.i18n import LABELS, TEXTS, VIOLATIONS, Lang, chinese, lang_of, translate
from wan26.ui.inputs import box_list, palette_of, tier_named, web_urls, whole_numbers
from wan26.ui.models import Chosen, model_named

REPO = Path(__file__).resolve().parent.parent


def visitor(accept_language: str | None) -> gr.Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return gr.Request(request=Request({"type": "http", "headers": headers}))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9", Lang.ZH),
        ("zh", Lang.ZH),
        ("zh-Hans-CN", Lang.ZH),
        ("zh-TW,en;q=0.5", Lang.ZH),
        ("ZH-cn", Lang.ZH),
        ("en-US,en;q=0.9,zh-CN;q=0.8", Lang.EN),  # prefers English, reads Chinese too
        ("en;q=0.5, zh-CN;q=0.8", Lang.ZH),  # by quality, not by order
        ("fr-FR,fr;q=0.9", Lang.EN),
        ("*", Lang.EN),
        ("zh;q=0, en", Lang.EN),  # q=0: "not this one"
        ("zh;q=abc", Lang.EN),
        ("", Lang.EN),
        (None, Lang.EN),  # an API or MCP caller that sends no header
    ],
)
def test_the_language_follows_the_visitors_first_choice(header, expected):
    assert lang_of(visitor(header)) is expected


def test_without_a_request_the_language_is_english():
    assert lang_of(None) is Lang.EN
    assert lang_of(gr.Request(headers={"accept-language": "zh-CN"})) is Lang.ZH  # a plain dict of headers


def test_each_text_has_the_same_fields_in_both_languages():
    for key, words in {**LABELS, **TEXTS}.items():
        english = {name for _, name, _, _ in string.Formatter().parse(words.en) if name}
        assert english == {name for _, name, _, _ in string.Formatter().parse(words.zh) if name}, key


def test_the_browsers_table_has_no_braces():
    """The browser formats its messages as ICU messages, where braces are placeholders."""
    for lang in ("en", "zh"):
        assert not [key for key, text in i18n.I18N.translations_dict[lang].items() if re.search("[{}]", text)]


def test_an_unknown_message_stays_english_and_english_is_never_translated():
    assert translate("the vendor's own words", Lang.ZH) == "the vendor's own words"
    assert translate("is required", Lang.EN) == "is required"
    assert translate("is required", Lang.ZH) == "不能为空"


def limits(**changes) -> ModeLimits:
    base = ModeLimits(prompt_max=10, negative_max=5, pixels=Range(640 * 640, 1280 * 1280), images=Range(1, 2))
    return ModeLimits(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})


BAD_REQUESTS = [  # each breaks limits() in its own ways
    ImageRequest(Mode.EDIT, "", size=Size(100, 16), n=9, seed=-5, images=("a", "b", "c")),
    ImageRequest(Mode.EDIT, "x" * 11, "y" * 6, size=Size(5000, 1008), images=("a",)),
    ImageRequest(Mode.EDIT, "a\x00b", "c\x01\x02", size=Size(1281, 0), images=("a",), watermark=True),
    ImageRequest(Mode.EDIT, "a", size=SizeTier.K2, images=("a",)),
    ImageRequest(Mode.INTERLEAVE, "a", max_images=9),
]
PALETTE = (PaletteColor("red", 5000), PaletteColor("#C2D1E6", 0))
BOXES = (Box(1, 0, 0, 9, 9), Box(2, 5, 5, 1, 1), Box(2, 0, 0, 3, 3))
# Breaks every palette and box rule: two colours of three or four, a name for a colour, a share of
# 0, 50 % in all; boxes on an image not given, corners the wrong way round, two on one image; thinking.
# Shares of 150 % and -5 % (typed in the page's boxes, which no longer refuse them themselves).
OUT_OF_RANGE = (PaletteColor("#C2D1E6", 15000), PaletteColor("#3B5B8C", -500), PaletteColor("#F2C14E", 100))
WAN27_BAD = ImageRequest(Mode.EDIT, "a", images=("a",), palette=PALETTE, boxes=BOXES, thinking=True)
STRICT = limits(
    side=Range(256, 2048),
    n=Range(1, 4),
    max_images=Range(1, 5),
    seed=Range(0, 100),
    negative_prompt=False,
    watermark=False,
)


def limit_messages() -> list[str]:
    """Every message wan26/limits.py writes, from requests that break each of its rules."""
    found = [v for request in BAD_REQUESTS for v in violations(request, STRICT)]
    found += violations(ImageRequest(Mode.EDIT, "a", seed=3, images=("a",)), limits(seed=None))
    found += violations(ImageRequest(Mode.EDIT, "a", size=SizeTier.K1, images=("a",)), limits())
    tiered = limits(size_tiers=frozenset({SizeTier.K1, SizeTier.K2}))
    found += violations(ImageRequest(Mode.EDIT, "a", size=SizeTier.K4, images=("a",)), tiered)
    found += violations(WAN27_BAD, limits(palette=Range(3, 4), boxes_per_image=1))
    found += violations(ImageRequest(Mode.EDIT, "a", images=("a",), palette=PALETTE[:1], boxes=BOXES[:1]), limits())
    found += violations(ImageRequest(Mode.IMAGE_SET, "a", n=13), limits(n=Range(1, 12), n_is_most=True))
    found += violations(ImageRequest(Mode.EDIT, "a", images=("a",), palette=OUT_OF_RANGE), limits(palette=Range(3, 4)))
    found += violations(ImageRequest(Mode.TEXT_TO_IMAGE, 1, size="1280*1280", n="2", seed=1.5, watermark=1), STRICT)
    found += violations(ImageRequest(Mode.TEXT_TO_IMAGE, "a", max_images=None, prompt_extend="no"), STRICT)
    found += boxes_outside(BOXES[:1], [(8, 8)], 8000)
    found += boxes_outside((Box(1, 0, 0, 9000, 9),), [None], 8000)
    for served in ({Mode.EDIT: STRICT}, None):
        try:
            mode_limits_for(served, Mode.INTERLEAVE, "runware")
        except InvalidRequest as refused:
            found += refused.violations
    return [v.message for v in found]


WHOLE_PALETTE = (PaletteColor("#C2D1E6", 6000), PaletteColor("#3B5B8C", 2500), PaletteColor("#F2C14E", 1500))


def header_only_png(width: int, height: int) -> bytes:
    """A PNG that says it is width×height: enough for a header check, never decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def refusals(*attempts) -> list[str]:
    messages = []
    for attempt in attempts:
        with pytest.raises(InvalidRequest) as refused:
            attempt()
        messages += [v.message for v in refused.value.violations]
    return messages


def image_messages(folder: Path, monkeypatch) -> list[str]:
    """Every refusal of wan26/images.py that a file, a URL or bytes can bring about here."""
    Image.new("RGB", (100, 100)).save(folder / "tiny.png")
    Image.new("RGB", (9000, 240)).save(folder / "long.png")
    Image.new("RGB", (2700, 300)).save(folder / "narrow.png")
    Image.new("RGB", (600, 600)).save(folder / "whole.png")
    whole = (folder / "whole.png").read_bytes()
    (folder / "cut.png").write_bytes(whole[: len(whole) // 2])
    Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(folder / "noise.png")
    huge = folder / "huge.png"
    huge.write_bytes(b"\x89PNG")
    os.truncate(huge, 51 * 1024 * 1024)  # sparse: nothing is written
    urls_only = ImageRules(accepts_local=False)
    messages = refusals(
        lambda: prepare_image(str(folder), "image 1"),
        lambda: prepare_image(str(folder / "missing.png"), "image 1"),
        lambda: prepare_image(b"not an image", "image 1"),
        lambda: prepare_image(str(folder / "tiny.png"), "image 1"),
        lambda: prepare_image(str(folder / "long.png"), "image 1"),
        lambda: prepare_image(str(folder / "narrow.png"), "image 1", WAN27_IMAGE_RULES),
        lambda: prepare_image("ftp://example.com/cat.png", "image 1"),
        lambda: prepare_image("ftp://example.com/cat.png", "image 1", urls_only),
        lambda: prepare_image("http://", "image 1"),
        lambda: prepare_image(str(folder / "whole.png"), "image 1", urls_only),
        lambda: prepare_image(str(huge), "image 1"),
        lambda: prepare_image(str(folder / "cut.png"), "image 1"),
        lambda: prepare_image("/dev/null", "image 1"),
        lambda: prepare_image(str(folder / "noise.png"), "image 1", ImageRules(max_bytes=2000)),
        lambda: prepare_image(header_only_png(15000, 15000), "image 1"),
    )
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # a host app that switched Pillow's guard off
    messages += refusals(lambda: prepare_image(header_only_png(15000, 15000), "image 1"))
    return messages + [v.message for v in size_problems([str(folder / "missing.png")])]


def interface_messages() -> list[str]:
    """The interface's own refusals of what a visitor typed (wan26/ui/inputs.py), and the errors its
    validator shows under an input (an unknown vendor, a size that is not one)."""
    refused = refusals(
        lambda: whole_numbers({"size.width": "wide"}),
        lambda: web_urls("https://example.com/a.png\nC:/cat.png"),
        lambda: web_urls("cat.png\n/etc/passwd"),
        lambda: tier_named("8K"),
        lambda: model_named("wan3"),
        lambda: palette_of("red:50, #112233"),
        lambda: box_list("\n".join(["1:0,0,9,9"] * 65)),
        lambda: box_list("1:0,0,9,9\n2:5\nhere"),
        lambda: palette_of("#112233:1," * 30),
    )
    with pytest.raises(ConfigError) as unknown:
        get_adapter("nobody")
    with pytest.raises(ValueError) as not_a_size:
        parse_size("big")
    return [*refused, str(unknown.value), str(not_a_size.value)]


# Messages no request here can bring about (a file that cannot be read by root, one that grows while
# it is read), as wan26/images.py writes them.
UNREACHABLE = [
    "cannot read cat.png (Permission denied)",
    "grew past the 50 MB limit for a local image file while being read",
]


def test_every_violation_message_of_the_core_has_a_chinese_translation(tmp_path, monkeypatch):
    messages = limit_messages() + image_messages(tmp_path, monkeypatch) + interface_messages() + UNREACHABLE
    untranslated = [message for message in messages if chinese(message) is None]
    assert untranslated == []
    # English left over, outside what Pillow or the system said (quoted in brackets, as the core does).
    english_words = re.compile(r"\b(is|the|and|must|allowed|given|pixels|not|remove|image)\b")
    ours = [re.sub("（[^）]*）", "", chinese(m) or "") for m in messages]
    assert [text for text in ours if english_words.search(text)] == []
    # And every pattern of the table is one of these messages (or a phrase found inside one of them).
    unused = [p.pattern for p, _ in VIOLATIONS if not any(p.fullmatch(m) for m in messages)]
    inside = [p.pattern for p, _ in VIOLATIONS if any(p.search(m) for m in messages)]
    assert unused == [pattern for pattern in unused if pattern in inside or pattern in KINDS_OF_FILE]


# The kinds of thing a path can be besides a file; /dev/null stands for them all.
KINDS_OF_FILE = ["a folder", "a device", "a named pipe \\(FIFO\\)", "a socket", "a special file"]


def test_the_chinese_keeps_the_numbers_and_sizes():
    said = chinese("2880x2880 is 8,294,400 pixels; allowed 1,638,400–2,073,600 pixels in total")
    assert said == "2880x2880 共 8,294,400 像素；总像素须在 1,638,400–2,073,600 之间"
    assert chinese("1K is not available here (tiers: none in this mode); give W×H") == (
        "此处不支持 1K（可用档位：此模式下没有）；请填写 宽×高"
    )
    assert chinese("4K is not available here (tiers: 1K, 2K; 4K is for Wan 2.7 Pro text to image only); give W×H") == (
        "此处不支持 4K（可用档位：1K, 2K；4K 仅用于 Wan 2.7 Pro 文生图）；请填写 宽×高"
    )


def test_the_core_writes_as_many_messages_as_the_table_knows():
    """A new refusal in the core needs its pattern in i18n.VIOLATIONS (and a request above that makes it)."""
    limits_source = (REPO / "wan26" / "limits.py").read_text()
    images_source = (REPO / "wan26" / "images.py").read_text()
    # boxes_outside moved here from _run/checks.py; a share above 100 % and a set's "images at most" added
    assert len(re.findall(r"Violation\(", limits_source)) == 32  # and a value of the wrong type
    assert len(re.findall(r"_Unusable\(|Violation\(f?\"", images_source)) == 19


@pytest.mark.parametrize(
    ("english", "expected"),
    [
        ("Sending the request to Runware", "正在向 Runware 发送请求"),
        ("Task running (40%)", "任务运行中（40%）"),
        ("Task pending", "任务排队中"),
        ("Downloading 2 image(s)", "正在下载 2 张图片"),
        ("Generating (this usually takes 1–2 minutes)", "生成中（通常需要 1–2 分钟）"),
    ],
)
def test_progress_is_said_in_chinese(english, expected):
    assert translate(english, Lang.ZH) == expected


def test_the_key_guards_lines_are_said_in_chinese(tmp_path):
    guard = KeyGuard(daily_usd=2.0, runs_per_hour=10, ledger_path=tmp_path / "ledger.json")
    said = translate(guard.status(), Lang.ZH)
    assert said == "服务器密钥：今日（UTC）已花费 $0.00，上限 $2.00；每位访客每小时最多 10 次"


def test_each_vendors_key_help_and_price_note_is_said_in_chinese():
    for adapter in PROVIDERS.values():
        assert chinese(adapter.facts.key_help) is not None, adapter.facts.name
        for model in adapter.facts.offers:  # each model the vendor serves has its own price note
            assert chinese(adapter.facts.price_of(model).note) is not None, (adapter.facts.name, model)


def test_a_violation_keeps_its_field_named_in_the_visitors_language():
    from wan26.ui.validation import validation_for

    found = [Violation("size.width", "5000 is outside 256–2048 px"), Violation("image 2", "is not supported here")]
    [prompt, images] = validation_for(["prompt", "images"], found, Lang.ZH)
    assert images["message"] == "图2：此处不支持"
    english = validation_for(["prompt", "images"], found, Lang.EN)
    assert english[1]["message"] == "image 2: is not supported here"
    # Under the prompt, just above Generate: Width is folded away, and an image problem is repeated there.
    assert prompt["message"] == "宽度：5000 超出 256–2048 px 的范围; 图2：此处不支持"
    assert english[0]["message"] == "Width: 5000 is outside 256–2048 px; image 2: is not supported here"


def vendor_hints() -> dict[str, str]:
    """Every hint the vendors' error tables give (wan26/providers/_*_errors.py), by where it is."""
    found = {}
    for path in sorted((REPO / "wan26" / "providers").glob("_*_errors.py")):
        module = importlib.import_module(f"wan26.providers.{path.stem}")
        for name, value in vars(module).items():
            values = value.values() if isinstance(value, dict) else [value]
            for index, item in enumerate(values):
                hint = item[1] if isinstance(item, tuple) and len(item) == 2 else item
                constant = name.startswith("_") and not name.startswith("__") and name.isupper()
                if constant and isinstance(hint, str) and " " in hint:
                    found[f"{path.stem}.{name}[{index}]"] = hint
    return found


ENGLISH_RUN = re.compile(r"\b[A-Za-z']{2,}(?: [A-Za-z']{2,}){3,}\b")  # four English words in a row


def still_english(text: str) -> list[str]:
    """Runs of English left in `text`, leaving out links, code and names of settings."""
    text = re.sub(r"https?://\S+|`[^`]*`|\b[A-Z0-9_]{4,}\b|Expected … received …", "", text)
    return ENGLISH_RUN.findall(text)


def test_every_hint_of_the_vendors_tables_is_said_in_chinese():
    hints = vendor_hints()
    assert len(hints) > 30  # the tables were found
    untranslated = {where: hint for where, hint in hints.items() if still_english(translate(hint, Lang.ZH))}
    assert untranslated == {}


@pytest.mark.parametrize(
    "hint",
    [
        "It may still be billed; it was not sent again.",
        "The provider is very slow.",
        "Check your internet connection, or the base URL if you set one.",
        "The provider is slow or overloaded. The request may still have been received.",
        "The request may still have been received; it was not sent again.",
        "What arrived before the cut has been saved.",
        "1 of 2 calls succeeded. A problem on Alibaba's side. Try again in a moment.",
        "The task may still finish and be billed. Save it within 24 h with: python -m wan26 fetch abc --mode "
        "text_to_image --provider dashscope. Submit it again if you still want it.",
        "2 other image(s) are saved in the server's output folder.",
        "The task may still run and be billed; it was not sent again. Try the direct flow.",
    ],
)
def test_the_clients_own_hints_are_said_in_chinese(hint):
    assert still_english(translate(hint, Lang.ZH)) == []


# ---- History, the examples and the before/after view -------------------------------------------------


def past_run(folder: Path, **fields):
    from test_history import make_run

    from wan26.history import load_run

    return load_run(folder, make_run(folder, **fields))


def test_a_history_card_is_said_in_chinese_and_stays_english_for_others(tmp_path):
    from wan26.ui.history_text import caption, zone

    run = past_run(tmp_path)
    failed = past_run(tmp_path, status="failed", cost_usd=None, seed=None, prompt=None)
    assert caption(run, zone("UTC"), Lang.ZH).split("\n") == [
        "a lighthouse at dawn",
        "DashScope · 文生图 · 种子 42 · 1280×1280 · $0.0300 · 2026-11-23 08:30",
    ]
    assert caption(failed, zone("UTC"), Lang.ZH).split("\n") == [
        "（提示词未知）",
        "DashScope · 文生图 · 无种子 · 1280×1280 · 费用未知 · 2026-11-23 08:30 · ⚠️ 失败",
    ]
    assert caption(failed, zone("UTC"), Lang.EN).split("\n") == [
        "(prompt not known)",
        "DashScope · Text to image · no seed · 1280×1280 · cost n/a · 2026-11-23 08:30 · ⚠️ failed",
    ]


def test_a_past_runs_details_are_said_in_chinese(tmp_path):
    from wan26.ui.history_text import details, image_caption, zone

    segments = [{"type": "text", "text": "Step one"}, {"type": "image", "index": 1}]
    run = past_run(tmp_path, mode="interleave", segments=segments, text="Step one", task_id="task-1")
    lines = details(run, zone("UTC"), Lang.ZH).split("  \n")
    assert lines[:5] == [
        "### 图文混排 · 2026-11-23 08:30:00",
        "**提示词**：a lighthouse at dawn",
        "**反向提示词**：fog",
        "**服务商**：Alibaba Cloud DashScope（`wan2.6-t2i`，直接调用） · **种子**：42 · **尺寸**：1280×1280",
        "**费用**：$0.0300 · **图片**：1 张 · **状态**：成功",
    ]
    assert lines[6:9] == [
        "**参考图**：1 张（未随运行保存）",
        "**任务 ID**：`task-1`",
        f"**运行文件夹**：`{run.run_id}`",
    ]
    assert "*[图1]*" in lines[9]
    assert image_caption(run, 0, Lang.ZH) == "图1 · 种子 42 · 33×16"
    assert details(run, zone("UTC"), Lang.EN).split("  \n")[4] == (
        "**Cost:** $0.0300 · **Images:** 1 · **Status:** succeeded"
    )


def test_a_failed_runs_status_says_the_clients_own_words_in_chinese(tmp_path):
    from wan26.ui.history_text import details

    error = {"message": "The provider does not know this task."}
    run = past_run(tmp_path, status="failed", cost_usd=None, seed=None, flow="task", error=error)
    lines = details(run, None, Lang.ZH).split("  \n")
    assert "（`wan2.6-t2i`，任务方式） · **种子**：未发送" in lines[3]
    assert lines[4] == "**费用**：未报告费用 · **图片**：1 张 · **状态**：失败：服务商不认识这个任务。"


@pytest.mark.parametrize(
    ("arguments", "english", "chinese"),
    [
        ((1, 2, 13, True), "Page 1 of 2 · 13 runs, newest first · select one for its details and actions",
         "第 1/2 页 · 共 13 次运行，最新的在前 · 选择一次运行可查看详情和操作"),
        ((1, 1, 1, False), "Page 1 of 1 · 1 run, newest first · select one for its details and actions",
         "第 1/1 页 · 共 1 次运行，最新的在前 · 选择一次运行可查看详情和操作"),
        ((1, 1, 0, True), "No saved runs in this browser yet: what you generate appears here.",
         "这个浏览器里还没有保存的运行：你生成的内容会出现在这里。"),
        ((1, 1, 0, False), "No saved runs in the output folder yet: what you generate appears here.",
         "输出文件夹里还没有保存的运行：你生成的内容会出现在这里。"),
    ],
)  # fmt: skip
def test_the_history_pager_line_in_both_languages(arguments, english, chinese):
    from wan26.ui.history_text import page_line

    assert page_line(*arguments, Lang.EN) == english and page_line(*arguments, Lang.ZH) == chinese


def test_reuse_says_what_it_could_not_fill_in_in_chinese(tmp_path):
    from wan26.ui.history_reuse import form_values

    edit = past_run(tmp_path, mode="edit", prompt=None, parameters={"size": "2K"})
    _, notes = form_values(edit, Chosen(get_adapter("runware")), Lang.ZH)
    assert notes == [
        "它的提示词未知（这次运行保存的是按任务 ID 取回的任务）。",
        "它要求的 2K 此服务商不提供：请选择一个比例。",
        "它的 1 张参考图不会回填：请重新添加。",
    ]
    odd = past_run(tmp_path, parameters={"size": "1296x1296"})
    assert form_values(odd, Chosen(get_adapter("dashscope")), Lang.ZH)[1] == [
        "它的尺寸 1296×1296 不属于这里的任何比例：请在“高级设置”中检查。"
    ]
    interleave = past_run(tmp_path, mode="interleave", parameters={"size": None})
    assert form_values(interleave, Chosen(get_adapter("dashscope")), Lang.ZH)[1] == [
        "它的输入图片不会回填：请重新添加。"
    ]


def test_the_examples_headings_follow_the_language_and_the_page_is_built_in_english():
    from wan26.ui.form_examples import headings

    assert headings(Mode.EDIT, Lang.ZH) == ["参考图", "提示词"] and headings(Mode.EDIT, Lang.EN) == [
        "References",
        "Prompt",
    ]
    assert headings(Mode.TEXT_TO_IMAGE, Lang.ZH) == ["提示词", "比例"]
    assert headings(Mode.INTERLEAVE, Lang.EN) == ["Prompt", "Shape"]


def test_the_browsers_table_has_history_the_examples_and_the_before_after_view_in_both_languages():
    table = i18n.I18N.translations_dict
    expected = {
        "tab_history": ("History", "历史记录"),
        "history_reuse": ("♻️ Reuse settings", "♻️ 复用设置"),
        "history_download": ("⬇️ Download originals (.zip)", "⬇️ 下载原图（.zip）"),
        "history_delete": ("🗑️ Delete", "🗑️ 删除"),
        "examples": (
            "Examples (a click fills the form; nothing runs until Generate)",
            "示例（点击即填入表单；点“生成”前不会运行）",
        ),
        "before_after": (
            "Before / after: image 1 against the selected result (drag the line)",
            "前后对比：图1与所选结果（拖动分割线）",
        ),
    }
    assert {key: (table["en"][key], table["zh"][key]) for key in expected} == expected
    assert table["zh"]["common.runs"] == "运行记录" and "common.runs" not in table["en"]  # Gradio's own English stays
