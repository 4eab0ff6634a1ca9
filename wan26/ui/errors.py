"""Errors as a person sees them: a title, the provider's code, a hint, the request id; never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from wan26.errors import InvalidRequest, ProviderError, Wan26Error
from wan26.guard import LimitReached
from wan26.providers import Adapter
from wan26.types import ImageRequest
from wan26.ui.vendors import Vendors

CHECK_INPUTS = "Please check the inputs"


def ui_error(error: Wan26Error) -> gr.Error:
    """The error a person sees; `str(error)` carries the code, hint, request id and unsaved URLs."""
    if isinstance(error, ProviderError):
        title = error.title
    elif isinstance(error, InvalidRequest):
        title = CHECK_INPUTS
    elif isinstance(error, LimitReached):
        title = "The server's key has reached its limit"
    else:
        title = "Setup needed"
    # Gradio 6.31's pop-up heads every error "Error" whatever the title given: the message opens with it.
    message = str(error) if str(error).startswith(title) else f"{title}. {error}"
    return gr.Error(message, title=title, duration=None, print_exception=False)


def unexpected_error(error: Exception) -> gr.Error:
    """A fault of ours: one plain sentence, never a traceback (the server log has that)."""
    return gr.Error(
        f"Unexpected error: something went wrong on the server ({type(error).__name__}). A request already "
        "sent may still finish and be billed; run details above list any image not yet saved.",
        title="Unexpected error",
        duration=None,
        print_exception=True,
    )


def checked(build: Callable[..., ImageRequest], *values: Any) -> ImageRequest:
    """The request, or its refusal as the page shows one. (The validator has refused it already,
    except on Gradio's /run route, which skips validators.)"""
    try:
        return build(*values)
    except InvalidRequest as refused:
        raise ui_error(refused) from refused


def adapter_named(vendors: Vendors, name: object) -> Adapter:
    """The vendor an input names (empty: the server's default), or an error naming the ones we have."""
    try:
        return vendors.adapter(name)
    except Wan26Error as error:
        raise gr.Error(str(error), title=CHECK_INPUTS) from error
