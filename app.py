"""Wan 2.6 Image Studio: text to image, editing with 1–4 references, and interleaved text + images.

Run `python app.py` and open http://127.0.0.1:7860. All generation goes through the `wan26`
package; this file is only the interface. Keys: the server's come from the environment / `.env`
and never reach the browser; a visitor's own key lives in server-side session state only.
"""

import os
from collections.abc import AsyncIterator, Callable
from math import gcd
from typing import Any

import gradio as gr
from dotenv import find_dotenv, load_dotenv

load_dotenv(find_dotenv(usecwd=True))  # before anything reads the environment

from wan26 import (  # noqa: E402
    AsyncClient,
    Finished,
    Flow,
    GenerationResult,
    ImageRequest,
    ImageSaved,
    InvalidRequest,
    Mode,
    Phase,
    Progress,
    ProviderError,
    Size,
    SizeTier,
    TextDelta,
    Wan26Error,
    parse_size,
)
from wan26.limits import ModeLimits, side_range, violations  # noqa: E402
from wan26.providers import DEFAULT_PROVIDER, get_adapter  # noqa: E402
from wan26.storage import default_output_dir  # noqa: E402

ADAPTER = get_adapter(os.environ.get("WAN26_PROVIDER") or DEFAULT_PROVIDER)
LIMITS: dict[Mode, ModeLimits] = dict(ADAPTER.limits)
RANDOM_SEED = -1
# Runs only wait on HTTP, so users must not queue behind each other (Gradio's default is 1 at a
# time per event); the provider itself allows about 5 running tasks per account (dashscope.md §5).
CONCURRENCY = int(os.environ.get("WAN26_CONCURRENCY", "8"))
QUEUE_SIZE = int(os.environ.get("WAN26_QUEUE_SIZE", "64"))
_PHASE_PROGRESS = {
    Phase.PREPARING: 0.05,
    Phase.SUBMITTING: 0.1,
    Phase.WAITING: 0.3,
    Phase.DOWNLOADING: 0.9,
    Phase.DONE: 1.0,
}

# ---------------------------------------------------------------------------------------------
# Pure helpers: what the controls show


def server_has_key() -> bool:
    return bool(os.environ.get(ADAPTER.key_env, "").strip())


def key_status(session_key: str | None) -> str:
    if session_key:
        return "🔑 Using **your own key** for this browser session. It is kept on the server in memory only."
    if server_has_key():
        return "🔑 Using the server's key. You can use your own instead."
    return "⚠️ No key yet: paste yours below."


def no_key_help() -> str:
    return (
        f"### ⚠️ No API key configured\n"
        f"To generate, add a {ADAPTER.title} key in one of three ways: put `{ADAPTER.key_env}=sk-...` in a "
        f"`.env` file next to `app.py` and restart; on a Hugging Face Space, add a **secret** named "
        f"`{ADAPTER.key_env}`; or paste your own key in **Your API key** below (this session only). "
        f"{ADAPTER.key_help}. Keys are regional: set `DASHSCOPE_REGION` (intl, cn, us) to match yours."
    )


def char_count(text: str | None, limit: int) -> str:
    length = len(text or "")
    if length > limit:
        return f"⛔ **{length:,} / {limit:,} characters**: {length - limit:,} too many; the run is blocked."
    return f"{length:,} / {limit:,} characters"


def size_check(mode: Mode, width: float | None, height: float | None) -> str:
    """A one-line verdict on W×H for `mode`, naming the broken limit if any."""
    if not width or not height:
        return "↔️ Follows the input image (1280×1280 without one)"
    size = Size(int(width), int(height))
    problems = [v.message for v in violations(ImageRequest(mode, "x", size=size), LIMITS[mode]) if "size" in v.field]
    if problems:
        return "⛔ " + "; ".join(problems)
    return f"✅ {size.width}×{size.height} · {size.pixels / 1e6:.2f} MP · allowed"


def preset_choices(mode: Mode) -> list[tuple[str, str]]:
    return [
        (f"{_ratio_name(size)} · {size.width}×{size.height}", str(size))
        for size in ADAPTER.recommended_sizes.get(mode, ())
    ]


def _ratio_name(size: Size) -> str:
    divisor = gcd(size.width, size.height)
    return f"{size.width // divisor}:{size.height // divisor}"


def apply_preset(choice: str | None) -> tuple[Any, Any]:
    if not choice:
        return gr.skip(), gr.skip()
    size = parse_size(choice)
    return size.width, size.height  # type: ignore[union-attr]


def edit_size_value(tier: str, width: float, height: float) -> str:
    """The `size` the edit endpoint takes: 1K, 2K or W×H."""
    return tier if tier in (SizeTier.K1, SizeTier.K2) else f"{int(width)}x{int(height)}"


def to_seed(seed: float | None) -> int | None:
    return None if seed is None or int(seed) == RANDOM_SEED else int(seed)


def gallery_items(result: GenerationResult) -> list[tuple[str, str]]:
    return [(str(image.path), f"seed {result.seed} · {image.width}×{image.height}") for image in result.images]


def run_details(result: GenerationResult) -> str:
    ids = f"request id `{result.request_id}`" + (f" · task id `{result.task_id}`" if result.task_id else "")
    return (
        f"**{result.model}** via {ADAPTER.title} · {len(result.images)} image(s) · seed **{result.seed}** · "
        f"{result.size or '?'} · {result.elapsed_s:.1f} s  \n{ids}  \nSaved as PNG with its `run.json` in "
        f"`{result.run_dir}`"
    )


def ui_error(error: Wan26Error) -> gr.Error:
    """The error a person sees: a title, the provider's code, a hint and the request id (in str)."""
    if isinstance(error, ProviderError):
        title = error.title
    elif isinstance(error, InvalidRequest):
        title = "Please check the inputs"
    else:
        title = "Setup needed"
    return gr.Error(str(error), title=title, duration=None, print_exception=False)


def validation_for(names: list[str], found: list[Any]) -> list[dict[str, Any]]:
    """One gr.validate per input, carrying the violations that concern it."""
    return [
        gr.validate(not (msgs := [str(v) for v in found if _concerns(v.field, name)]), "; ".join(msgs))
        for name in names
    ]


def _concerns(field: str, name: str) -> bool:
    if name in ("width", "height"):
        return field in ("size", f"size.{name}")
    if name in ("images", "image"):
        return field == "images" or field.startswith("image ")
    return field == name or field.startswith(name + ".")


# ---------------------------------------------------------------------------------------------
# Building requests from what the endpoints receive


def t2i_request(prompt, negative_prompt, width, height, n, seed, prompt_extend, watermark) -> ImageRequest:
    return ImageRequest(
        Mode.TEXT_TO_IMAGE,
        prompt or "",
        negative_prompt or "",
        size=Size(int(width), int(height)),
        n=int(n),
        seed=to_seed(seed),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
    )


def edit_request(prompt, images, negative_prompt, size, n, seed, prompt_extend, watermark) -> ImageRequest:
    return ImageRequest(
        Mode.EDIT,
        prompt or "",
        negative_prompt or "",
        images=tuple(_paths(images)),
        size=_parsed_size(size),
        n=int(n),
        seed=to_seed(seed),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
    )


def interleave_request(prompt, image, negative_prompt, width, height, max_images, seed, watermark) -> ImageRequest:
    size = Size(int(width), int(height)) if width and height else None  # 0 = follow the input image
    return ImageRequest(
        Mode.INTERLEAVE,
        prompt or "",
        negative_prompt or "",
        images=(image,) if image else (),
        size=size,
        max_images=int(max_images),
        seed=to_seed(seed),
        watermark=bool(watermark),
    )


def _paths(gallery: list[Any] | None) -> list[str]:
    """Gallery values are (path, caption) pairs; API callers may send bare paths."""
    return [item[0] if isinstance(item, tuple | list) else item for item in (gallery or [])]


def _parsed_size(size: str | None) -> Size | SizeTier | None:
    if not size or not str(size).strip():
        return None
    try:
        return parse_size(str(size))
    except ValueError as exc:
        raise gr.Error(str(exc), title="Please check the inputs") from exc


# ---------------------------------------------------------------------------------------------
# Running: events from wan26 become progress, streamed updates and a result


def _client(session_key: str | None, header_key: str | None) -> AsyncClient:
    """A client with the visitor's key (session or X-Dashscope-Key header) else the server's."""
    return AsyncClient(ADAPTER.name, api_key=(header_key or session_key or None))


async def _events(request, session_key, header_key, use_task, progress) -> AsyncIterator[Any]:
    flow = Flow.TASK if use_task else Flow.DIRECT
    try:
        async with _client(session_key, header_key) as client:
            async for event in client.events(request, flow=flow):
                if isinstance(event, Progress):
                    status = f" [{event.task_status}]" if event.task_status else ""
                    progress(_PHASE_PROGRESS[event.phase], desc=event.message + status)
                yield event
    except Wan26Error as error:
        raise ui_error(error) from error


async def _result(events: AsyncIterator[Any]) -> GenerationResult:
    async for event in events:
        if isinstance(event, Finished):
            return event.result
    raise gr.Error("The run ended without a result.", title="Unexpected response")


async def text_to_image(
    prompt: str,
    negative_prompt: str = "",
    width: float = 1280,
    height: float = 1280,
    n: float = 1,
    seed: float = RANDOM_SEED,
    prompt_extend: bool = True,
    watermark: bool = False,
    session_key: str | None = None,
    use_task: bool = False,
    x_dashscope_key: gr.Header = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's documented way to receive progress)
):
    """Generate images from a text prompt with Wan 2.6 (model wan2.6-t2i).

    Args:
        prompt: What to draw, up to 2100 characters.
        negative_prompt: What to avoid, up to 500 characters.
        width: Output width in pixels, a multiple of 16 (total pixels 1280×1280 to 1440×1440, ratio 1:4 to 4:1).
        height: Output height in pixels, a multiple of 16.
        n: Images per run, 1 to 4 (each is billed).
        seed: 0 to 2147483647 for a repeatable result, or -1 for a random seed (the seed used is returned).
        prompt_extend: Let the provider rewrite the prompt for detail.
        watermark: Add the provider's "AI generated" mark.

    Returns:
        The saved PNG images (captioned with seed and size), a Markdown summary of the run, and the seed used.
    """
    request = t2i_request(prompt, negative_prompt, width, height, n, seed, prompt_extend, watermark)
    result = await _result(_events(request, session_key, x_dashscope_key, use_task, progress))
    return gallery_items(result), run_details(result), result.seed


async def edit(
    prompt: str,
    images: list[Any],
    negative_prompt: str = "",
    size: str = "1K",
    n: float = 1,
    seed: float = RANDOM_SEED,
    prompt_extend: bool = True,
    watermark: bool = False,
    session_key: str | None = None,
    use_task: bool = False,
    x_dashscope_key: gr.Header = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
):
    """Edit or combine 1 to 4 reference images with Wan 2.6 (model wan2.6-image).

    Args:
        prompt: The edit, up to 2000 characters; refer to the references as "image 1", "image 2", … in order.
        images: 1 to 4 reference images, in order (JPEG, PNG, BMP or WEBP; at least 240 px a side).
        negative_prompt: What to avoid, up to 500 characters.
        size: "1K" (default; the shape follows the last reference), "2K", or "WxH" such as "1280x720".
        n: Images per run, 1 to 4 (each is billed).
        seed: 0 to 2147483647 for a repeatable result, or -1 for a random seed (the seed used is returned).
        prompt_extend: Let the provider rewrite the prompt for detail.
        watermark: Add the provider's "AI generated" mark.

    Returns:
        The saved PNG images (captioned with seed and size), a Markdown summary of the run, and the seed used.
    """
    request = edit_request(prompt, images, negative_prompt, size, n, seed, prompt_extend, watermark)
    result = await _result(_events(request, session_key, x_dashscope_key, use_task, progress))
    return gallery_items(result), run_details(result), result.seed


async def interleave(
    prompt: str,
    image: str | None = None,
    negative_prompt: str = "",
    width: float = 0,
    height: float = 0,
    max_images: float = 3,
    seed: float = RANDOM_SEED,
    watermark: bool = False,
    session_key: str | None = None,
    use_task: bool = False,
    x_dashscope_key: gr.Header = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
):
    """Write text with images in between (Wan 2.6 interleaved mode), streamed as it is made.

    Args:
        prompt: What to write and illustrate, up to 2000 characters (e.g. "a 3-step recipe for …").
        image: An optional input image.
        negative_prompt: What to avoid, up to 500 characters.
        width: Output width, a multiple of 16 (total pixels 768×768 to 1280×1280), or 0 to follow the input image.
        height: Output height, a multiple of 16, or 0 to follow the input image.
        max_images: At most this many images, 1 to 5 (the model may make fewer; each is billed).
        seed: 0 to 2147483647 for a repeatable result, or -1 for a random seed (the seed used is returned).
        watermark: Add the provider's "AI generated" mark.

    Returns:
        The conversation (text and saved PNG images in order, updated as they arrive), a Markdown summary, the seed.
    """
    request = interleave_request(prompt, image, negative_prompt, width, height, max_images, seed, watermark)
    story = Story(prompt, image)
    yield story.messages(), "⏳ Generating…", gr.skip()
    async for event in _events(request, session_key, x_dashscope_key, use_task, progress):
        if isinstance(event, TextDelta | ImageSaved):
            story.add(event)
            yield story.messages(), gr.skip(), gr.skip()
        elif isinstance(event, Finished):
            yield story.messages(), run_details(event.result), event.result.seed


class Story:
    """The interleaved answer as a chat: the user's turn, then one growing assistant message."""

    def __init__(self, prompt: str, image: str | None) -> None:
        self.user: list[Any] = [prompt] + ([{"path": image}] if image else [])
        self.parts: list[Any] = []

    def add(self, event: TextDelta | ImageSaved) -> None:
        if isinstance(event, ImageSaved):
            self.parts.append({"path": str(event.image.path), "alt_text": f"image {event.image.index}"})
        elif self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += event.text
        else:
            self.parts.append(event.text)

    def messages(self) -> list[dict[str, Any]]:
        answer = self.parts or ["…"]
        return [{"role": "user", "content": self.user}, {"role": "assistant", "content": answer}]


# ---------------------------------------------------------------------------------------------
# Validators: run before the queue; an out-of-limit request is never sent


def _validator(build: Callable[..., ImageRequest], names: list[str]) -> Callable[..., list[dict[str, Any]]]:
    def check(*values: Any) -> list[dict[str, Any]]:
        try:
            request = build(*values[: len(names)])
        except (TypeError, ValueError, gr.Error) as exc:
            return [gr.validate(False, str(exc))] + [gr.validate(True, "")] * (len(values) - 1)
        found = violations(request, LIMITS[request.mode])
        return validation_for(names, found) + [gr.validate(True, "")] * (len(values) - len(names))

    return check


T2I_INPUTS = ["prompt", "negative_prompt", "width", "height", "n", "seed", "prompt_extend", "watermark"]
EDIT_INPUTS = ["prompt", "images", "negative_prompt", "size", "n", "seed", "prompt_extend", "watermark"]
INTERLEAVE_INPUTS = ["prompt", "image", "negative_prompt", "width", "height", "max_images", "seed", "watermark"]


# ---------------------------------------------------------------------------------------------
# Small UI actions (private: not API endpoints)


def set_session_key(text: str) -> tuple[Any, str, str, Any]:
    key = (text or "").strip() or None
    return key, "", key_status(key), gr.update(visible=not (key or server_has_key()))


def forget_session_key() -> tuple[None, str, str, Any]:
    return None, "", key_status(None), gr.update(visible=not server_has_key())


def label_references(gallery: list[Any] | None) -> list[tuple[str, str]]:
    paths = _paths(gallery)
    if len(paths) > 4:
        gr.Warning(f"Edit takes at most 4 reference images; kept the first 4 of {len(paths)}.")
    return [(path, f"Image {index}") for index, path in enumerate(paths[:4], start=1)]


def move_reference(gallery: list[Any] | None, selected: int | None, step: int) -> tuple[Any, Any]:
    paths = _paths(gallery)
    if selected is None or not 0 <= selected < len(paths) or not 0 <= selected + step < len(paths):
        return gr.skip(), gr.skip()
    paths[selected], paths[selected + step] = paths[selected + step], paths[selected]
    moved = selected + step  # keep the moved image selected, so repeated clicks keep moving it
    return gr.Gallery(value=label_references(paths), selected_index=moved), moved


def use_as_reference(results: list[Any] | None, selected: int | None, references: list[Any] | None):
    chosen = _paths(results)
    if not chosen:
        raise gr.Error("Generate an image first.", title="Nothing to send")
    pick = chosen[selected if selected is not None and selected < len(chosen) else 0]
    current = _paths(references)
    if len(current) >= 4:
        raise gr.Error("Edit already has 4 reference images; remove one first.", title="Too many references")
    gr.Info(f"Sent to Edit as image {len(current) + 1}.")
    return label_references([*current, pick]), gr.Tabs(selected="edit")


def reuse_seed(used: float | None) -> tuple[Any, Any]:
    if used is None:
        raise gr.Error("Run once first: the seed used is shown after a run.", title="No seed yet")
    return int(used), False


def randomize_changed(randomize: bool, current: float | None, used: float | None) -> Any:
    if randomize:
        return gr.update(value=RANDOM_SEED, interactive=False)
    start = used if used is not None else (current if current not in (None, RANDOM_SEED) else 0)
    return gr.update(value=int(start), interactive=True)


def selected_index(evt: gr.SelectData) -> int:
    return evt.index


# ---------------------------------------------------------------------------------------------
# Layout

PRIVATE = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
RUN = {"concurrency_limit": CONCURRENCY, "concurrency_id": "generation"}
CSS = "#app-container {max-width: 1280px; margin: 0 auto} .count {font-size: 0.85em; opacity: 0.8}"


def _prompt(mode: Mode, placeholder: str) -> tuple[gr.Textbox, gr.Markdown]:
    limit = LIMITS[mode].prompt_max
    box = gr.Textbox(label="Prompt", placeholder=placeholder, lines=3, max_lines=12, elem_id=f"{mode}-prompt")
    count = gr.Markdown(char_count("", limit), elem_classes="count", elem_id=f"{mode}-count")
    box.input(lambda text: char_count(text, limit), box, count, trigger_mode="always_last", **PRIVATE)
    return box, count


def _negative(mode: Mode) -> gr.Textbox:
    limit = LIMITS[mode].negative_max
    return gr.Textbox("", label=f"Negative prompt (≤{limit} characters)", placeholder="what to avoid", max_lines=4)


def _size_controls(mode: Mode, width: int, height: int, visible: bool = True):
    sides = side_range(LIMITS[mode])
    with gr.Group(visible=visible) as group:
        preset = gr.Dropdown(preset_choices(mode), value=None, label="Recommended sizes", allow_custom_value=False)
        with gr.Row():
            w = gr.Slider(sides.low, sides.high, value=width, step=16, label="Width", elem_id=f"{mode}-width")
            h = gr.Slider(sides.low, sides.high, value=height, step=16, label="Height", elem_id=f"{mode}-height")
        verdict = gr.Markdown(size_check(mode, width, height), elem_classes="count", elem_id=f"{mode}-size-check")
    preset.change(apply_preset, preset, [w, h], **PRIVATE)
    for slider in (w, h):
        slider.change(lambda a, b: size_check(mode, a, b), [w, h], verdict, trigger_mode="always_last", **PRIVATE)
    return group, w, h


def _seed_controls(mode: Mode):
    with gr.Row():
        randomize = gr.Checkbox(value=True, label="Random seed", scale=1, elem_id=f"{mode}-random-seed")
        seed = gr.Number(
            elem_id=f"{mode}-seed",
            value=RANDOM_SEED,
            label="Seed (-1 = random)",
            precision=0,
            minimum=RANDOM_SEED,
            maximum=LIMITS[mode].seed.high if LIMITS[mode].seed else 0,
            interactive=False,
            scale=2,
        )
    return randomize, seed


def _results(mode: Mode):
    gallery = gr.Gallery(
        label="Results",
        elem_id=f"{mode}-results",
        format="png",
        type="filepath",
        columns=2,
        height=520,
        object_fit="contain",
        buttons=["download", "download_all", "fullscreen"],
        interactive=False,
        preview=False,
    )
    details = gr.Markdown(label="Run details", elem_id=f"{mode}-details")
    with gr.Row():
        used_seed = gr.Number(
            label="Seed used",
            placeholder="shown after a run",
            precision=0,
            interactive=False,
            scale=2,
            elem_id=f"{mode}-seed-used",
        )
        reuse = gr.Button("♻️ Reuse this seed", size="sm", scale=1, elem_id=f"{mode}-reuse-seed")
        to_edit = gr.Button("↗️ Use as reference in Edit", size="sm", scale=1, elem_id=f"{mode}-to-edit")
    return gallery, details, used_seed, reuse, to_edit


def _advanced(mode: Mode):
    with gr.Accordion("Advanced", open=False):
        randomize, seed = _seed_controls(mode)
        extend = gr.Checkbox(
            value=True,
            label="Prompt rewriting (prompt_extend)",
            visible=LIMITS[mode].prompt_extend,
            info="The provider rewrites your prompt for detail; turn off to send it as written.",
        )
        watermark = gr.Checkbox(value=False, label="Watermark", info="Adds an 'AI generated' mark.")
        use_task = gr.Checkbox(
            value=False,
            label="Run as a task (submit, then poll)",
            info="Shows the task status while waiting and survives a dropped connection.",
        )
    task_state = gr.State(False)
    use_task.change(lambda value: value, use_task, task_state, **PRIVATE)
    return randomize, seed, extend, watermark, task_state


def _wire_seed(randomize, seed, used_seed, reuse) -> None:
    randomize.change(randomize_changed, [randomize, seed, used_seed], seed, **PRIVATE)
    reuse.click(reuse_seed, used_seed, [seed, randomize], **PRIVATE)


def _endpoint(run, prompt, fn, inputs, outputs, build, names, **options: Any):
    """A public API endpoint named after `fn`, started by the button or Enter, validated first."""
    return gr.on(
        [run.click, prompt.submit],
        fn,
        inputs,
        outputs,
        api_name=fn.__name__,
        validator=_validator(build, names),
        **RUN,
        **options,
    )


def _run_buttons(mode: Mode):
    with gr.Row():
        run = gr.Button("Generate", variant="primary", scale=3, elem_id=f"{mode}-run")
        stop = gr.Button("Stop", variant="stop", scale=1, elem_id=f"{mode}-stop")
    return run, stop


with gr.Blocks(title="Wan 2.6 Image Studio", delete_cache=(3600, 86400)) as demo:
    session_key = gr.State(None)
    with gr.Column(elem_id="app-container"):
        gr.Markdown(
            f"# 🎨 Wan 2.6 Image Studio\nText to image, editing with up to four references, and interleaved "
            f"text + images with Alibaba's Wan 2.6 via {ADAPTER.title}. Images are saved as the provider's PNGs."
        )
        key_banner = gr.Markdown(no_key_help(), visible=not server_has_key(), elem_id="no-key-help")
        with gr.Accordion("Your API key", open=not server_has_key()):
            key_state_text = gr.Markdown(key_status(None), elem_id="key-status")
            with gr.Row():
                key_box = gr.Textbox(
                    elem_id="own-key",
                    type="password",
                    value="",
                    show_label=False,
                    scale=4,
                    max_lines=1,
                    placeholder="sk-… your own key: used for this browser session only, never stored",
                )
                use_key = gr.Button("Use my key", scale=1, elem_id="use-key")
                forget_key = gr.Button("Forget", scale=1)
        key_outputs = [session_key, key_box, key_state_text, key_banner]
        for trigger in (key_box.submit, use_key.click):
            trigger(set_session_key, key_box, key_outputs, **PRIVATE)
        forget_key.click(forget_session_key, None, key_outputs, **PRIVATE)
        # Decided per page load, so the banner follows the server's configuration as it is now.
        demo.load(
            lambda key: (key_status(key), gr.update(visible=not (key or server_has_key()))),
            session_key,
            [key_state_text, key_banner],
            **PRIVATE,
        )

        with gr.Tabs() as tabs:
            with gr.Tab("Text to image", id="t2i"), gr.Row():
                with gr.Column(scale=1, min_width=320):
                    t_prompt, _ = _prompt(Mode.TEXT_TO_IMAGE, "A lighthouse at dawn, watercolour, soft light")
                    t_negative = _negative(Mode.TEXT_TO_IMAGE)
                    _, t_width, t_height = _size_controls(Mode.TEXT_TO_IMAGE, 1280, 1280)
                    t_n = gr.Slider(1, LIMITS[Mode.TEXT_TO_IMAGE].n.high, value=1, step=1, label="Images per run")
                    t_random, t_seed, t_extend, t_mark, t_task = _advanced(Mode.TEXT_TO_IMAGE)
                    t_run, t_stop = _run_buttons(Mode.TEXT_TO_IMAGE)
                with gr.Column(scale=1, min_width=320):
                    t_gallery, t_details, t_used, t_reuse, t_to_edit = _results(Mode.TEXT_TO_IMAGE)

            with gr.Tab("Edit", id="edit"), gr.Row():
                with gr.Column(scale=1, min_width=320):
                    gr.Markdown(
                        "**Reference images (1–4).** Their order matters: the prompt refers to them as "
                        "*image 1*, *image 2*, … e.g. “Put the hat from image 2 on the cat in image 1”. "
                        "Click an image, then move it earlier or later."
                    )
                    e_refs = gr.Gallery(
                        elem_id="edit-references",
                        label="References: image 1 … image 4",
                        type="filepath",
                        interactive=True,
                        sources=["upload", "clipboard"],
                        file_types=["image"],
                        columns=4,
                        height=240,
                        object_fit="contain",
                        format="png",
                    )
                    with gr.Row():
                        e_earlier = gr.Button("◀ Move earlier", size="sm")
                        e_later = gr.Button("Move later ▶", size="sm")
                    e_prompt, _ = _prompt(Mode.EDIT, "Image 1 as a pencil sketch")
                    e_negative = _negative(Mode.EDIT)
                    e_tier = gr.Radio(
                        ["1K", "2K", "Custom"],
                        value="1K",
                        label="Size",
                        info="1K ≈ 1280×1280 and 2K ≈ 2048×2048, shaped like the last reference.",
                    )
                    e_group, e_width, e_height = _size_controls(Mode.EDIT, 1280, 1280, visible=False)
                    e_size = gr.Textbox(value="1K", label="Size sent", interactive=False, max_lines=1)
                    e_n = gr.Slider(1, LIMITS[Mode.EDIT].n.high, value=1, step=1, label="Images per run")
                    e_random, e_seed, e_extend, e_mark, e_task = _advanced(Mode.EDIT)
                    e_run, e_stop = _run_buttons(Mode.EDIT)
                with gr.Column(scale=1, min_width=320):
                    e_gallery, e_details, e_used, e_reuse, e_to_edit = _results(Mode.EDIT)

            with gr.Tab("Interleaved", id="interleave"), gr.Row():
                with gr.Column(scale=1, min_width=320):
                    i_prompt, _ = _prompt(Mode.INTERLEAVE, "A three-step tutorial for tomato and egg stir-fry")
                    i_image = gr.Image(
                        label="Input image (optional)", type="filepath", sources=["upload", "clipboard"], format="png"
                    )
                    i_negative = _negative(Mode.INTERLEAVE)
                    i_follow = gr.Checkbox(value=True, label="Size follows the input image")
                    i_group, i_slide_w, i_slide_h = _size_controls(Mode.INTERLEAVE, 1280, 1280, visible=False)
                    i_width = gr.Number(value=0, visible=False, precision=0)
                    i_height = gr.Number(value=0, visible=False, precision=0)
                    i_max = gr.Slider(
                        1,
                        LIMITS[Mode.INTERLEAVE].max_images.high,
                        value=3,
                        step=1,
                        label="At most this many images",
                        info="The model may make fewer.",
                    )
                    i_random, i_seed, _, i_mark, i_task = _advanced(Mode.INTERLEAVE)
                    i_run, i_stop = _run_buttons(Mode.INTERLEAVE)
                with gr.Column(scale=1, min_width=320):
                    i_chat = gr.Chatbot(
                        elem_id="interleave-chat",
                        label="Interleaved output",
                        height=620,
                        buttons=["copy_all"],
                        allow_file_downloads=True,
                    )
                    i_details = gr.Markdown(label="Run details", elem_id="interleave-details")
                    i_used = gr.Number(
                        label="Seed used", placeholder="shown after a run", precision=0, interactive=False
                    )

    # Edit: references keep their order labels; the size sent is always 1K, 2K or W×H.
    e_selected = gr.State(None)
    e_refs.upload(label_references, e_refs, e_refs, **PRIVATE)
    e_refs.delete(label_references, e_refs, e_refs, **PRIVATE)
    e_refs.select(selected_index, None, e_selected, **PRIVATE)
    e_earlier.click(lambda g, s: move_reference(g, s, -1), [e_refs, e_selected], [e_refs, e_selected], **PRIVATE)
    e_later.click(lambda g, s: move_reference(g, s, +1), [e_refs, e_selected], [e_refs, e_selected], **PRIVATE)
    e_tier.change(lambda tier: gr.update(visible=tier == "Custom"), e_tier, e_group, **PRIVATE)
    for control in (e_tier, e_width, e_height):
        control.change(edit_size_value, [e_tier, e_width, e_height], e_size, **PRIVATE)

    # Interleave: width/height 0 means "follow the input image".
    def _interleave_size(follow: bool, width: float, height: float) -> tuple[int, int]:
        return (0, 0) if follow else (int(width), int(height))

    i_follow.change(lambda follow: gr.update(visible=not follow), i_follow, i_group, **PRIVATE)
    for control in (i_follow, i_slide_w, i_slide_h):
        control.change(_interleave_size, [i_follow, i_slide_w, i_slide_h], [i_width, i_height], **PRIVATE)

    # The three public endpoints.
    t_inputs = [t_prompt, t_negative, t_width, t_height, t_n, t_seed, t_extend, t_mark, session_key, t_task]
    t_event = _endpoint(
        t_run, t_prompt, text_to_image, t_inputs, [t_gallery, t_details, t_used], t2i_request, T2I_INPUTS
    )
    e_inputs = [e_prompt, e_refs, e_negative, e_size, e_n, e_seed, e_extend, e_mark, session_key, e_task]
    e_event = _endpoint(e_run, e_prompt, edit, e_inputs, [e_gallery, e_details, e_used], edit_request, EDIT_INPUTS)
    i_inputs = [i_prompt, i_image, i_negative, i_width, i_height, i_max, i_seed, i_mark, session_key, i_task]
    i_outputs = [i_chat, i_details, i_used]
    i_event = _endpoint(
        i_run, i_prompt, interleave, i_inputs, i_outputs, interleave_request, INTERLEAVE_INPUTS, show_progress="minimal"
    )

    for stop, event in ((t_stop, t_event), (e_stop, e_event), (i_stop, i_event)):
        stop.click(None, None, None, cancels=[event], api_visibility="private")
    for randomize, seed, used, reuse in ((t_random, t_seed, t_used, t_reuse), (e_random, e_seed, e_used, e_reuse)):
        _wire_seed(randomize, seed, used, reuse)
    i_random.change(randomize_changed, [i_random, i_seed, i_used], i_seed, **PRIVATE)
    t_selected, e_result_selected = gr.State(None), gr.State(None)
    for gallery, selected, button in ((t_gallery, t_selected, t_to_edit), (e_gallery, e_result_selected, e_to_edit)):
        gallery.select(selected_index, None, selected, **PRIVATE)
        button.click(use_as_reference, [gallery, selected, e_refs], [e_refs, tabs], **PRIVATE)

demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)


def launch(**options: Any):
    """Start the app; honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860)."""
    output_dir = default_output_dir(os.environ).resolve()
    return demo.launch(
        theme=gr.themes.Soft(), css=CSS, allowed_paths=[str(output_dir)], max_file_size="50mb", **options
    )


if __name__ == "__main__":
    launch()
