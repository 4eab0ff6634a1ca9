"""A run's results brought into view on a phone, where they sit below the whole form.

On a narrow screen Gradio stacks a tab's two columns, so the results, the run's one progress
indicator (on them) and its details are a screen or two below Generate: a visitor who taps it sees
nothing happen. Once the run has begun, its first step shown in the details, the page scrolls to the
results, unless they are already in the upper half of the screen (as beside the form on a wide one).
A run refused before it is queued never changes the details (Gradio shows the progress indicator
while it checks, so that is no sign): its message, next to its control, stays where the visitor is.
In the browser only: no trip to the server.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

LOOK_EVERY_MS = 100
CHECKING_MS = 2000  # the refusal of a run comes back within this; a run waiting in line keeps its indicator
LOOK_FOR_MS = 60_000  # a run that waited longer than this in line is left where the visitor has got to


def results_into_view(triggers: list[Any], results: gr.components.Component, details: gr.Markdown) -> None:
    """When any of `triggers` starts a run, bring `results` into view once `details` shows its first step."""
    js = _js(str(results.elem_id), str(details.elem_id))
    gr.on(triggers, None, None, None, js=js, api_visibility="private", queue=False)


def _js(results_id: str, details_id: str) -> str:
    return f"""() => {{
  const results = document.getElementById({results_id!r}), details = document.getElementById({details_id!r});
  if (!results || !details) return;
  const before = details.innerText, clicked = Date.now();
  const look = () => {{
    if (details.innerText !== before) {{
      if (results.getBoundingClientRect().top > window.innerHeight / 2) results.scrollIntoView({{behavior: 'smooth'}});
      return;
    }}
    const waited = Date.now() - clicked;
    const pending = results.querySelector('[data-testid=status-tracker]:not(.hide)');
    if (waited < {CHECKING_MS} || (pending && waited < {LOOK_FOR_MS})) setTimeout(look, {LOOK_EVERY_MS});
  }};
  setTimeout(look, {LOOK_EVERY_MS});
}}"""
