"""The studio's web interface (Gradio), built by `build_app(env)`; `app.py` only launches it.

One module per concern: `settings` (what the environment configures), `vendors` (which vendors a
visitor can use), `texts` (the words the page shows), `i18n` (those words in English and Chinese,
and which one a visitor reads), `inputs` (requests from what the endpoints receive), `validation`,
`keys`, `spending` (the owner's key guard), `shown` (files handed to Gradio), `stopped` (tasks left
running by Stop), `runs` (the three endpoints), `actions` (small private handlers), `controls` (the
form's building blocks), `form_examples` (the clickable examples that fill a form; the Edit ones'
images are in `examples/`), `before_after` (the Edit tab's reference-against-result slider),
Edit's box drawing: `box_marks` (clicks as lines of the typed field), `box_picture` (the reference
shown upright, small, its boxes drawn) and `box_drawing` (its section and handlers),
`page` (the layout and its wiring), and History's: `owned` (the runs a visitor owns),
`history_text` (its words), `history_reuse` (a run's settings for its form) and `history_tab` (its
layout and handlers); and Batch's: `batch_upload` (the jobs file and the images uploaded with it),
`batch_keys` (whose key pays, and the owner's limits per row), `batch_folder` (a batch's folder and
zip), `batch_live` (batches running), `batch_view` (what the page shows of one), `batch_text` (its
words) and `batch_tab` (its layout and handlers).
`import wan26` never imports this package, nor gradio.
"""

from wan26.ui.page import StudioApp, build_app

__all__ = ["StudioApp", "build_app"]
