"""What the DashScope fake accepts for Wan 2.7 Image (`wan2.7-image`, `wan2.7-image-pro`).

Same paths and `input.messages` + `parameters` envelope as wan2.6, different rules, from
https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference (ZH-REF) and
https://platform.qianwenai.com/docs/api-reference/image-generation/wan27-image-gen-edit/create-task (QW-OAS);
the rules every vendor shares live in ``wan27_rules``. ``parse_request(body)`` sends a 2.7 body here
and anything else to ``dashscope_rules.parse_job`` (2.6, unchanged).
"""

from __future__ import annotations

from dataclasses import replace

from .dashscope_rules import (
    InputImage,
    Job,
    _input_image,
    _parameters,
    _prompt,
    _single_user_content,
    _split_content,
    _truncate,
    invalid,
    parse_job,
)
from .wan27_rules import (
    DEFAULT_SIZE,
    INPUT_MAX_BYTES,
    MAX_INPUT_IMAGES,
    MODEL_27_PRO,
    MODELS_27,
    N_DEFAULT,
    PROMPT_LIMIT,
    Refused,
    Wan27Options,
    check_bool,
    check_boxes,
    check_input_ratio,
    check_n,
    check_palette,
    check_seed,
    output_size,
)

# Every 2.7 parameter (ZH-REF "parameters" table). [U] The real API presumably ignores unknown keys as
# it does for 2.6; the fake refuses them so that a client's typo or leftover shows up in tests.
PARAMETERS = frozenset(
    {"size", "n", "watermark", "seed", "thinking_mode", "enable_sequential", "color_palette", "bbox_list"}
)
# wan2.6-only keys: "wan2.7-image-pro 和 wan2.7-image 不支持 negative_prompt" (no negative_prompt nor prompt_extend,
# https://platform.qianwenai.com/docs/developer-guides/image-generation/text-to-image); interleave, max_images and
# stream are absent from ZH-REF. What the real API does with them is [U]; the fake refuses them.
ONLY_26 = ("negative_prompt", "prompt_extend", "enable_interleave", "max_images", "stream")


def parse_request(body: object) -> Job:
    """A wan2.7 body by the 2.7 rules, anything else by the 2.6 rules."""
    if isinstance(body, dict) and body.get("model") in MODELS_27:
        return parse_job27(body)
    return parse_job(body)


def parse_job27(body: dict) -> Job:
    """Validate a wan2.7 body; a broken rule is a 400 InvalidParameter like the 2.6 refusals."""
    try:
        return _job27(body)
    except Refused as refused:
        raise invalid(refused.field, refused.detail) from None


def _job27(body: dict) -> Job:
    model, params = body["model"], _parameters(body)
    _check_keys(params)
    sequential = _flag(params, "enable_sequential") or False
    text, image_values = _split_content(_single_user_content(body))  # 1 user message, 1 text, no "type" keys
    images = _images(image_values)
    prompt, truncations = _truncate("text", _prompt(text), PROMPT_LIMIT)  # truncated, not refused (ZH-REF)
    thinking_mode = _flag(params, "thinking_mode")
    if thinking_mode is not None and (images or sequential):  # ZH-REF: only without images and sets [U: refusal]
        raise Refused("thinking_mode", "only applies to text-to-image: no input images and no enable_sequential")
    palette = _palette(params, sequential)
    images, boxes = _boxes(params, images, sequential)
    n = check_n(params["n"], sequential) if "n" in params else N_DEFAULT[sequential]
    options = Wan27Options(sequential, thinking_mode, _flag(params, "watermark"), palette, boxes, params.get("size"))
    size = output_size(
        params.get("size", DEFAULT_SIZE),
        pro=model == MODEL_27_PRO,
        image_count=len(images),
        sequential=sequential,
        last_image=images[-1].size if images else None,
    )
    return Job(
        model=model,
        mode="set" if sequential else "edit" if images else "t2i",
        prompt=prompt,
        negative_prompt=None,
        images=images,
        n=n,
        max_images=0,  # no interleave in 2.7
        size=size,
        seed=check_seed(params["seed"]) if "seed" in params else None,
        truncations=truncations,
        wan27=options,
    )


def _check_keys(params: dict) -> None:
    for name in params:
        if name in ONLY_26:
            raise Refused(name, "is a wan2.6 parameter; wan2.7 models do not support it")
        if name not in PARAMETERS:
            raise Refused(name, f"is not a wan2.7 parameter; expected some of {sorted(PARAMETERS)}")


def _flag(params: dict, name: str) -> bool | None:
    return check_bool(name, params[name]) if name in params else None


def _images(values: list) -> tuple[InputImage, ...]:
    """0-9 images; data URIs decoded: <= 20 MB, sides [240, 8000], ratio 1:8..8:1, no alpha (ZH-REF)."""
    if len(values) > MAX_INPUT_IMAGES:
        raise Refused("image", f"at most {MAX_INPUT_IMAGES} input images, got {len(values)}")
    images = tuple(_input_image(value, INPUT_MAX_BYTES) for value in values)
    for image in images:
        if image.size is not None:
            check_input_ratio(image.size)
    return images


def _palette(params: dict, sequential: bool) -> tuple[tuple[str, str], ...] | None:
    if "color_palette" not in params:
        return None
    if sequential:  # "仅当关闭组图模式时可用" (only with image sets off, ZH-REF) [U: refusal]
        raise Refused("color_palette", "is not available with enable_sequential")
    return check_palette(params["color_palette"])


def _boxes(
    params: dict, images: tuple[InputImage, ...], sequential: bool
) -> tuple[tuple[InputImage, ...], tuple | None]:
    """Each image gets its own boxes (``InputImage.boxes``), so tests can read what the vendor saw."""
    if "bbox_list" not in params:
        return images, None
    if sequential:  # [U] not stated by Alibaba; strict here
        raise Refused("bbox_list", "is not available with enable_sequential")
    boxes = check_boxes(params["bbox_list"], [image.size for image in images])
    return tuple(replace(image, boxes=own) for image, own in zip(images, boxes, strict=True)), boxes
