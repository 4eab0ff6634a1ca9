"""Errors as a person sees them: a title, the provider's code, a hint, the request id; never a traceback.
In the visitor's language: our titles and hints are translated, a vendor's own message and code are not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from wan26.errors import InvalidRequest, ProviderError, Wan26Error
from wan26.guard import LimitReached
from wan26.providers import Adapter
from wan26.types import ImageRequest
from wan26.ui.i18n import Lang, field_label, provider_message, t, translate
from wan26.ui.vendors import Vendors

CHECK_INPUTS = "Please check the inputs"


def ui_error(error: Wan26Error, lang: Lang = Lang.EN) -> gr.Error:
    """The error a person sees; `str(error)` carries the code, hint, request id and unsaved URLs."""
    title = error_title(error, lang)
    text = error_text(error, lang)
    # Gradio 6.31's pop-up heads every error "Error" whatever the title given: the message opens with it.
    message = text if text.startswith(title) else t("error_head", lang, title=title, message=text)
    return gr.Error(message, title=title, duration=None, print_exception=False)


def error_title(error: Wan26Error, lang: Lang) -> str:
    if isinstance(error, ProviderError):
        return translate(error.title, lang)
    if isinstance(error, InvalidRequest):
        return t("title_check_inputs", lang)
    if isinstance(error, LimitReached):
        return t("title_limit", lang)
    return t("title_setup", lang)


def error_text(error: Wan26Error, lang: Lang) -> str:
    """`str(error)` in `lang`: English exactly as the core writes it."""
    if lang is Lang.EN:
        return str(error)
    if isinstance(error, ProviderError):
        return _provider_text(error, lang)
    if isinstance(error, InvalidRequest):
        problems = [
            t("problem", lang, field=field_label(v.field, lang), message=translate(v.message, lang))
            for v in error.violations
        ]
        return "\n".join([t("invalid_request", lang, count=len(problems)), *problems])
    return translate(str(error), lang)


def _provider_text(error: ProviderError, lang: Lang) -> str:
    """ProviderError._render's lines, with our words translated and the vendor's message and code kept."""
    head = t("provider_head", lang, title=translate(error.title, lang), provider=error.provider)
    head += f" [{error.code}]" if error.code else ""
    head += f"（HTTP {error.status_code}）" if error.status_code else ""
    lines = [t("provider_message", lang, head=head, message=provider_message(error.message, lang))]
    if error.hint:
        lines.append(t("hint", lang, hint=translate(error.hint, lang)))
    if error.request_id:
        lines.append(t("request_id", lang, id=error.request_id))
    if error.task_id:
        lines.append(t("task_id", lang, id=error.task_id))
    if error.urls:
        lines.append(t("not_saved_urls", lang, urls="\n".join(f"  {url}" for url in error.urls)))
    return "\n".join(lines)


def unexpected_error(error: Exception, lang: Lang = Lang.EN) -> gr.Error:
    """A fault of ours: one plain sentence, never a traceback (the server log has that)."""
    return gr.Error(
        t("unexpected", lang, kind=type(error).__name__),
        title=t("title_unexpected", lang),
        duration=None,
        print_exception=True,
    )


def checked(build: Callable[..., ImageRequest], *values: Any, lang: Lang = Lang.EN) -> ImageRequest:
    """The request, or its refusal as the page shows one. (The validator has refused it already,
    except on Gradio's /run route, which skips validators.)"""
    try:
        return build(*values)
    except InvalidRequest as refused:
        raise ui_error(refused, lang) from refused


def adapter_named(vendors: Vendors, name: object, lang: Lang = Lang.EN) -> Adapter:
    """The vendor an input names (empty: the server's default), or an error naming the ones we have."""
    try:
        return vendors.adapter(name)
    except Wan26Error as error:
        raise gr.Error(translate(str(error), lang), title=t("title_check_inputs", lang)) from error
