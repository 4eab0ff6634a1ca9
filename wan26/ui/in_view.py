"""A run's results brought into view on a phone, where they sit below the whole form.

On a narrow screen Gradio stacks a tab's two columns, so the results, the run's one progress
indicator (on them) and its details are a screen or two below Generate: a visitor who taps it sees
nothing happen. Once the run has begun (its first update has arrived) the page scrolls to the
results, unless they are already in the upper half of the screen. Only where the columns stack: on
a wider screen the page never moves (Compare's results are under its form there too, and its only
Stop must stay in view).

A run refused before it is queued has not begun: its message, next to its control, stays where the
visitor is. That is why neither the indicator showing (Gradio shows it while the validator checks
a run) nor Gradio's own `scroll_to_output` (which scrolls then too, and on wide screens) will do.
A run has begun when its details change, or when Gradio marks the indicator as generating (a run's
first step can read as the details a failed run left). In the browser only: no trip to the server.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

# Below 768 px Gradio's page is at most 640 px wide (its core CSS: 640 px from a 640 px screen, 768 px
# from 768 px), too narrow for a tab's two columns of at least 320 px each, which then stack.
STACKED_MAX_PX = 767
LOOK_EVERY_MS = 100
# Until the indicator is up after a click (a moment); after that, looking goes on while it shows.
STARTING_MS = 2000
LOOK_FOR_MS = 60_000  # a run that waited longer than this in line is left where the visitor has got to
# Gradio's indicator on a run's results while the run waits in line, is checked or runs (hidden once it
# has ended; a failed run's keeps showing, with an `.error` inside). Also read by Stop (`stop_note`).
SHOWN_INDICATOR = "[data-testid=status-tracker]:not(.hide)"


def results_into_view(triggers: list[Any], results: gr.components.Component, details: gr.Markdown) -> None:
    """When any of `triggers` starts a run on a screen where the columns stack, bring `results` into
    view once the run has begun.

    Register it before the run's own event on the same triggers: Gradio's page starts a trigger's
    events in the order they were added, and this one must read the details before the run changes them."""
    if results.elem_id is None or details.elem_id is None:
        raise ValueError("the results and the details need an elem_id to be found in the page")
    gr.on(triggers, None, None, None, js=_js(results.elem_id, details.elem_id), api_visibility="private", queue=False)


def _js(results_id: str, details_id: str) -> str:
    return f"""() => {{
  const results = document.getElementById({json.dumps(results_id)});
  const details = document.getElementById({json.dumps(details_id)});
  if (!results || !details || !window.matchMedia('(max-width: {STACKED_MAX_PX}px)').matches) return;
  const before = details.textContent, started = Date.now();
  const tracker = () => results.querySelector({json.dumps(SHOWN_INDICATOR)});
  const look = () => {{
    const shown = tracker();
    if (details.textContent !== before || shown?.classList.contains('generating')) {{
      if (results.getBoundingClientRect().top > window.innerHeight / 2) results.scrollIntoView({{behavior: 'smooth'}});
      return;
    }}
    const waiting = shown && !shown.querySelector('.error');  // queued or being checked, not failed
    const waited = Date.now() - started;
    if (waited < {STARTING_MS} || (waiting && waited < {LOOK_FOR_MS})) setTimeout(look, {LOOK_EVERY_MS});
  }};
  setTimeout(look, {LOOK_EVERY_MS});
}}"""
