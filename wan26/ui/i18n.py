"""The interface's words in English and Simplified Chinese, following the visitor's browser.

Two ways a text reaches the page in the visitor's language:
- Static labels, placeholders, info texts, buttons, tab and accordion titles, radio choices and
  Markdown are `I18N("key")` (or `both(...)`, for a text rendered once when the page is built): the
  browser picks the language from its own locale, so there is no English flash before the page loads.
- Texts the server writes per request (counts, verdicts, notes, errors, run details, History's
  cards and answers) come from `t(key, lang)`, with `lang = lang_of(request)` read from the
  request's Accept-Language. So do the few words Gradio shows untranslated even as `I18N` (the
  examples tables' column headings): the page load sends them, so they are English until it ends.

The core (`wan26`) speaks English, and its command line prints it as it is: its messages (limit
violations, progress, the key guard's lines, hints) are translated here by pattern (`translate`),
and stay English where no pattern matches. Depends on gradio only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

import gradio as gr
from gradio.i18n import I18nData

Choice = TypeVar("Choice")


class Lang(StrEnum):
    EN = "en"
    ZH = "zh"


class Words(NamedTuple):
    en: str
    zh: str

    def in_(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en


_ENTER = Words("(Enter to generate · Shift+Enter for a new line)", "（Enter 生成 · Shift+Enter 换行）")
_INTRO = Words(
    "## 🎨 Wan 2.6 Image Studio\nText to image, edits with up to four references (nine with 2.7), image sets, and "
    "text with images in between, with Alibaba's Wan 2.6 and 2.7 through the vendor you choose.",
    "## 🎨 Wan 2.6 图像工作室\n文生图、最多四张（2.7 为九张）参考图的图像编辑、组图，以及图文混排：阿里巴巴通义万相 "
    "Wan 2.6 与 2.7，经由你选择的服务商调用。",
)

# Labels and fixed texts: translated by the browser (no `{value}` in these).
LABELS: dict[str, Words] = {
    "intro": _INTRO,
    "vendor": Words("Vendor", "服务商"),
    "open_settings": Words("⚙️ Keys and settings", "⚙️ 密钥与设置"),
    "settings": Words("⚙️ Settings", "⚙️ 设置"),
    "no_key_line": Words(
        "⚠️ **No API key yet.** Paste yours in **⚙️ Keys and settings** (top right), or add one to the server.",
        "⚠️ **还没有 API 密钥。** 请在右上角的 **⚙️ 密钥与设置** 中粘贴你的密钥，或在服务器上配置一个。",
    ),
    "your_api_key": Words("### 🔑 Your API key", "### 🔑 你的 API 密钥"),
    "key_vendor": Words("Vendor of your key", "密钥所属服务商"),
    "your_key": Words("Your key", "你的密钥"),
    "your_key_placeholder": Words("used for this browser session only, never stored", "仅用于本次浏览器会话，不会保存"),
    "use_key": Words("Use my key", "使用我的密钥"),
    "forget_keys": Words("Forget my keys", "清除我的密钥"),
    "tab_t2i": Words("Text to image", "文生图"),
    "tab_edit": Words("Edit", "图像编辑"),
    "tab_interleave": Words("Interleaved", "图文混排"),
    "tab_image_set": Words("Image set", "组图"),
    "model": Words("Model", "模型"),
    "prompt": Words("Prompt", "提示词"),
    "placeholder_t2i": Words(
        f"A lighthouse at dawn, watercolour, soft light {_ENTER.en}", f"黎明时分的灯塔，水彩画，柔和光线{_ENTER.zh}"
    ),
    "placeholder_edit": Words(f"Image 1 as a pencil sketch {_ENTER.en}", f"把图1画成铅笔素描{_ENTER.zh}"),
    "placeholder_interleave": Words(
        f"A three-step tutorial for tomato and egg stir-fry {_ENTER.en}", f"番茄炒蛋的三步教程{_ENTER.zh}"
    ),
    "placeholder_image_set": Words(
        f"Four seasons of the same cottage garden, one image each {_ENTER.en}",
        f"同一座小花园的春夏秋冬，每季一张{_ENTER.zh}",
    ),
    "generate": Words("Generate", "生成"),
    "stop": Words("Stop", "停止"),
    "shape": Words("Shape", "比例"),
    "images_per_run": Words("Images per run", "每次生成张数"),
    "images_at_most": Words("At most this many images (the model may make fewer)", "最多生成张数（模型可能生成更少）"),
    "advanced": Words("Advanced", "高级设置"),
    "reference_urls": Words(
        "Reference image URLs (one per line; they come after the uploads)", "参考图链接（每行一个，排在上传的图片之后）"
    ),
    "references": Words(
        "References, in order: the prompt calls them image 1, image 2, … (click one to move it)",
        "参考图（依次为图1、图2…，点击可移动）",
    ),
    "move_earlier": Words("◀ Move earlier", "◀ 前移"),
    "move_later": Words("Move later ▶", "后移 ▶"),
    "input_image": Words("Input image (optional)", "输入图片（可选）"),
    "interleaved_output": Words("Interleaved output", "图文结果"),
    "seed_used": Words("Seed used", "实际使用的种子"),
    "run_details": Words("Run details", "运行详情"),
    "stopped_runs": Words("Stopped runs", "已停止的运行"),
    "stopped_runs_about": Words(
        "A run stopped while its task was running at the vendor may still finish and be billed. "
        "The app follows it to its end and keeps what it made for you here.",
        "在服务商处任务运行期间停止的生成仍可能完成并计费。本应用会跟踪到它结束，并把生成的图片保留在这里。",
    ),
    "check_stopped": Words("Check stopped runs", "查看已停止的运行"),
    "stopped_images": Words("Images from stopped runs", "已停止运行生成的图片"),
    "like_reference_1K": Words("Like the last reference · 1K", "同最后一张参考图 · 1K"),
    "like_reference_2K": Words("Like the last reference · 2K", "同最后一张参考图 · 2K"),
    "like_input": Words("Like the input image", "同输入图片"),
    "tier_1K": Words("1K · square", "1K · 方形"),
    "tier_2K": Words("2K · square", "2K · 方形"),
    "tier_4K": Words("4K · square (Wan 2.7 Pro)", "4K · 方形（Wan 2.7 Pro）"),
    "set_tier_1K": Words("1K · like the last reference, square without", "1K · 同最后一张参考图，无参考图时为方形"),
    "set_tier_2K": Words("2K · like the last reference, square without", "2K · 同最后一张参考图，无参考图时为方形"),
    "thinking": Words("Thinking", "深度思考"),
    "thinking_info": Words(
        "Think longer for a better image (Wan 2.7; takes a little longer).",
        "多想一会儿，画得更好（Wan 2.7；耗时稍长）。",
    ),
    "palette": Words("🎨 Colour palette", "🎨 色板"),
    "palette_use": Words("Follow this palette", "按此色板配色"),
    "palette_use_info": Words(
        "3 to 10 colours, each with its share of the image; the shares must make 100 %.",
        "3 到 10 种颜色，各自占画面的比例；比例之和须为 100%。",
    ),
    "palette_add": Words("＋ Add a colour", "＋ 添加颜色"),
    "palette_remove": Words("－ Remove the last", "－ 删除最后一种"),
    "negative_placeholder": Words("what to avoid", "不希望出现的内容"),
    "width": Words("Width", "宽度"),
    "height": Words("Height", "高度"),
    "random_seed": Words("Random seed", "随机种子"),
    "seed_box": Words("Seed (-1 = random)", "种子（-1 = 随机）"),
    "prompt_extend": Words("Let the vendor rewrite the prompt for detail", "由服务商扩写提示词，丰富细节"),
    "prompt_extend_info": Words("Turn off to send the prompt exactly as written.", "关闭后按原样发送提示词。"),
    "watermark": Words("Watermark", "水印"),
    "watermark_info": Words("Adds an 'AI generated' mark.", "添加“AI 生成”标识。"),
    "use_task": Words("Run as a task (submit, then poll)", "以任务方式运行（先提交，再轮询）"),
    "use_task_info": Words(
        "Shows the task status while waiting and survives a dropped connection.",
        "等待时显示任务状态，连接中断也不受影响。",
    ),
    "results": Words("Results", "生成结果"),
    "reuse_seed": Words("♻️ Reuse this seed", "♻️ 复用此种子"),
    "to_edit": Words("↗️ Use as reference in Edit", "↗️ 用作编辑的参考图"),
    "before_after": Words(
        "Before / after: image 1 against the selected result (drag the line)", "前后对比：图1与所选结果（拖动分割线）"
    ),
    "examples": Words(
        "Examples (a click fills the form; nothing runs until Generate)", "示例（点击即填入表单；点“生成”前不会运行）"
    ),
    "examples_references": Words("References", "参考图"),
    "tab_history": Words("History", "历史记录"),
    "history_refresh": Words("🔄 Refresh", "🔄 刷新"),
    "history_past_runs": Words("Past runs", "过往运行"),
    "history_images": Words("This run's images", "这次运行的图片"),
    "history_reuse": Words("♻️ Reuse settings", "♻️ 复用设置"),
    "history_download": Words("⬇️ Download originals (.zip)", "⬇️ 下载原图（.zip）"),
    "history_delete": Words("🗑️ Delete", "🗑️ 删除"),
}

# Texts the server writes, with `{value}` fields filled in by `t`.
TEXTS: dict[str, Words] = {
    "negative_label": Words("Negative prompt (≤{limit} characters)", "反向提示词（≤{limit} 字符）"),
    "mode_t2i": Words("text to image", "文生图"),
    "mode_edit": Words("editing", "图像编辑"),
    "mode_interleave": Words("text with images", "图文混排"),
    "mode_image_set": Words("image sets", "组图"),
    "or": Words(" or ", " 或 "),
    "unavailable_model": Words(
        "{model} makes no {mode}: pick {models} in the Model menu beside the vendor",
        "{model} 不支持{mode}：请在服务商旁的“模型”菜单中选择 {models}",
    ),
    "references_label": Words(
        "References, in order (up to {count}): the prompt calls them image 1, image 2, … (click one to move it)",
        "参考图（最多 {count} 张，依次为图1、图2…，点击可移动）",
    ),
    "references_optional": Words(
        "References (optional, up to {count}), in order", "参考图（可选，最多 {count} 张，按顺序）"
    ),
    "palette_off": Words("Off: the model picks the colours.", "未启用：由模型决定配色。"),
    "palette_total_ok": Words("✅ Total: {total} %", "✅ 合计：{total}%"),
    "palette_total_off": Words("⛔ Total: {total} % — must be 100 %", "⛔ 合计：{total}%——须为 100%"),
    "palette_share_out": Words(
        "⛔ Share {number}: {share} % — each share must be 0–100 %",
        "⛔ 占比 {number}：{share}%——每个占比须在 0–100% 之间",
    ),
    "set_made": Words(
        "🧩 The model made **{made}** of the **{asked}** images asked for, shown in its order.",
        "🧩 模型生成了 **{made}** 张（请求最多 **{asked}** 张），按其顺序显示。",
    ),
    "unavailable_reason": Words(
        "{vendor} does not offer {mode}; pick another vendor ({others})",
        "{vendor} 不提供{mode}；请换一个服务商（{others}）",
    ),
    "unavailable": Words("ℹ️ **{reason}.**", "ℹ️ **{reason}。**"),
    "price_none": Words("💲 {vendor} publishes no price", "💲 {vendor} 未公布价格"),
    "price": Words("💲 ${usd} per run at list price", "💲 按标价每次 ${usd}"),
    "price_at_most": Words("💲 up to ${usd} per run at list price", "💲 按标价每次最多 ${usd}"),
    "count_out": Words("⛔ {field}: {count} — allowed {low}–{high}", "⛔ {field}：{count}——允许 {low}–{high}"),
    "chars": Words("{length} / {limit} characters", "{length} / {limit} 字符"),
    "chars_over": Words(
        "⛔ **{length} / {limit} characters**: {over} too many; the run is blocked.",
        "⛔ **{length} / {limit} 字符**：超出 {over} 个，无法生成。",
    ),
    "size_not_numbers": Words("⛔ Width and height must be numbers", "⛔ 宽度和高度必须是数字"),
    "size_follows_input": Words(
        "↔️ Follows the input image (1280×1280 without one)", "↔️ 跟随输入图片（没有输入图片时为 1280×1280）"
    ),
    "size_default": Words("↔️ Left empty: {size}, the default", "↔️ 留空：默认 {size}"),
    "size_vendor_default": Words("↔️ Left empty: the vendor's default size", "↔️ 留空：服务商默认尺寸"),
    "size_ok": Words("✅ {size} · {mp} MP · allowed", "✅ {size} · {mp} MP · 可用"),
    "size_refused": Words("⛔ {problems}", "⛔ {problems}"),
    "note_no_seed": Words("{vendor} takes no seed: every run is random.", "{vendor} 不支持种子：每次生成都是随机的。"),
    "note_one_per_call": Words(
        "{vendor} makes one image per call: several images run as parallel calls.",
        "{vendor} 每次调用只生成一张图：多张图会并行调用。",
    ),
    "note_always_task": Words(
        "{vendor} always runs as a task (submit, then poll).", "{vendor} 总是以任务方式运行（先提交，再轮询）。"
    ),
    "note_urls_only": Words(
        "{vendor} takes reference images as http(s) URLs only: paste them in Reference URLs, under Advanced.",
        "{vendor} 只接受 http(s) 链接形式的参考图：请粘贴到“高级设置”中的参考图链接。",
    ),
    "note_max_references": Words(
        "{vendor} takes at most {count} reference images.", "{vendor} 最多接受 {count} 张参考图。"
    ),
    "key_own": Words(
        "🔑 Using **your own {vendor} key** for this browser session.",
        "🔑 本次浏览器会话正在使用**你自己的 {vendor} 密钥**。",
    ),
    "key_server": Words("Server keys: {vendors}.", "服务器密钥：{vendors}。"),
    "key_server_none": Words(
        "⚠️ The server has no keys: paste yours below.", "⚠️ 服务器没有配置密钥：请在下方粘贴你的密钥。"
    ),
    "key_guard": Words("{status}; your own key has no such limit.", "{status}；你自己的密钥不受此限制。"),
    "key_memory": Words(
        "Own keys are kept on the server in memory only, never stored.",
        "你自己的密钥只保存在服务器内存中，不会被存储。",
    ),
    "key_choose_vendor": Words(
        "⛔ **Choose the vendor this key is for** (the menu beside the box), then use it.",
        "⛔ **请先选择此密钥所属的服务商**（输入框旁的菜单），再使用。",
    ),
    "key_mark": Words(" · your key", " · 你的密钥"),
    "no_key_head": Words("### ⚠️ No API key configured", "### ⚠️ 尚未配置 API 密钥"),
    "no_key_body": Words(
        "To generate, add a key for any one vendor: put it in a `.env` file next to `app.py` (for example "
        "`DASHSCOPE_API_KEY=sk-...`) and restart; on a Hugging Face Space, add a **secret** with that name; "
        "or paste your own key below (this browser session only).",
        "要开始生成，请为任意一个服务商添加密钥：写入 `app.py` 旁的 `.env` 文件（例如 `DASHSCOPE_API_KEY=sk-...`）"
        "后重启；在 Hugging Face Space 上，添加同名的 **secret**；或在下方粘贴你自己的密钥（仅限本次浏览器会话）。",
    ),
    "no_key_vendor": Words("- **{vendor}**: `{env}`. {help}.", "- **{vendor}**：`{env}`。{help}。"),
    "no_key_region": Words(
        "DashScope keys are regional: set `DASHSCOPE_REGION` (intl, cn, us) to match yours.",
        "DashScope 的密钥分地域：请设置 `DASHSCOPE_REGION`（intl、cn、us）与你的密钥一致。",
    ),
    "caption_seed": Words("seed {seed} · {size}", "种子 {seed} · {size}"),
    "caption_vendor_seed": Words("{size} · vendor's seed {seed}", "{size} · 服务商的种子 {seed}"),
    "details": Words(
        "**`{model}`** via {vendor} · {count} image(s) · {seed} · {size} · {elapsed} s  \n{cost}  \n{ids}  \n"
        "Saved as the provider's files with their `run.json` in run folder `{folder}`",
        "**`{model}`** · 经由 {vendor} · {count} 张图 · {seed} · {size} · {elapsed} 秒  \n{cost}  \n{ids}  \n"
        "已按服务商的原文件保存，`run.json` 在运行文件夹 `{folder}` 中",
    ),
    "details_note": Words("  \nℹ️ {note}", "  \nℹ️ {note}"),
    "details_seed": Words("seed **{seed}**", "种子 **{seed}**"),
    "details_seeds": Words("seeds **{seeds}** (one per image)", "种子 **{seeds}**（每张图一个）"),
    "details_no_seed": Words("no seed sent (this vendor takes none)", "未发送种子（此服务商不支持种子）"),
    "details_cost": Words("💲 Cost reported by {vendor}: **${usd}**", "💲 {vendor} 报告的费用：**${usd}**"),
    "details_no_cost": Words("💲 {vendor} reports no cost", "💲 {vendor} 未报告费用"),
    "details_estimate": Words("; estimate was {estimate}", "；预估为 {estimate}"),
    "details_request_id": Words("request id `{id}`", "请求 ID `{id}`"),
    "details_task_id": Words("task id `{id}`", "任务 ID `{id}`"),
    "details_no_ids": Words("no request id given", "未提供请求 ID"),
    "estimate_none": Words("no images requested, so nothing to pay", "未请求图片，无需付费"),
    "estimate_no_price": Words("{count} image(s); no published price", "{count} 张图；未公布价格"),
    "estimate_no_price_alone": Words("no published price", "未公布价格"),
    "estimate": Words("{count} × ${each} = ${usd}", "{count} × ${each} = ${usd}"),
    "estimate_at_most": Words("up to {count} × ${each} = ${usd}", "最多 {count} × ${each} = ${usd}"),
    "estimate_note": Words(" ({note})", "（{note}）"),
    "saving": Words(
        "⏳ *image {index} is being saved (its vendor link is in the run details below)*",
        "⏳ *图{index}正在保存（服务商链接见下方运行详情）*",
    ),
    "image_n": Words("image {index}", "图{index}"),
    "palette_colour_n": Words("Palette colour {index}", "色板颜色{index}"),
    "reference_n": Words("Image {index}", "图{index}"),
    "generating": Words("⏳ Generating…", "⏳ 生成中…"),
    "pending_running": Words(
        "⏳ Running (after Stop, what is listed here is what the run made)",
        "⏳ 运行中（停止后，这里列出的是本次已生成的内容）",
    ),
    "pending_task": Words(
        "Task id `{task}`: if you stop, the app follows it to its end (see *Stopped runs*)",
        "任务 ID `{task}`：如果停止，本应用会跟踪它直到结束（见 *已停止的运行*）",
    ),
    "pending_unsaved": Words(
        "Image {index}, not saved yet: [vendor's link]({url}) (it works for about 24 h)",
        "图{index}，尚未保存：[服务商链接]({url})（约 24 小时内有效）",
    ),
    "stopped_task": Words("Task id `{task}`", "任务 ID `{task}`"),
    "stopped_note": Words(
        "⏹ **Stopped.** A request already sent to the vendor may still be billed; if it ran as a task, the app "
        "follows it to its end (⚙️ Keys and settings → Stopped runs).",
        "⏹ **已停止。** 已发给服务商的请求仍可能计费；如果它以任务方式运行，本应用会跟踪到它结束"
        "（⚙️ 密钥与设置 → 已停止的运行）。",
    ),
    "vendor_says": Words("{message} (the vendor says: {status})", "{message}（服务商状态：{status}）"),
    "stopped_running": Words(
        "still running at the vendor; followed here until it ends", "仍在服务商处运行；会在这里跟踪到结束"
    ),
    "stopped_failed": Words("ended without images: {error}", "结束但没有图片：{error}"),
    "stopped_finished": Words("finished: {count} image(s) saved", "已完成：保存了 {count} 张图片"),
    "stopped_none": Words("No stopped run of yours is still followed.", "没有仍在跟踪的已停止运行。"),
    "stopped_line": Words("Task `{task}` ({vendor}): {status}", "任务 `{task}`（{vendor}）：{status}"),
    "auth_own_key": Words(
        "{vendor} refused the key you gave: check that it was copied whole and is a {vendor} key, "
        "then paste it again in ⚙️ Keys and settings.",
        "{vendor} 拒绝了你提供的密钥：请确认密钥完整复制且确实是 {vendor} 的密钥，然后在 ⚙️ 密钥与设置 中重新粘贴。",
    ),
    "auth_server_key": Words(
        "{vendor} refused the server's key (its owner must check it). "
        "You can paste your own key in ⚙️ Keys and settings.",
        "{vendor} 拒绝了服务器的密钥（需由服务器所有者检查）。你可以在 ⚙️ 密钥与设置 中粘贴自己的密钥。",
    ),
    "server_output_folder": Words("the server's output folder", "服务器的输出文件夹"),
    "title_check_inputs": Words("Please check the inputs", "请检查输入"),
    "title_limit": Words("The server's key has reached its limit", "服务器密钥已达到上限"),
    "title_setup": Words("Setup needed", "需要配置"),
    "title_unexpected": Words("Unexpected error", "意外错误"),
    "unexpected": Words(
        "Unexpected error: something went wrong on the server ({kind}). A request already sent may still finish "
        "and be billed; run details above list any image not yet saved.",
        "意外错误：服务器出了问题（{kind}）。已发送的请求仍可能完成并计费；上方的运行详情会列出尚未保存的图片。",
    ),
    "error_head": Words("{title}. {message}", "{title}。{message}"),
    "invalid_request": Words("Invalid request ({count} problem(s)):", "请求无效（{count} 个问题）："),
    "problem": Words("  - {field}: {message}", "  - {field}：{message}"),
    "field_message": Words("{field}: {message}", "{field}：{message}"),
    "provider_head": Words("{title} ({provider})", "{title}（{provider}）"),
    "provider_message": Words("{head}: {message}", "{head}：{message}"),
    "hint": Words("Hint: {hint}", "提示：{hint}"),
    "request_id": Words("Request id: {id}", "请求 ID：{id}"),
    "task_id": Words("Task id: {id}", "任务 ID：{id}"),
    "not_saved_urls": Words(
        "Not saved; fetch them yourself before they expire (24 h):\n{urls}",
        "未保存；请在链接过期（24 小时）前自行下载：\n{urls}",
    ),
    "run_ended": Words("The run ended without a result.", "运行结束，但没有结果。"),
    "title_unexpected_response": Words("Unexpected response", "意外的响应"),
    "links_only": Words(
        "{vendor} takes reference images as http(s) links only. Choose another vendor to edit this image, "
        "or paste a link to it under 'Reference image URLs'.",
        "{vendor} 只接受 http(s) 链接形式的参考图。请换一个服务商来编辑这张图，或在“参考图链接”中粘贴它的链接。",
    ),
    "title_links_only": Words("Links only with this vendor", "此服务商只接受链接"),
    "too_many_references_kept": Words(
        "At most {most} reference images are taken here; kept the first {most} of {count}.",
        "此处最多接受 {most} 张参考图；已保留 {count} 张中的前 {most} 张。",
    ),
    "nothing_to_send": Words("Generate an image first.", "请先生成一张图片。"),
    "title_nothing_to_send": Words("Nothing to send", "没有可发送的图片"),
    "too_many_references": Words(
        "Edit already has {most} reference images, the most taken here; remove one first.",
        "图像编辑已有 {most} 张参考图，已达此处上限；请先删除一张。",
    ),
    "title_too_many_references": Words("Too many references", "参考图过多"),
    "sent_to_edit": Words("Sent to Edit as image {index}.", "已作为图{index}发送到图像编辑。"),
    "no_seed_yet": Words(
        "Run once first: the seed used is shown after a run.", "请先生成一次：生成后会显示实际使用的种子。"
    ),
    "title_no_seed_yet": Words("No seed yet", "还没有种子"),
    # History: its pager, cards, a run's details, and what its buttons answer.
    "history_empty_own": Words(
        "No saved runs in this browser yet: what you generate appears here.",
        "这个浏览器里还没有保存的运行：你生成的内容会出现在这里。",
    ),
    "history_empty_all": Words(
        "No saved runs in the output folder yet: what you generate appears here.",
        "输出文件夹里还没有保存的运行：你生成的内容会出现在这里。",
    ),
    "history_page": Words(
        "Page {page} of {pages} · {runs} · select one for its details and actions",
        "第 {page}/{pages} 页 · {runs} · 选择一次运行可查看详情和操作",
    ),
    "history_runs": Words("{total} runs, newest first", "共 {total} 次运行，最新的在前"),
    "history_run": Words("{total} run, newest first", "共 {total} 次运行，最新的在前"),
    "history_unknown_vendor": Words("unknown vendor", "未知服务商"),
    "history_prompt_unknown": Words("(prompt not known)", "（提示词未知）"),
    "history_seed": Words("seed {seed}", "种子 {seed}"),
    "history_no_seed": Words("no seed", "无种子"),
    "history_cost_na": Words("cost n/a", "费用未知"),
    "history_no_cost": Words("no cost reported", "未报告费用"),
    "history_image": Words("image {index} · {seed}{size}", "图{index} · {seed}{size}"),
    "history_image_seed": Words("seed {seed} · ", "种子 {seed} · "),
    # (In Chinese the colon follows the bold: "**词：**" followed by a letter would not close the bold.)
    "history_prompt": Words("**Prompt:** {prompt}", "**提示词**：{prompt}"),
    "history_negative": Words("**Negative prompt:** {prompt}", "**反向提示词**：{prompt}"),
    "history_model": Words(" (`{model}`)", "（`{model}`）"),
    "history_model_flow": Words(" (`{model}`, {flow})", "（`{model}`，{flow}）"),
    "history_vendor": Words(
        "**Vendor:** {vendor}{model} · **Seed:** {seed} · **Size:** {size}",
        "**服务商**：{vendor}{model} · **种子**：{seed} · **尺寸**：{size}",
    ),
    "history_seed_none": Words("none sent", "未发送"),
    "history_cost": Words(
        "**Cost:** {cost} · **Images:** {count} · **Status:** {status}",
        "**费用**：{cost} · **图片**：{count} 张 · **状态**：{status}",
    ),
    "history_status_error": Words("{status}: {error}", "{status}：{error}"),
    "history_task_fetched": Words(
        "*not known: the run saved a task fetched by its id*", "*未知：这次运行保存的是按任务 ID 取回的任务*"
    ),
    "history_empty_prompt": Words("*empty*", "*空*"),
    "history_references": Words(
        "**References:** {count} (not kept with the run)", "**参考图**：{count} 张（未随运行保存）"
    ),
    "history_task_id": Words("**Task id:** `{id}`", "**任务 ID**：`{id}`"),
    "history_folder": Words("**Run folder:** `{folder}`", "**运行文件夹**：`{folder}`"),
    "history_image_mark": Words("*[image {index}]*", "*[图{index}]*"),
    "history_not_yours": Words(
        "This run is not in your history (any more): refresh the list.",
        "这次运行不在（或已不在）你的历史记录中：请刷新列表。",
    ),
    "title_history_not_yours": Words("No such run", "没有这次运行"),
    "history_vendor_kept": Words(
        "Made with {vendor}, which has no key here: the vendor picked stays.",
        "这次运行用的是 {vendor}，但这里没有它的密钥：服务商保持当前的选择。",
    ),
    "history_model_kept": Words(
        "Made with {model}, which the vendor picked does not serve: Wan 2.6 is picked instead.",
        "这次运行用的是 {model}，但当前服务商不提供它：已改选 Wan 2.6。",
    ),
    "history_filled": Words("This run's settings are filled in under {tab}.", "已在“{tab}”中填入这次运行的设置。"),
    "history_saved_nothing": Words("This run saved no image.", "这次运行没有保存图片。"),
    "history_busy": Words(
        "This run may still be saving its files: try again later.", "这次运行可能仍在保存文件：请稍后再试。"
    ),
    "title_history_busy": Words("Still running", "仍在运行"),
    "history_deleted": Words("The run is deleted, with its files.", "这次运行及其文件已删除。"),
    "history_confirm": Words("⚠️ Click again to delete this run", "⚠️ 再点一次即删除这次运行"),
    "history_delete_busy": Words("🗑️ Delete (still running)", "🗑️ 删除（仍在运行）"),
    # "Reuse settings": what could not be filled in.
    "reuse_prompt_unknown": Words(
        "Its prompt is not known (the run saved a task fetched by its id).",
        "它的提示词未知（这次运行保存的是按任务 ID 取回的任务）。",
    ),
    "reuse_size_no_shape": Words(
        "Its size, {size}, is none of the shapes here: check it under Advanced.",
        "它的尺寸 {size} 不属于这里的任何比例：请在“高级设置”中检查。",
    ),
    "reuse_tier_lacking": Words(
        "It asked for {tier}, which this vendor does not offer: pick a shape.",
        "它要求的 {tier} 此服务商不提供：请选择一个比例。",
    ),
    "reuse_references": Words(
        "Its {count} reference image(s) are not refilled: add them again.",
        "它的 {count} 张参考图不会回填：请重新添加。",
    ),
    "reuse_input": Words("Its input image is not refilled: add it again.", "它的输入图片不会回填：请重新添加。"),
    "reuse_palette": Words(
        "Its colour palette is not refilled ({colours}): set it again under Colour palette.",
        "它的色板不会回填（{colours}）：请在“色板”中重新设置。",
    ),
}

# The Compare tab: its labels (the browser's) and the texts its columns are written with.
_ENTER_COMPARE = Words("(Enter to compare · Shift+Enter for a new line)", "（Enter 对比 · Shift+Enter 换行）")
COMPARE_LABELS: dict[str, Words] = {
    "tab_compare": Words("Compare", "对比"),
    "compare_about": Words(
        "One prompt sent to several vendors at once, side by side. An option a vendor lacks is not sent to "
        "it, and its column says so.",
        "同一个提示词同时发给多个服务商，结果并排显示。某个服务商不支持的选项不会发给它，并在它的一栏中注明。",
    ),
    "compare_placeholder": Words(
        f"A lighthouse at dawn, watercolour {_ENTER_COMPARE.en}", f"黎明时分的灯塔，水彩画{_ENTER_COMPARE.zh}"
    ),
    "compare_run": Words("Compare", "对比生成"),
    "compare_vendors": Words("Vendors to compare", "参与对比的服务商"),
    "compare_vendors_info": Words(
        "The vendors with a key: the server's, or yours (⚙️ Keys and settings).",
        "有密钥的服务商：服务器的，或你自己的（⚙️ 密钥与设置）。",
    ),
    "compare_options": Words("Options (shared, adapted to each vendor)", "选项（共用，按各服务商调整）"),
    "compare_size": Words(
        "Size, W×H (a vendor that lacks it gets the nearest size it offers)",
        "尺寸，宽×高（不支持的服务商使用它提供的最接近的尺寸）",
    ),
    "compare_n": Words("Images per vendor", "每个服务商的张数"),
    "compare_negative": Words("Negative prompt (≤500 characters)", "反向提示词（≤500 字符）"),
    "compare_seed": Words(
        "Seed (-1 = one random seed, the same for every vendor)", "种子（-1 = 随机，所有服务商相同）"
    ),
}
COMPARE_TEXTS: dict[str, Words] = {
    "compare_head": Words("### {vendor}", "### {vendor}"),
    "compare_ready": Words("Chosen: its results appear here.", "已选择：结果会显示在这里。"),
    "compare_waiting": Words("⏳ Waiting to start", "⏳ 等待开始"),
    "compare_step": Words("⏳ {step}", "⏳ {step}"),
    "compare_done": Words(
        "✅ **{count} image(s)** · {elapsed} s · {seed} · {cost}",
        "✅ **{count} 张图** · {elapsed} 秒 · {seed} · {cost}",
    ),
    "compare_failed": Words("⚠️ **{title}** (after {elapsed} s)", "⚠️ **{title}**（{elapsed} 秒后）"),
    "compare_skipped": Words(
        "⛔ **Not sent**: the request does not fit {vendor}", "⛔ **未发送**：请求不符合 {vendor} 的限制"
    ),
    "compare_seed_one": Words("seed {seed}", "种子 {seed}"),
    "compare_seeds": Words("seeds {seeds}", "种子 {seeds}"),
    "compare_no_seed": Words("no seed", "无种子"),
    "compare_cost_reported": Words("💲 ${usd} (reported)", "💲 ${usd}（服务商报告）"),
    "compare_cost_estimate": Words("💲 ~${usd} (estimate)", "💲 约 ${usd}（预估）"),
    "compare_cost_unknown": Words("💲 cost unknown", "💲 费用未知"),
    "compare_expected": Words("💲 expected: {estimate}", "💲 预计：{estimate}"),
    "compare_not_sent": Words(
        "ℹ️ Not sent to this vendor: {field} {asked} (it takes no such option)",
        "ℹ️ 未发给此服务商：{field} {asked}（它不支持此选项）",
    ),
    "compare_sent_as": Words(
        "ℹ️ {field}: {asked} asked, {sent} sent ({reason})", "ℹ️ {field}：要求 {asked}，实际发送 {sent}（{reason}）"
    ),
    "compare_left_to_vendor": Words(
        "ℹ️ {field}: {asked} not sent, the vendor's default is used ({reason})",
        "ℹ️ {field}：{asked} 未发送，使用服务商的默认值（{reason}）",
    ),
    "compare_request_id": Words("request id `{id}`", "请求 ID `{id}`"),
    "compare_running": Words("⏳ Comparing {count} vendor(s) at once…", "⏳ 正在同时对比 {count} 个服务商…"),
    "compare_summary": Words(
        "**{done} of {count} vendor(s) succeeded** · {cost}", "**{count} 个服务商中 {done} 个成功** · {cost}"
    ),
    "compare_summary_failed": Words("⚠️ Failed or not sent: {vendors}", "⚠️ 失败或未发送：{vendors}"),
    "compare_total": Words("💲 total ${usd}", "💲 合计 ${usd}"),
    "compare_total_estimate": Words("💲 total ~${usd} (part estimated)", "💲 合计约 ${usd}（部分为预估）"),
    "compare_shared_seed": Words(
        "Every vendor that takes a seed was sent seed {seed}.", "所有支持种子的服务商都收到了种子 {seed}。"
    ),
    "compare_choose": Words("Choose at least one vendor to compare.", "请至少选择一个服务商进行对比。"),
    "compare_no_key": Words(
        "No key for {vendors} here: paste yours in ⚙️ Keys and settings, or untick it.",
        "这里没有 {vendors} 的密钥：请在 ⚙️ 密钥与设置 中粘贴你的密钥，或取消勾选。",
    ),
    "compare_problem_for": Words("{message} ({vendors})", "{message}（{vendors}）"),
}
LABELS |= COMPARE_LABELS
TEXTS |= COMPARE_TEXTS

# Box edits: Wan 2.7's areas to edit, typed in Edit.
BOX_LABELS: dict[str, Words] = {
    "boxes_field": Words("Areas to edit (Wan 2.7)", "要编辑的区域（Wan 2.7）"),
    "boxes_field_info": Words(
        "One box a line: the reference's number, then x1,y1,x2,y2 in its own pixels as it looks upright "
        "(top left, bottom right), e.g. 2:989,515,1138,681. At most 2 per image; empty: the whole image.",
        "每行一个框：参考图编号，然后是该图（摆正后）自身像素中的 x1,y1,x2,y2（左上、右下），"
        "例如 2:989,515,1138,681。每张图最多 2 个；留空则整张图都可编辑。",
    ),
    "draw_box": Words("✏️ Draw a box on a reference", "✏️ 在参考图上画框"),
    "draw_box_on": Words("Image to draw on", "在哪张图上画"),
    "draw_box_preview": Words("Click two opposite corners of the area", "点击区域的两个对角"),
    "draw_box_clear": Words("Clear this image's boxes", "清除此图的框"),
    "draw_box_none": Words("Upload a reference to draw on it.", "请先上传参考图，再在上面画框。"),
}
LABELS |= BOX_LABELS
BOX_TEXTS: dict[str, Words] = {
    "draw_box_start": Words(
        "Click one corner of the area to edit on image {image}.", "请在图{image}上点击要编辑区域的一个角。"
    ),
    "draw_box_opposite": Words("Click the opposite corner.", "请点击对角。"),
    "draw_box_added": Words("Box {box} added.", "已添加框 {box}。"),
    "draw_box_flat": Words(
        "The two corners must differ across and down: click the opposite corner.",
        "两个角的横坐标和纵坐标都须不同：请点击对角。",
    ),
    "draw_box_full": Words(
        "Image {image} already has {most} boxes, the most this model takes on one image: clear them to draw again.",
        "图{image}已有 {most} 个框，已达此模型每张图的上限：请先清除再画。",
    ),
    "draw_box_unreadable": Words(
        "Image {image} cannot be shown here (unreadable or too large): type its boxes in the field above.",
        "图{image}无法在此显示（无法读取或过大）：请在上方字段中输入它的框。",
    ),
    "draw_box_busy": Words(
        "Pictures are being prepared for other visitors: try again in a moment.",
        "正在为其他访客准备图片：请稍后再试。",
    ),
    "draw_box_changed": Words(
        "The picture changed as you clicked: click again on the one shown now.",
        "点击时图片已更换：请在当前显示的图片上重新点击。",
    ),
}
TEXTS |= BOX_TEXTS


# How a past run ended, and how it reached its vendor, as History says them (the record's own words in English).
RUN_STATUSES: dict[str, Words] = {
    "succeeded": Words("succeeded", "成功"),
    "failed": Words("failed", "失败"),
    "stopped": Words("stopped", "已停止"),
    "still_running": Words("still running", "仍在运行"),
    "unknown": Words("unknown", "未知"),
}
STATUS_MARKS: dict[str, Words] = {
    "failed": Words("⚠️ failed", "⚠️ 失败"),
    "stopped": Words("⏹ stopped", "⏹ 已停止"),
    "still_running": Words("⏳ task unfinished", "⏳ 任务未完成"),
}
FLOWS: dict[str, Words] = {"direct": Words("direct", "直接调用"), "task": Words("task", "任务方式")}

# The words on the page for a request's fields (validation messages name them); in English, a field
# the page has no words for is named as it is.
FIELDS: dict[str, Words] = {
    "prompt": Words("prompt", "提示词"),
    "size": Words("Size", "尺寸"),
    "size.width": Words("Width", "宽度"),
    "size.height": Words("Height", "高度"),
    "n": Words("Images per run", "每次生成张数"),
    "negative_prompt": Words("Negative prompt", "反向提示词"),
    "images": Words("References", "参考图"),
    "image_urls": Words("Reference URLs", "参考图链接"),
    "seed": Words("Seed", "种子"),
    "max_images": Words("Images at most", "最多张数"),
    "provider": Words("Vendor", "服务商"),
    "providers": Words("Vendors", "服务商"),
    "watermark": Words("watermark", "水印"),
    "mode": Words("mode", "模式"),
    "model": Words("Model", "模型"),
    "palette": Words("Colour palette", "色板"),
    "thinking": Words("Thinking", "深度思考"),
    "boxes": Words("Boxes", "框"),
}
_IMAGE_FIELD = re.compile(r"image (\d+)")
_PALETTE_FIELD = re.compile(r"palette\.(\d+)")


def t(key: str, lang: Lang, **values: Any) -> str:
    """The text `key` in `lang`, its `{fields}` filled in."""
    words = TEXTS.get(key) or LABELS[key]
    return words.in_(lang).format(**values)


def worded(table: Mapping[str, Words], value: str, lang: Lang) -> str | None:
    """A record's own word (a status, a flow) as `table` says it in `lang`; None where it does not know it."""
    words = table.get(value)
    return words.in_(lang) if words is not None else None


def sentences(parts: Iterable[str], lang: Lang) -> str:
    """Sentences one after another: a space between them in English, none in Chinese."""
    return ("" if lang is Lang.ZH else " ").join(parts)


def listed(names: Iterable[str], lang: Lang) -> str:
    """Names in a row: "a, b" in English, "a、b" in Chinese."""
    return ("、" if lang is Lang.ZH else ", ").join(names)


def field_label(field: str, lang: Lang) -> str:
    """A request field as the page names it: `size.width` is "Width", `image 2` is "图2" in Chinese."""
    numbered = _IMAGE_FIELD.fullmatch(field)
    if numbered:
        return t("image_n", lang, index=numbered.group(1)) if lang is Lang.ZH else field
    colour = _PALETTE_FIELD.fullmatch(field)
    if colour:  # the row beside its number, under Colour palette
        return t("palette_colour_n", lang, index=colour.group(1))
    words = FIELDS.get(field)
    return field if words is None else words.in_(lang)


def lang_of(request: gr.Request | None) -> Lang:
    """Chinese when the visitor's first language is Chinese (zh, zh-CN, zh-Hans, zh-TW…), else English;
    a request without the header (an API or MCP call) gets English."""
    header = _header(request, "accept-language")
    first = _first_language(header)
    return Lang.ZH if first.split("-")[0] == "zh" else Lang.EN


def _header(request: gr.Request | None, name: str) -> str:
    headers = getattr(request, "headers", None) if request is not None else None
    if not headers:
        return ""
    return str(headers.get(name) or headers.get(name.title()) or "")


def _first_language(header: str) -> str:
    """The language with the highest q in an Accept-Language header ("" for none); ties go to the first."""
    best, best_q = "", 0.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = _quality(params)
        if tag and tag != "*" and q > best_q:
            best, best_q = tag.strip().lower(), q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


# The browser's table: every label, and each text `both` renders when the page is built. Registered
# under "zh", which the browser's locale chain reaches from zh-CN and zh-TW.
# Gradio's own words that its Chinese table lacks (its footer's link to the runs kept in the
# browser): the browser looks for them under "zh" once "zh-CN" has none. English keeps Gradio's.
GRADIO_ZH = {"common.runs": "运行记录", "common.runs_description": "查看保存在此浏览器中的运行记录"}

I18N = gr.I18n(
    en={key: words.en for key, words in LABELS.items()},
    zh={key: words.zh for key, words in LABELS.items()} | GRADIO_ZH,
)


def both(render: Callable[[Lang], str]) -> str | I18nData:
    """A text the server renders once, at build time, in both languages, for the browser to choose
    from: so the first paint is already in the visitor's language. The same text in both is kept plain."""
    texts = {lang: render(lang) for lang in Lang}
    if texts[Lang.EN] == texts[Lang.ZH]:
        return texts[Lang.EN]
    key = "page_" + hashlib.sha1("\0".join(texts.values()).encode()).hexdigest()[:16]
    for lang, text in texts.items():
        I18N.translations_dict.setdefault(lang.value, {})[key] = text
    return I18N(key)


def both_choices(render: Callable[[Lang], list[tuple[str, Choice]]]) -> list[tuple[str | I18nData, Choice]]:
    """Choices (label, value) rendered in both languages at build time; their values are the same in both."""
    english, chinese = render(Lang.EN), render(Lang.ZH)
    return [(both(Words(en, zh).in_), value) for (en, value), (zh, _) in zip(english, chinese, strict=True)]


def english(label: object) -> object:
    """A label as an API caller reads it: the English text for a translated one."""
    key = label.get("key") if isinstance(label, Mapping) and label.get("_type") == "translation_metadata" else None
    if isinstance(label, I18nData):
        key = label.key
    if key is None:
        return label
    return I18N.translations_dict.get("en", {}).get(str(key), key)


def with_english_labels(info: dict[str, Any]) -> dict[str, Any]:
    """Gradio's API description with translated labels put back into English (its labels would
    otherwise be translation keys)."""
    for endpoints in (info.get("named_endpoints", {}), info.get("unnamed_endpoints", {})):
        for endpoint in endpoints.values():
            for item in (*endpoint.get("parameters", ()), *endpoint.get("returns", ())):
                item["label"] = english(item.get("label"))
    return info


# ---- The core's English messages, by pattern --------------------------------------------------------------
# Each pattern is matched against a whole message; its named groups fill the Chinese template, and a
# group whose name ends in `_text` is itself translated (it holds another of the core's phrases).

Pattern = tuple[re.Pattern[str], str]


def _patterns(table: Iterable[tuple[str, str]]) -> list[Pattern]:
    return [(re.compile(english_pattern), chinese) for english_pattern, chinese in table]


_N = r"-?\d+"
_RANGE = r"-?\d+–-?\d+"
_DIMS = r"\d+x\d+"

# wan26/limits.py's violations, wan26/images.py's refusals, and the interface's own (inputs.py).
VIOLATIONS = _patterns(
    [
        (r"is required", "不能为空"),
        (r"is (?P<length>\d+) characters; the limit is (?P<limit>\d+)", "有 {length} 个字符，上限为 {limit}"),
        (
            r"contains a control character \((?P<code>U\+[0-9A-F]+)\) at position (?P<at>\d+); remove it",
            "第 {at} 个字符是控制字符（{code}），请删除",
        ),
        (
            r"contains (?P<count>\d+) control characters, the first \((?P<code>U\+[0-9A-F]+)\) at position (?P<at>\d+);"
            r" remove them",
            "包含 {count} 个控制字符，第一个（{code}）在第 {at} 个字符处，请删除",
        ),
        (
            r"4K is not available here \(tiers: (?P<tiers>[^;]+); 4K is for Wan 2\.7 Pro text to image only\);"
            r" give W×H",
            "此处不支持 4K（可用档位：{tiers}；4K 仅用于 Wan 2.7 Pro 文生图）；请填写 宽×高",
        ),
        (
            r"(?P<size>\S+) is not available here \(tiers: (?P<tiers_text>.+)\); give W×H",
            "此处不支持 {size}（可用档位：{tiers_text}）；请填写 宽×高",
        ),
        (r"none in this mode", "此模式下没有"),
        (rf"(?P<side>{_N}) must be a positive multiple of (?P<step>\d+)", "{side} 必须是 {step} 的正整数倍"),
        (rf"(?P<side>{_N}) is outside (?P<range>{_RANGE}) px", "{side} 超出 {range} px 的范围"),
        (
            rf"(?P<size>{_N}x{_N}) is (?P<pixels>[\d,]+) pixels; "
            r"allowed (?P<low>[\d,]+)–(?P<high>[\d,]+) pixels in total",
            "{size} 共 {pixels} 像素；总像素须在 {low}–{high} 之间",
        ),
        (
            rf"(?P<size>{_N}x{_N}) has aspect ratio beyond 1:(?P<ratio>\S+) / (?P=ratio):1",
            "{size} 的宽高比超出 1:{ratio} 到 {ratio}:1 的范围",
        ),
        (rf"(?P<count>\d+) given; this mode takes (?P<range>{_RANGE})", "给了 {count} 张；此模式需要 {range} 张"),
        (rf"(?P<count>{_N}) images per run; allowed (?P<range>{_RANGE})", "每次 {count} 张；允许 {range} 张"),
        (rf"(?P<count>{_N}) images at most; allowed (?P<range>{_RANGE})", "最多 {count} 张；允许 {range} 张"),
        (rf"(?P<count>{_N}); allowed (?P<range>{_RANGE})", "{count}；允许 {range}"),
        (r"this provider takes no seed; leave it empty", "此服务商不支持种子；请留空"),
        (rf"(?P<seed>{_N}) is outside (?P<range>{_RANGE})", "{seed} 超出 {range} 的范围"),
        (r"is not supported here", "此处不支持"),
        (
            r"(?P<provider>\S+) does not offer (?P<mode>\S+) with (?P<model>Wan [\d.]+(?: Pro)?) "
            r"\(it offers: (?P<offered>.*)\)",
            "{provider} 的 {model} 不提供 {mode}（它提供：{offered}）",
        ),
        (r"(?P<provider>\S+) does not serve (?P<model>Wan [\d.]+(?: Pro)?)", "{provider} 不提供 {model}"),
        (
            r"is not available here \(Wan 2\.7 text to image only\); leave it unset",
            "此处不可用（仅 Wan 2.7 文生图）；请不要设置",
        ),
        (r"is not available here \(Wan 2\.7, not in image sets\)", "此处不可用（仅 Wan 2.7，且组图不可用）"),
        (rf"(?P<count>\d+) colours; allowed (?P<range>{_RANGE})", "{count} 种颜色；允许 {range} 种"),
        (r"(?P<value>'.*'|\".*\") is not a colour like #C2D1E6", "{value} 不是形如 #C2D1E6 的颜色"),
        (r"(?P<hex>\S+) has a share of (?P<percent>-?[\d.]+%); give more than 0", "{hex} 的占比为 {percent}；须大于 0"),
        (r"(?P<hex>\S+) has a share of (?P<percent>[\d.]+%); at most 100%", "{hex} 的占比为 {percent}；最多 100%"),
        (r"the shares add up to (?P<total>-?[\d.]+%); they must make 100%", "占比合计 {total}；须为 100%"),
        (r"box edits are not available here \(Wan 2\.7 edit only\)", "此处不能框选编辑（仅 Wan 2.7 图像编辑）"),
        (
            r"box (?P<box>\S+) is on image (?P<image>\d+); there are (?P<count>\d+) image\(s\)",
            "框 {box} 在第 {image} 张图上，但只有 {count} 张图",
        ),
        (r"box (?P<box>\S+) needs x1 < x2 and y1 < y2, none below 0", "框 {box} 须满足 x1 < x2、y1 < y2，且都不小于 0"),
        (
            r"(?P<count>\d+) boxes on image (?P<image>\d+); at most (?P<most>\d+)",
            "第 {image} 张图上有 {count} 个框；最多 {most} 个",
        ),
        (
            r"box (?P<box>\S+) reaches past (?P<most>\d+) px, the longest side of a reference",
            "框 {box} 超出了 {most} px，即参考图边长的上限",
        ),
        (
            r"box (?P<box>\S+) reaches past image (?P<image>\d+), which is (?P<width>\d+)×(?P<height>\d+)",
            "框 {box} 超出了第 {image} 张图（{width}×{height}）",
        ),
        (
            r"(?P<value>'.*') is not a colour and share like #C2D1E6:25",
            "{value} 不是 #C2D1E6:25 这样的“颜色:占比”",
        ),
        (
            r"(?P<value>'.*') is not a size tier; use (?P<tiers>\S+), or leave it empty",
            "{value} 不是尺寸档位；请使用 {tiers}，或留空",
        ),
        (
            r"(?P<value>'.*') is not a model; use one of (?P<models>.+)",
            "{value} 不是模型；请使用以下之一：{models}",
        ),
        (
            r"this provider takes image URLs only; upload the image somewhere public and pass its https:// URL",
            "此服务商只接受图片链接；请把图片上传到可公开访问的地方，再填写它的 https:// 链接",
        ),
        (
            r"pass an http\(s\):// URL, a local file path, image file bytes or a PIL image",
            "请提供 http(s):// 链接、本地文件路径、图片文件的字节或 PIL 图片",
        ),
        (
            r"(?P<scheme>[^\s:]+): sources are not supported; (?P<accepted_text>.+)",
            "不支持 {scheme}: 来源；{accepted_text}",
        ),
        (r"(?P<url>'.*'|\".*\") is not a complete URL", "{url} 不是完整的链接"),
        (r"file not found: (?P<name>.+)", "找不到文件：{name}"),
        (r"cannot read (?P<name>.+) \((?P<reason>.*)\)", "无法读取 {name}（{reason}）"),
        (
            r"grew past the (?P<limit>.+) limit for a local image file while being read",
            "读取时变得超过了本地图片文件的 {limit} 上限",
        ),
        (
            r"is (?P<kind_text>a folder|a device|a named pipe \(FIFO\)|a socket|a special file), not an image file:"
            r" (?P<name>.+)",
            "是{kind_text}，不是图片文件：{name}",
        ),
        # limits.type_violations: a script's value of the wrong type (the API's own names kept).
        (
            r"must be (?P<wanted_text>text|a whole number|a whole number or None|True or False|"
            r"a Size, a SizeTier or None \(parse_size reads '1280x1280'\)), not (?P<given>.+)",
            "须为{wanted_text}，而不是 {given}",
        ),
        (r"text", "文本"),
        (r"a whole number", "整数"),
        (r"a whole number or None", "整数或 None"),
        (r"True or False", "True 或 False"),
        (
            r"a Size, a SizeTier or None \(parse_size reads '1280x1280'\)",
            "Size、SizeTier 或 None（parse_size 可读取 '1280x1280'）",
        ),
        (r"a folder", "文件夹"),
        (r"a device", "设备"),
        (r"a named pipe \(FIFO\)", "命名管道（FIFO）"),
        (r"a socket", "套接字"),
        (r"a special file", "特殊文件"),
        (
            r"is (?P<size>.+), over the (?P<limit>.+) limit for a local image file; save a smaller copy",
            "大小为 {size}，超过了本地图片文件的 {limit} 上限；请另存一份更小的副本",
        ),
        (r"refused to decode a possible decompression bomb \((?P<detail>.*)\)", "疑似解压炸弹，已拒绝解码（{detail}）"),
        (r"not a readable image \(not a format Pillow recognizes\)", "无法读取的图片（Pillow 不认识这种格式）"),
        (r"not a readable image \((?P<detail>.*)\)", "无法读取的图片（{detail}）"),
        (
            rf"is (?P<dims>{_DIMS}) px = (?P<pixels>[\d,]+) pixels, over the (?P<limit>[\d,]+) this client will decode"
            r" \(it may be a decompression bomb\)",
            "尺寸为 {dims} px，共 {pixels} 像素，超过了本客户端可解码的 {limit} 像素（可能是解压炸弹）",
        ),
        (
            rf"is (?P<dims>{_DIMS}) px; the smallest side must be at least (?P<min>\d+) px",
            "尺寸为 {dims} px；最短边至少要 {min} px",
        ),
        (
            rf"is (?P<dims>{_DIMS}) px; its sides may differ at most (?P<ratio>\d+):1",
            "尺寸为 {dims} px；长短边之比最多 {ratio}:1",
        ),
        (
            rf"is (?P<dims>{_DIMS}) px; fitting it within (?P<max>\d+) px makes it (?P<fitted>{_DIMS}), "
            r"and the smallest"
            rf" side must be at least (?P<min>\d+) px",
            "尺寸为 {dims} px；缩放到 {max} px 以内后为 {fitted}，而最短边至少要 {min} px",
        ),
        (
            r"cannot fit under (?P<limit>.+) without making a side shorter than (?P<min>\d+) px",
            "无法在边长不短于 {min} px 的前提下压缩到 {limit} 以内",
        ),
        (r"is not an image file this app can read", "不是本应用能读取的图片文件"),
        (r"(?P<value>'.*'|\".*\") is not a number", "{value} 不是数字"),
        (
            r"line (?P<line>\d+) is not an http\(s\) link; paste links that start with https://, or upload the image",
            "第 {line} 行不是 http(s) 链接；请粘贴以 https:// 开头的链接，或上传图片",
        ),
        (
            r"lines (?P<lines>[\d, ]+) are not http\(s\) links; "
            r"paste links that start with https://, or upload the image",
            "第 {lines} 行不是 http(s) 链接；请粘贴以 https:// 开头的链接，或上传图片",
        ),
        (r"(?P<count>\d+) boxes; at most (?P<limit>\d+) are read", "共 {count} 个框；最多读取 {limit} 个"),
        (
            r"more than (?P<count>\d+) colours; at most (?P<limit>\d+) are read",
            "颜色超过 {count} 种；最多读取 {limit} 种",
        ),
        (
            r"lines? (?P<lines>[\d, ]+) (?:is|are) not IMAGE:x1,y1,x2,y2 \(such as 2:989,515,1138,681\)",
            "第 {lines} 行不是 图号:x1,y1,x2,y2 的格式（例如 2:989,515,1138,681）",
        ),
        (r"unknown provider (?P<name>.+); choose one of: (?P<known>.+)", "未知的服务商 {name}；可选：{known}"),
        (
            r"size must look like 1280x1280 or be (?P<tiers>1K/2K(?:/4K)?), not (?P<value>.+)",
            "尺寸应形如 1280x1280，或为 {tiers}，而不是 {value}",
        ),
    ]
)

# Progress, task states, setup errors, the wan26 messages of provider errors, and price notes.
MESSAGES = _patterns(
    [
        (r"Sending the request to (?P<vendor>.+)", "正在向 {vendor} 发送请求"),
        (
            r"Waiting for a free slot: number (?P<place>\d+) in line for this key \((?P<vendor>.+) runs at most"
            r" (?P<limit>\d+) at once\)",
            "等待空闲名额：此密钥的第 {place} 位（{vendor} 最多同时运行 {limit} 个）",
        ),
        (r"Generating \(this usually takes 1–2 minutes\)", "生成中（通常需要 1–2 分钟）"),
        (
            r"(?P<vendor>.+) makes one image per call: (?P<calls>\d+) calls at once \(seeds (?P<seeds>.+)\)",
            "{vendor} 每次调用生成一张图：同时发起 {calls} 次调用（种子 {seeds}）",
        ),
        (r"Generating; text and images stream in as they are made", "生成中；文字和图片边生成边显示"),
        (r"Downloading (?P<count>\d+) image\(s\)", "正在下载 {count} 张图片"),
        (r"Saved (?P<count>\d+) image\(s\) in (?P<path>.+)", "已保存 {count} 张图片到 {path}"),
        (r"Preparing reference images", "正在准备参考图"),
        (r"Checking the request", "正在检查请求"),
        (r"Task (?P<status_state>[\w -]+) \((?P<done>\d+%)\)", "任务{status_state}（{done}）"),
        (r"Task (?P<status_state>[\w -]+)", "任务{status_state}"),
        (
            r"No API key for (?P<vendor>.+?): set (?P<env>\S+) in the environment or in a \.env file "
            r"\(see \.env\.example\)\."
            r" (?P<help_text>.+)",
            "{vendor} 没有 API 密钥：请在环境变量或 .env 文件中设置 {env}（参见 .env.example）。{help_text}",
        ),
        (
            r"The (?P<what>.+) (?:key given|value) is not a valid key: it contains spaces, line breaks or non-ASCII"
            r" characters\. Copy the key again, on one line\.",
            "{what} 密钥无效：其中有空格、换行或非 ASCII 字符。请重新复制密钥，放在一行内。",
        ),
        (
            r"Cannot save results in (?P<folder>.+) \((?P<reason>.*)\): "
            r"set WAN26_OUTPUT_DIR or --out to a folder you can"
            r" write to\.",
            "无法在 {folder} 保存结果（{reason}）：请把 WAN26_OUTPUT_DIR 或 --out 设为可写入的文件夹。",
        ),
        (r"Create a key at (?P<url>\S+)", "在 {url} 创建密钥"),
        (r"Create a key in Alibaba Cloud Model Studio: (?P<url>\S+)", "在阿里云百炼（Model Studio）创建密钥：{url}"),
        (r"Create a key in your ShortAPI dashboard: (?P<url>\S+)", "在 ShortAPI 控制台创建密钥：{url}"),
        (r"Create a key on Vtrix's API key page: (?P<url>\S+)", "在 Vtrix 的 API 密钥页面创建密钥：{url}"),
        (r"AI/ML API's example charge per image", "AI/ML API 示例中的单张价格"),
        (r"Singapore list price; 0\.20 CNY in Beijing and Virginia", "新加坡标价；北京和弗吉尼亚为 0.20 元"),
        (
            r"Singapore list price (?P<singapore>[\d.]+) CNY; (?P<beijing>[\d.]+) CNY in Beijing",
            "新加坡标价 {singapore} 元；北京为 {beijing} 元",
        ),
        (r"the cost in Runware's examples", "Runware 示例中的价格"),
        (r"ShortAPI's list price", "ShortAPI 标价"),
        (
            r"Vtrix publishes no price for (?P<model>wan\w+); the charge is shown after the run",
            "Vtrix 未公布 {model} 的价格；费用在生成后显示",
        ),
        (r"Runware's price for every 2\.7 task type", "Runware 对 2.7 各类任务的统一价格"),
        (r"Runware's price for every 2\.7 Pro task type", "Runware 对 2.7 Pro 各类任务的统一价格"),
    ]
)

# The wan26 client's own words in the message of a provider error (a vendor's own message stays as written).
PROVIDER_MESSAGES = _patterns(
    [
        (r"The task was canceled before it finished\.", "任务在完成前被取消了。"),
        (r"The provider suspended the task\.", "服务商暂停了任务。"),
        (r"The provider suspended the task: (?P<said>.+)", "服务商暂停了任务：{said}"),
        (
            r"(?P<failed>\d+) of (?P<total>\d+) image\(s\) could not be saved \(image (?P<index>\d+): (?P<error>.*)\)",
            "{total} 张图片中有 {failed} 张无法保存（图{index}：{error}）",
        ),
        (r"The provider does not know this task\.", "服务商不认识这个任务。"),
        (r"could not connect to (?P<host>\S+) \((?P<kind>\w+)\)", "无法连接到 {host}（{kind}）"),
        (r"no answer from (?P<url>\S+) in time \((?P<kind>\w+)\)", "{url} 没有及时回应（{kind}）"),
        (r"the connection to (?P<host>\S+) broke \((?P<kind>\w+)\)", "与 {host} 的连接中断了（{kind}）"),
        (r"the stream ended before the last event", "数据流在最后一个事件之前就结束了"),
        (r"the run ended without a result", "运行结束，但没有结果"),
    ]
)

# A task's state as vendors name it (lower-cased), in progress texts.
STATES = {
    **dict.fromkeys(("pending", "queued", "in_queue", "waiting", "submitted"), "排队中"),
    **dict.fromkeys(("running", "processing", "in_progress", "generating"), "运行中"),
    **dict.fromkeys(("succeeded", "success", "completed", "finished"), "已完成"),
    **dict.fromkeys(("failed", "error"), "失败"),
    **dict.fromkeys(("canceled", "cancelled"), "已取消"),
    "suspended": "已暂停",
    "unknown": "未知",
}

# Error titles (each ProviderError subclass has one).
TITLES = {
    "Provider error": "服务商错误",
    "Request rejected": "请求被拒绝",
    "Authentication failed": "认证失败",
    "Permission or billing problem": "权限或账单问题",
    "Blocked by content moderation": "未通过内容审核",
    "Rate limited": "请求过于频繁",
    "Generation failed": "生成失败",
    "Timed out": "超时",
    "Network error": "网络错误",
    "Could not connect": "无法连接",
    "Unexpected response": "意外的响应",
    "Images not saved": "图片未保存",
}

# Sentences found inside longer texts (hints, the key guard's lines), replaced wherever they appear.
_MONEY = r"\$(?P<{}>[\d.]+)"
PHRASES = _patterns(
    [
        (r"Server key: ", "服务器密钥："),
        (
            rf"{_MONEY.format('spent')} of {_MONEY.format('limit')} spent today \(UTC\)",
            "今日（UTC）已花费 ${spent}，上限 ${limit}",
        ),
        (rf"{_MONEY.format('spent')} spent today \(UTC\), no daily limit", "今日（UTC）已花费 ${spent}，无每日上限"),
        (r"; up to (?P<count>\d+) runs per visitor an hour", "；每位访客每小时最多 {count} 次"),
        (
            r"This Space's key has a daily spending limit of \$0\.00, so it makes no runs\.",
            "此 Space 的密钥每日消费上限为 $0.00，因此不能生成。",
        ),
        (
            rf"This Space's key has reached its daily spending limit of {_MONEY.format('limit')} \(resets at 00:00 UTC,"
            r" in (?P<wait>[^)]+)\)\.",
            "此 Space 的密钥已达到每日消费上限 ${limit}（UTC 00:00 重置，还有 {wait}）。",
        ),
        (
            rf"This run \(about {_MONEY.format('run')}\) would take this Space's key past its daily spending limit of "
            rf"{_MONEY.format('limit')}; {_MONEY.format('left')} is left today "
            r"\(resets at 00:00 UTC, in (?P<wait>[^)]+)\)\.",
            "本次生成（约 ${run}）会让此 Space 的密钥超出每日消费上限 ${limit}；"
            "今日还剩 ${left}（UTC 00:00 重置，还有 {wait}）。",
        ),
        (
            r"This Space's key makes no runs for visitors \(its limit is 0 runs an hour\)\.",
            "此 Space 的密钥不为访客生成（上限为每小时 0 次）。",
        ),
        (
            r"You have made (?P<count>\d+) runs? with this Space's key in the last hour, "
            r"the limit per visitor; the next"
            r" is possible in (?P<wait>[^.]+)\.",
            "过去一小时内你已用此 Space 的密钥生成 {count} 次，达到每位访客的上限；{wait} 后可以再次生成。",
        ),
        (
            r"Paste your own key under 'Your API key' to continue without this limit\.",
            "在“你的 API 密钥”下粘贴你自己的密钥，即可不受此限制继续使用。",
        ),
        (
            r"Check DASHSCOPE_API_KEY, and that the key's region matches DASHSCOPE_REGION \(intl, cn or us\): "
            r"each region"
            r" has its own keys\.",
            "请检查 DASHSCOPE_API_KEY，并确认密钥的地域与 DASHSCOPE_REGION（intl、cn 或 us）一致："
            "每个地域的密钥各不相同。",
        ),
        (
            r"The prompt, a reference image or the result was flagged as inappropriate\. "
            r"Rephrase the prompt or use other"
            r" images\.",
            "提示词、参考图或生成结果被判定为不当内容。请改写提示词或换用其他图片。",
        ),
        (
            r"Suspected intellectual-property infringement\. Prompt rewriting can cause this: try again with prompt"
            r" rewriting off \(--no-prompt-extend\)\.",
            "疑似侵犯知识产权。提示词扩写可能导致这种情况：请关闭提示词扩写后重试（--no-prompt-extend）。",
        ),
        (
            r"Your Alibaba Cloud account is in arrears: settle the bill or top up in the console, then try again\.",
            "你的阿里云账户已欠费：请在控制台结清账单或充值后重试。",
        ),
        (
            r"This key may not use this model or call it this way: check the model is activated for your account and"
            r" region\.",
            "此密钥无权使用该模型或以这种方式调用：请确认你的账户和地域已开通该模型。",
        ),
        (
            r"Too many requests at once \(about 5 per second and 5 running tasks per account\)\. Wait a little and try"
            r" again\.",
            "同时请求过多（每个账户约每秒 5 次、同时 5 个运行中的任务）。请稍等后重试。",
        ),
        (
            r"The allocated quota is used up\. Wait, or raise the quota in the Model Studio console\.",
            "分配的额度已用完。请等待，或在百炼控制台提高额度。",
        ),
        (r"The model is not available here: check DASHSCOPE_REGION\.", "此处无法使用该模型：请检查 DASHSCOPE_REGION。"),
        (
            r"This is often an account problem, such as arrears \(an unpaid bill\): "
            r"check your account in the Model Studio"
            r" console\.",
            "这通常是账户问题，比如欠费（账单未付）：请在百炼控制台检查你的账户。",
        ),
        (r"A problem on Alibaba's side\. Try again in a moment\.", "阿里云那边出了问题。请稍后重试。"),
        (r"The model is temporarily unavailable\. Try again later\.", "模型暂时不可用。请稍后重试。"),
        (r"The provider refused a parameter; the message says which\.", "服务商拒绝了某个参数；具体见错误信息。"),
        (
            r"The provider could not download a reference image URL: make it public, or pass a local file\.",
            "服务商无法下载参考图链接：请让链接可公开访问，或改为上传本地文件。",
        ),
        (
            r"The model is not activated for this account: activate it in the console\.",
            "此账户尚未开通该模型：请在控制台开通。",
        ),
        (r"The key's workspace has no access to this model\.", "此密钥所在的业务空间无权使用该模型。"),
        (
            r"The free quota is used up and the account is set to free tier only: turn that off to pay per image\.",
            "免费额度已用完，且账户设置为仅使用免费额度：关闭此设置即可按张付费。",
        ),
        (r"Requests rose too quickly\. Slow down and try again\.", "请求增长过快。请放慢速度后重试。"),
        (
            r"The task ran past the provider's 3-hour limit and was dropped\.",
            "任务运行超过了服务商 3 小时的上限，已被丢弃。",
        ),
        (r"The provider refused the request; the message says why\.", "服务商拒绝了请求；原因见错误信息。"),
        (r"Submit it again if you still want it\.", "如果仍需要，请重新提交。"),
        (
            r"Task ids expire after 24 hours and are only visible to the key and region that created them\.",
            "任务 ID 24 小时后过期，且只对创建它的密钥和地域可见。",
        ),
        (r"It may still be billed; it was not sent again\.", "它仍可能计费；没有重新发送。"),
        (r"The provider is very slow\.", "服务商响应很慢。"),
        (r"Check your internet connection, or the base URL if you set one\.", "请检查网络连接，或你设置的 base URL。"),
        (
            r"The provider is slow or overloaded\. The request may still have been received\.",
            "服务商响应慢或过载。请求可能已被接收。",
        ),
        (r"The request may still have been received; it was not sent again\.", "请求可能已被接收；没有重新发送。"),
        (r"What arrived before the cut has been saved\.", "中断之前收到的内容已保存。"),
        (r"(?P<ok>\d+) of (?P<calls>\d+) calls succeeded\.", "{calls} 次调用中有 {ok} 次成功。"),
        (
            r"The task may still finish and be billed\. Save it within 24 h with: (?P<command>.+?)\.(?= |$)",
            "任务仍可能完成并计费。请在 24 小时内用以下命令保存：{command}。",
        ),
        (
            r"The task may still run and be billed; it was not sent again\. Try the direct flow\.",
            "任务仍可能运行并计费；没有重新发送。请试试直接调用方式。",
        ),
        (
            r"(?P<count>\d+) other image\(s\) are saved in (?P<folder>.+?)\.(?= |$)",
            "另外 {count} 张图片已保存在 {folder}。",
        ),
        (r"the server's output folder", "服务器的输出文件夹"),
        (
            r"The free quota is used up\. Enable paid usage in the Model Studio console to continue\.",
            "免费额度已用完。请在百炼控制台开通付费使用后继续。",
        ),
        (
            r"The task id stays valid for 24 hours, so once that is sorted out `python -m wan26 fetch TASK_ID --mode"
            r" MODE` may still get its result\.",
            "任务 ID 在 24 小时内有效，问题解决后，`python -m wan26 fetch TASK_ID --mode MODE` 仍可能取回结果。",
        ),
        # AI/ML API
        (
            r"Check AIMLAPI_API_KEY: the key is missing, expired or mistyped\. Create one at (?P<url>\S+)",
            "请检查 AIMLAPI_API_KEY：密钥缺失、已过期或输入有误。在 {url} 创建密钥",
        ),
        (
            r"Your AI/ML API balance is used up: top up or update the payment method at (?P<url>\S+)",
            "你的 AI/ML API 余额已用完：请在 {url} 充值或更新付款方式",
        ),
        (
            r"The free tier's hourly limit is reached: wait an hour, or subscribe at (?P<url>\S+)",
            "已达到免费套餐的每小时上限：请等一小时，或在 {url} 订阅",
        ),
        (
            r"This key may not use this model: check your plan at (?P<url>\S+)",
            "此密钥无权使用该模型：请在 {url} 检查你的套餐",
        ),
        (
            r"Too many requests at once\. Wait a little and try again, or make fewer images per run\.",
            "同时请求过多。请稍等后重试，或减少每次生成的张数。",
        ),
        (
            r"The prompt or a reference image was flagged as inappropriate\. Rephrase the prompt or use other images\.",
            "提示词或参考图被判定为不当内容。请改写提示词或换用其他图片。",
        ),
        (
            r"AI/ML API refused a field; the message names it \(Expected … received …\)\.",
            "AI/ML API 拒绝了某个字段；错误信息中写明了是哪个（Expected … received …）。",
        ),
        (
            r"A problem at AI/ML API or at Alibaba behind it\. Try again in a few minutes\.",
            "AI/ML API 或其背后的阿里云出了问题。请几分钟后重试。",
        ),
        (
            r"The model is under maintenance at AI/ML API\. Try again later, or contact help@aimlapi\.com\.",
            "AI/ML API 上的该模型正在维护。请稍后重试，或联系 help@aimlapi.com。",
        ),
        (
            r"The generation ran past AI/ML API's time limit\. It may still be billed; try again later\.",
            "生成超过了 AI/ML API 的时间上限。它仍可能计费；请稍后重试。",
        ),
        # Runware
        (
            r"Check RUNWARE_API_KEY: copy the key again from https://my\.runware\.ai \(or create one at /signup\)\.",
            "请检查 RUNWARE_API_KEY：从 https://my.runware.ai 重新复制密钥（或在 /signup 创建一个）。",
        ),
        (
            r"Your Runware balance is used up: top up at https://my\.runware\.ai, then try again\.",
            "你的 Runware 余额已用完：请在 https://my.runware.ai 充值后重试。",
        ),
        (r"Runware is throttling requests\. Wait a little and try again\.", "Runware 正在限流。请稍等后重试。"),
        (
            r"The prompt, a reference image or the result was flagged by content moderation\. Rephrase the prompt or"
            r" use other images\.",
            "提示词、参考图或生成结果未通过内容审核。请改写提示词或换用其他图片。",
        ),
        (
            r"Runware refused a parameter; the message says which and why\.",
            "Runware 拒绝了某个参数；错误信息中写明了是哪个以及原因。",
        ),
        (
            r"The model provider behind Runware did not answer in time\. Try again in a moment\.",
            "Runware 背后的模型服务商没有及时响应。请稍后重试。",
        ),
        (
            r"Runware does not know this task: task ids expire, and are visible only to the key that made them\.",
            "Runware 不认识这个任务：任务 ID 会过期，且只对创建它的密钥可见。",
        ),
        (
            r"Runware says this task failed or is not known: task ids expire, and are visible only to the key"
            r" that made them\.",
            "Runware 说这个任务失败了或不存在：任务 ID 会过期，且只对创建它的密钥可见。",
        ),
        (r"A problem on Runware's side\. Try again in a moment\.", "Runware 那边出了问题。请稍后重试。"),
        (r"Docs: (?P<url>\S+)", "文档：{url}"),
        # ShortAPI
        (
            r"Check SHORTAPI_API_KEY: copy the key again from your ShortAPI dashboard \(https://shortapi\.ai\)\.",
            "请检查 SHORTAPI_API_KEY：从 ShortAPI 控制台（https://shortapi.ai）重新复制密钥。",
        ),
        (
            r"Your ShortAPI balance is too low for this job: top up in your dashboard at https://shortapi\.ai, then"
            r" retry\.",
            "你的 ShortAPI 余额不足以完成此任务：请在 https://shortapi.ai 的控制台充值后重试。",
        ),
        (
            r"This key may not use this model: check the key's permissions in your ShortAPI dashboard\.",
            "此密钥无权使用该模型：请在 ShortAPI 控制台检查密钥的权限。",
        ),
        (
            r"Too many requests to (?P<vendor>ShortAPI|Vtrix) at once\. Wait a little and try again\.",
            "同时向 {vendor} 发出的请求过多。请稍等后重试。",
        ),
        (
            r"(?P<vendor>ShortAPI|Vtrix) refused the request; the message says which parameter\.",
            "{vendor} 拒绝了请求；错误信息中写明了是哪个参数。",
        ),
        (
            r"ShortAPI does not know this job id: check it, and that the job was made with this SHORTAPI_API_KEY\.",
            "ShortAPI 不认识这个任务 ID：请检查它，并确认任务是用当前的 SHORTAPI_API_KEY 创建的。",
        ),
        (
            r"A problem on ShortAPI's side \(or the upstream model\)\. Try again in a moment\.",
            "ShortAPI（或其上游模型）出了问题。请稍后重试。",
        ),
        # Vtrix
        (
            r"Your Vtrix balance is too low: top up at https://vtrix\.ai, then try again\.",
            "你的 Vtrix 余额不足：请在 https://vtrix.ai 充值后重试。",
        ),
        (
            r"Check VTRIX_API_KEY: the key is missing, mistyped or revoked \(keys: https://vtrix\.ai\)\.",
            "请检查 VTRIX_API_KEY：密钥缺失、输入有误或已被吊销（密钥：https://vtrix.ai）。",
        ),
        (
            r"Either your Vtrix balance is too low \(top up at https://vtrix\.ai\) or this key may not use this"
            r" model\.",
            "可能是你的 Vtrix 余额不足（请在 https://vtrix.ai 充值），也可能是此密钥无权使用该模型。",
        ),
        (
            r"A problem at Vtrix or upstream at Alibaba\. Try again in a moment\.",
            "Vtrix 或上游的阿里云出了问题。请稍后重试。",
        ),
        (r"Vtrix or Alibaba did not finish in time\. Try again later\.", "Vtrix 或阿里云没有及时完成。请稍后重试。"),
        (
            r"Vtrix found nothing there: check the task id and the key \(task ids expire after 24 hours\), or"
            r" VTRIX_BASE_URL if you set one\.",
            "Vtrix 在那里什么也没找到：请检查任务 ID 和密钥（任务 ID 24 小时后过期）；"
            "如果设置了 VTRIX_BASE_URL，也请检查它。",
        ),
        (
            r"Vtrix task ids expire after 24 hours, and an expired task cannot be fetched: submit it again\.",
            "Vtrix 的任务 ID 24 小时后过期，过期的任务无法获取：请重新提交。",
        ),
    ]
)


# ---- The Batch tab (batch_tab.py and its modules): its labels, its texts, and the words of a jobs file's
# problems and a batch row's errors. One block, so the tab's words are found (and merged) in one place.

BATCH_LABELS: dict[str, Words] = {
    "tab_batch": Words("Batch", "批量"),
    "batch_intro": Words(
        "Run a CSV or JSON Lines file of requests, one per row (the columns of `python -m wan26 batch`), with "
        "the images it names.",
        "运行一个 CSV 或 JSON Lines 请求文件，每行一个请求（列与 `python -m wan26 batch` 相同），以及它引用的图片。",
    ),
    "batch_format": Words("ℹ️ How to write a jobs file", "ℹ️ 如何编写任务文件"),
    "batch_format_help": Words(
        "A CSV file with a header, or JSON Lines (one object a line). Columns, in any case: `prompt`, `mode` "
        "(text_to_image, edit, interleave, image_set), `provider` or `vendor` (dashscope, aimlapi, runware, "
        "shortapi, vtrix), `model` (wan2.6, wan2.7, wan2.7-pro, or as the picker writes it: Wan 2.7 Pro), "
        "`negative_prompt`, `size` (such as 1280x1280, or 1K / 2K, and 4K for Wan 2.7 Pro text to image), `n`, "
        "`seed`, `images`, `max_images`, `prompt_extend`, `watermark`, and for Wan 2.7 `thinking` (true/false), "
        "`palette` (#RRGGBB:PCT colours separated by `|`, shares summing to 100) and `boxes` (areas to edit, "
        "IMAGE:x1,y1,x2,y2 separated by `|`). An empty cell takes the vendor and model picked at the top and "
        "their defaults.\n\n"
        '```csv\nprompt,provider,n\n"a red teapot, studio light",dashscope,2\n'
        "the same teapot in blue,runware,1\n```\n\n"
        "`images` holds http(s) links, or the file names of images uploaded beside the file (in CSV, several "
        "separated by `|`); any path is refused, as the app reads no file from a jobs file. Nothing is sent "
        "until every row passes its vendor's limits. Rows run a few at a time per vendor; **Stop** starts no "
        "new row and lets those under way finish, so nothing paid for is lost. The zip holds each row's "
        "images and run.json, index.csv, index.jsonl and index.html (a contact sheet).",
        "带表头的 CSV 文件，或 JSON Lines（每行一个对象）。列名不分大小写：`prompt`、`mode`"
        "（text_to_image、edit、interleave、image_set）、`provider` 或 `vendor`（dashscope、aimlapi、runware、"
        "shortapi、vtrix）、`model`（wan2.6、wan2.7、wan2.7-pro，或按选择器的写法：Wan 2.7 Pro）、"
        "`negative_prompt`、`size`（如 1280x1280，或 1K / 2K，Wan 2.7 Pro 文生图还可用 4K）、`n`、`seed`、`images`、"
        "`max_images`、`prompt_extend`、`watermark`，以及 Wan 2.7 的 `thinking`（true/false）、"
        "`palette`（#RRGGBB:百分比 的颜色，用 `|` 分隔，占比合计 100）和 `boxes`（要编辑的区域，"
        "IMAGE:x1,y1,x2,y2，用 `|` 分隔）。空单元格使用页面顶部选择的服务商和模型及其默认值。\n\n"
        '```csv\nprompt,provider,n\n"a red teapot, studio light",dashscope,2\n'
        "the same teapot in blue,runware,1\n```\n\n"
        "`images` 填写 http(s) 链接，或与文件一起上传的图片的文件名（CSV 中多个用 `|` 分隔）；"
        "任何路径都会被拒绝，因为本应用不读取任务文件中的任何文件。每一行都符合服务商的限制之前，不会发送任何内容。"
        "每个服务商同时运行几行；**停止** 不再开始新的行，并让进行中的行完成，因此已付费的内容不会丢失。"
        "zip 中有每行的图片和 run.json、index.csv、index.jsonl 以及 index.html（缩略图总览）。",
    ),
    "batch_jobs": Words("Jobs file", "任务文件"),
    "batch_images": Words("Images (optional)", "图片（可选）"),
    "batch_run": Words("▶️ Run batch", "▶️ 运行批量任务"),
    "batch_stop": Words("⏹ Stop", "⏹ 停止"),
    "batch_download": Words("⬇️ Download all (.zip)", "⬇️ 全部下载（.zip）"),
    "batch_rows": Words("Rows", "各行"),
    "batch_results": Words("Results", "结果"),
    "batch_max_cost": Words("Most to spend (US$)", "最多花费（美元）"),
    "batch_no_cap": Words("no limit", "不限"),
    "batch_waiting": Words(
        "Upload a jobs file: its rows and estimated cost are shown here before anything runs.",
        "请上传任务文件：运行之前，这里会列出各行和预估费用。",
    ),
}
BATCH_TEXTS: dict[str, Words] = {
    "batch_col_row": Words("Row", "序号"),
    "batch_col_line": Words("Line", "行号"),
    "batch_col_vendor": Words("Vendor", "服务商"),
    "batch_col_mode": Words("Mode", "模式"),
    "batch_col_prompt": Words("Prompt", "提示词"),
    "batch_col_images": Words("Images", "图片数"),
    "batch_col_estimate": Words("Estimate", "预估费用"),
    "batch_col_check": Words("Check", "检查"),
    "batch_no_price": Words("no price", "未公布价格"),
    "batch_usd": Words("${usd}", "${usd}"),
    "batch_up_to": Words("up to ${usd}", "最多 ${usd}"),
    "batch_problem": Words("line {line}{row} · {text}", "第 {line} 行{row} · {text}"),
    "batch_problem_row": Words(" (row {row})", "（序号 {row}）"),
    "batch_problems": Words(
        "⛔ **{count} problem(s)**: nothing runs until they are fixed (fix the file and upload it again).",
        "⛔ **{count} 个问题**：改好之前不会运行任何内容（请修改文件后重新上传）。",
    ),
    "batch_not_ready": Words("⛔ **Not ready to run:**", "⛔ **还不能运行：**"),
    "batch_more_problems": Words(
        "- … and {count} more (the table shows each row's)", "- ……还有 {count} 个（表格中列出了每一行的问题）"
    ),
    "batch_ready": Words(
        "✅ **{rows} row(s) · {images} image(s) · estimated ${usd}** at list price{unpriced}.",
        "✅ **{rows} 行 · {images} 张图 · 按标价预估 ${usd}**{unpriced}。",
    ),
    "batch_unpriced": Words(
        " (not counted: {count} row(s) at {vendors}, which publish no price)",
        "（未计入：{vendors} 的 {count} 行，未公布价格）",
    ),
    "batch_paid_by": Words("Paid with {payers}.", "付费方式：{payers}。"),
    "batch_own_key": Words("your {vendor} key", "你的 {vendor} 密钥"),
    "batch_server_key": Words("the server's {vendor} key", "服务器的 {vendor} 密钥"),
    "batch_server_cap": Words(" (at most ${cap} a batch)", "（每个批量最多 ${cap}）"),
    "batch_most": Words(
        "🛑 Stops starting rows past ${cap} (your most to spend).",
        "🛑 花费将超过 ${cap} 时不再开始新的行（你设定的最多花费）。",
    ),
    "batch_bad_cap": Words(
        "**Most to spend** must be an amount of US$ 0 or more; leave it empty for no cap. Nothing runs until then.",
        "**最多花费** 必须是不小于 0 的美元金额；留空表示不设上限。改好之前不会运行任何内容。",
    ),
    "batch_cap_unpriced": Words(
        "{vendor} publishes no price, so **Most to spend** cannot bound rows {rows}: leave it empty, "
        "or choose another vendor for them.",
        "{vendor} 未公布价格，因此 **最多花费** 无法约束序号 {rows}：请将其留空，或为这些行选择其他服务商。",
    ),
    "batch_press_run": Words("Press **Run batch** to start.", "点击 **运行批量任务** 开始。"),
    "batch_no_key": Words(
        "No {vendor} key for rows {rows}: paste your own {vendor} key in ⚙️ Keys and settings.",
        "序号 {rows} 没有可用的 {vendor} 密钥：请在 ⚙️ 密钥与设置 中粘贴你自己的 {vendor} 密钥。",
    ),
    "batch_space_key": Words(
        "On this Space a batch runs with your own key only: paste your {vendor} key in ⚙️ Keys and settings "
        "(rows {rows}).",
        "在此 Space 上，批量任务只使用你自己的密钥：请在 ⚙️ 密钥与设置 中粘贴你的 {vendor} 密钥（序号 {rows}）。",
    ),
    "batch_over_cap": Words(
        "The rows paid with this Space's key are estimated at ${usd}, over the ${cap} a batch may spend on it: "
        "remove rows, or paste your own key in ⚙️ Keys and settings.",
        "用此 Space 的密钥付费的行预估为 ${usd}，超过了每个批量可用的 ${cap}：请删去一些行，"
        "或在 ⚙️ 密钥与设置 中粘贴你自己的密钥。",
    ),
    "title_batch": Words("Batch", "批量任务"),
    "batch_busy_session": Words(
        "A batch is running in this page: wait for it to end, or stop it.",
        "此页面正在运行一个批量任务：请等它结束，或停止它。",
    ),
    "batch_busy_app": Words(
        "The server is running {most} batches, its most at once: try again in a few minutes.",
        "服务器正在运行 {most} 个批量任务，已达同时运行的上限：请几分钟后再试。",
    ),
    "batch_starting": Words("⏳ Starting…", "⏳ 正在开始……"),
    "batch_progress": Words(
        "⏳ **{ended} / {total} rows** {bar} {done} done{others} · {images} image(s) · ${spent} spent{under_way}{eta}",
        "⏳ **{ended} / {total} 行** {bar} 完成 {done}{others} · {images} 张图 · 已花费 ${spent}{under_way}{eta}",
    ),
    "batch_others": Words(" ({parts})", "（{parts}）"),
    "batch_failed_n": Words("{count} failed", "失败 {count}"),
    "batch_unknown_n": Words("{count} unknown", "结果未知 {count}"),
    "batch_running_n": Words("{count} running", "运行中 {count}"),
    "batch_under_way": Words(" (+${usd} under way)", "（另有 ${usd} 进行中）"),
    "batch_eta": Words(" · about {time} left", " · 约剩 {time}"),
    "batch_slowed": Words(
        "🐢 {vendor} is rate limiting: its rows wait {pause} s, then go on more slowly.",
        "🐢 {vendor} 正在限流：它的行等待 {pause} 秒后放慢速度继续。",
    ),
    "batch_stopping": Words(
        "⏹ **Stopping**: no new row starts; the rows under way finish, and their images are saved.",
        "⏹ **正在停止**：不再开始新的行；进行中的行会完成，图片会保存。",
    ),
    "batch_row": Words("Row {row} (line {line}, {vendor})", "序号 {row}（第 {line} 行，{vendor}）"),
    "batch_note_failed": Words("⚠️ {row} failed (not billed): {error}", "⚠️ {row} 失败（未计费）：{error}"),
    "batch_note_unknown": Words(
        "⚠️ {row}: outcome unknown, it may have been billed, so it was not sent again: {error}",
        "⚠️ {row}：结果未知，可能已计费，因此没有重新发送：{error}",
    ),
    "batch_note_not_started": Words("⏸ {row} not started: {error}", "⏸ {row} 未开始：{error}"),
    "batch_note_capped": Words(
        "⏸ {row} not started: its estimate would take the batch past your most to spend",
        "⏸ {row} 未开始：按预估它会让批量任务超过你设定的最多花费",
    ),
    "batch_capped": Words(
        "⏸ **{count} row(s) not started**: they would take the batch past the ${cap} you set as most to spend.",
        "⏸ **{count} 行未开始**：它们会让批量任务超过你设定的最多花费 ${cap}。",
    ),
    "batch_note_accepted": Words(
        "⏳ {row}: its task `{task}` may still be running at the vendor; its images are not saved here "
        "(a task id lasts about 24 h)",
        "⏳ {row}：它的任务 `{task}` 可能仍在服务商处运行；图片没有保存在这里（任务 ID 约 24 小时有效）",
    ),
    "batch_more_notes": Words(
        "- … and {count} more rows (index.csv in the zip lists them all)",
        "- ……还有 {count} 行（zip 中的 index.csv 列出了全部）",
    ),
    "batch_done": Words(
        "✅ **Batch done**: {done} of {rows} row(s), {images} image(s), ${spent} spent (as reported, else estimated). "
        "The zip holds the images, each row's run.json, index.csv, index.jsonl and the contact sheet index.html.",
        "✅ **批量任务完成**：{rows} 行中完成 {done} 行，{images} 张图，已花费 ${spent}（按报告，否则按预估）。"
        "zip 中有图片、每行的 run.json、index.csv、index.jsonl 和缩略图总览 index.html。",
    ),
    "batch_ended": Words(
        "⚠️ **Batch ended**: {done} of {rows} row(s) done, {images} image(s), ${spent} spent. The rows that did "
        "not finish are listed below; the zip holds everything saved.",
        "⚠️ **批量任务结束**：{rows} 行中完成 {done} 行，{images} 张图，已花费 ${spent}。"
        "未完成的行列在下方；zip 中有所有已保存的内容。",
    ),
    "batch_stopped": Words(
        "⏹ **Stopped**: {done} of {rows} row(s) done, {not_started} never sent; the rows under way were let "
        "finish, so nothing paid for is lost. {images} image(s), ${spent} spent.",
        "⏹ **已停止**：{rows} 行中完成 {done} 行，{not_started} 行没有发送；进行中的行都已完成，"
        "已付费的内容没有丢失。{images} 张图，已花费 ${spent}。",
    ),
    "batch_failed_to_start": Words(
        "⛔ **The batch stopped before sending**: {error}", "⛔ **批量任务在发送前停止**：{error}"
    ),
    "batch_unexpected": Words("something went wrong on the server ({kind})", "服务器出了问题（{kind}）"),
    "batch_no_zip": Words(
        "⚠️ The zip could not be written on the server; the images are saved in the batch's folder.",
        "⚠️ 服务器无法写入 zip；图片已保存在批量任务的文件夹中。",
    ),
    "batch_reattached": Words(
        "↩️ **Your latest batch** (`{jobs}`), kept by this browser:",
        "↩️ **你最近的批量任务**（`{jobs}`），由此浏览器保存：",
    ),
    "batch_caption": Words("row {row}", "序号 {row}"),
    "batch_caption_n": Words("row {row} · {index}", "序号 {row} · {index}"),
}
LABELS.update(BATCH_LABELS)
TEXTS.update(BATCH_TEXTS)
for _lang in Lang:  # the browser's table was made before this block
    I18N.translations_dict.setdefault(_lang.value, {}).update({key: w.in_(_lang) for key, w in BATCH_LABELS.items()})

# A jobs file's problems (wan26/batch/jobs.py and fields.py, and the tab's own in batch_upload.py and
# batch_keys.py), and the words the batch adds around a row's error.
BATCH_MESSAGES = _patterns(
    [
        (r"unknown column; the columns are: (?P<columns>.+)", "未知的列；可用的列：{columns}"),
        (
            r"has (?P<cells>\d+) cells; the header names (?P<columns>\d+) columns",
            "有 {cells} 个单元格，而表头只有 {columns} 列",
        ),
        (r"not valid JSON \((?P<detail>.*)\)", "不是有效的 JSON（{detail}）"),
        (r"each line must be one JSON object", "每行必须是一个 JSON 对象"),
        (r"must be text, not (?P<value>.+)", "必须是文本，而不是 {value}"),
        (r"(?P<value>.+) is not a mode; use one of: (?P<modes>.+)", "{value} 不是模式；可选：{modes}"),
        (r"(?P<value>.+) is not a vendor; use one of: (?P<vendors>.+)", "{value} 不是服务商；可选：{vendors}"),
        (r"(?P<value>.+) is not a model; use one of: (?P<models>.+)", "{value} 不是模型；可选：{models}"),
        (r"must be a whole number, not (?P<value>.+)", "必须是整数，而不是 {value}"),
        (r"must be true or false, not (?P<value>.+)", "必须是 true 或 false，而不是 {value}"),
        (
            r"must be paths or URLs \(a list, or text with \| between them\)",
            "必须是链接或文件名（一个列表，或用 | 分隔的文本）",
        ),
        (r"(?P<value>'.*'|\".*\") is not a complete http\(s\) URL", "{value} 不是完整的 http(s) 链接"),
        (
            r"this vendor takes image URLs only; put the image online and give its https:// URL",
            "此服务商只接受图片链接；请把图片放到可公开访问的地方，再填写它的 https:// 链接",
        ),
        (r"(?P<name>.+): a jobs file must end in \.csv or \.jsonl", "{name}：任务文件必须以 .csv 或 .jsonl 结尾"),
        (r"(?P<name>.+) has no rows", "{name} 没有任何行"),
        (
            r"is a file path; the app reads no path from a jobs file: give an http\(s\) URL, or the file name of an "
            r"image uploaded with the jobs file",
            "是文件路径；本应用不读取任务文件中的任何路径：请填写 http(s) 链接，或与任务文件一起上传的图片的文件名",
        ),
        (
            r"is not an http\(s\) URL: give an http\(s\) URL, or the file name of an image uploaded with the jobs file",
            "不是 http(s) 链接：请填写 http(s) 链接，或与任务文件一起上传的图片的文件名",
        ),
        (
            r"(?P<name>.+) was not uploaded with the jobs file \(no images were\)",
            "{name} 没有随任务文件一起上传（没有上传任何图片）",
        ),
        (
            r"(?P<name>.+) was not uploaded with the jobs file \(uploaded: (?P<names>.+)\)",
            "{name} 没有随任务文件一起上传（已上传：{names}）",
        ),
        (
            r"(?P<count>\d+) images uploaded; a batch takes at most (?P<most>\d+)",
            "上传了 {count} 张图片；一个批量最多 {most} 张",
        ),
        (
            r"(?P<name>.+) is not an image file \(PNG, JPEG, WEBP or BMP\)",
            "{name} 不是图片文件（PNG、JPEG、WEBP 或 BMP）",
        ),
        (r"two uploaded images are named (?P<name>.+): rename one", "有两张上传的图片都叫 {name}：请重命名其中一张"),
        (
            r"(?P<rows>\d+) rows; the app runs at most (?P<most>\d+) rows a batch \(split the file\)",
            "{rows} 行；本应用每个批量最多运行 {most} 行（请拆分文件）",
        ),
        (
            r"the jobs file is (?P<size>[\d,]+) bytes; the app reads at most (?P<most>[\d,]+) \(split it\)",
            "任务文件有 {size} 字节；本应用最多读取 {most} 字节（请拆分）",
        ),
        (
            r"the jobs file is not UTF-8 text: save it as CSV UTF-8 or JSON Lines",
            "任务文件不是 UTF-8 文本：请另存为 CSV UTF-8 或 JSON Lines",
        ),
        (
            r"A batch may spend at most \$(?P<cap>[\d.]+) on this Space's key; this row \(about \$(?P<row>[\d.]+)\) "
            r"would take it past that \(\$(?P<committed>[\d.]+) spent or under way\)\. (?P<tail_text>.+)",
            "每个批量在此 Space 的密钥上最多花费 ${cap}；这一行（约 ${row}）会超出这个上限"
            "（已花费或进行中 ${committed}）。{tail_text}",
        ),
        (r"not sent: still rate limited after (?P<count>\d+) tries", "未发送：重试 {count} 次后仍被限流"),
        (r"unexpected (?P<kind>\w+): (?P<detail>.*)", "意外的 {kind}：{detail}"),
    ]
)
# A row's provider error on one line (`wan26.batch.outcome.error_text`): its title and labels.
_BATCH_LABELS = (
    ("; Hint: ", "；提示："),
    ("; Request id: ", "；请求 ID："),
    ("; Task id: ", "；任务 ID："),
    ("; Not saved; fetch them yourself before they expire (24 h):", "；未保存；请在链接过期（24 小时）前自行下载："),
)
_ERROR_HEAD = re.compile(r"^(?P<title>[A-Z][\w ,-]*?) \((?P<provider>[\w-]+)\)")


def batch_message(text: str, lang: Lang) -> str:
    """A jobs file's problem, or a batch row's error, in `lang` (a vendor's own words stay as written)."""
    if lang is Lang.EN:
        return text
    found = _matched(text, BATCH_MESSAGES)
    if found is not None:
        return found
    said = _ERROR_HEAD.sub(lambda head: f"{TITLES.get(head['title'], head['title'])}（{head['provider']}）", text)
    for english_label, chinese_label in _BATCH_LABELS:
        said = said.replace(english_label, chinese_label)
    return translate(said, lang)


def translate(text: str, lang: Lang) -> str:
    """One of the core's English messages in `lang`; English where no pattern knows it."""
    if lang is Lang.EN:
        return text
    return chinese(text) or _phrases(text)


def chinese(text: str) -> str | None:
    """The Chinese for a whole message the tables know, else None."""
    return _matched(text, (*VIOLATIONS, *MESSAGES)) or TITLES.get(text)


def state(status: str, lang: Lang) -> str:
    """A task state as a vendor names it ("running"), in `lang`."""
    return STATES.get(status.lower(), status) if lang is Lang.ZH else status


def provider_message(text: str, lang: Lang) -> str:
    """A provider error's message: the client's own words translated, a vendor's kept as written."""
    return (_matched(text, PROVIDER_MESSAGES) or text) if lang is Lang.ZH else text


def _matched(text: str, table: Iterable[Pattern]) -> str | None:
    for pattern, template in table:
        found = pattern.fullmatch(text)
        if found:
            return template.format(**_filled(found))
    return None


def _filled(found: re.Match[str]) -> dict[str, str]:
    """A match's groups for the Chinese template: `*_text` groups are phrases translated in turn,
    `*_state` groups task states."""
    values = {name: value for name, value in found.groupdict().items() if value is not None}
    for name, value in values.items():
        if name.endswith("_text"):
            values[name] = translate(value, Lang.ZH)
        elif name.endswith("_state"):
            values[name] = state(value, Lang.ZH)
    return values


def _phrases(text: str) -> str:
    """Each known sentence inside `text` in Chinese; the rest as it was."""
    for pattern, template in PHRASES:
        text = pattern.sub(_filling(template), text)
    return _AFTER_CHINESE_STOP.sub("", text)  # Chinese sentences follow one another without a space


_AFTER_CHINESE_STOP = re.compile(r"(?<=[。；：）])[ \t]+(?=\S)")


def _filling(template: str) -> Callable[[re.Match[str]], str]:
    return lambda found: template.format(**_filled(found))


# Gradio 6.31 heads each pop-up with its type, capitalised, in English ("Error"), whatever title is
# sent (its statustracker shows `type.charAt(0).toUpperCase() + type.slice(1)`). Gradio sets the
# page's lang from the browser (<html lang="zh-CN">), so a Chinese page gets the word in Chinese.
TOAST_TYPES = {
    "error": Words("Error", "错误"),
    "warning": Words("Warning", "警告"),
    "info": Words("Info", "提示"),
    "success": Words("Success", "成功"),
}


def toast_css() -> str:
    """CSS putting each pop-up's heading in Chinese on a Chinese page (its count kept)."""
    hidden = ":lang(zh) .toast-title {font-size: 0 !important}"
    shown = ":lang(zh) .toast-title::before, :lang(zh) .toast-title .toast-count {font-size: var(--text-lg)}"
    words = [f':lang(zh) .toast-title.{kind}::before {{content: "{word.zh}"}}' for kind, word in TOAST_TYPES.items()]
    return "\n".join([hidden, shown, *words]) + "\n"
