"""Wan 2.6 Image Studio: text to image, editing with 1–4 references, and interleaved text + images.

Run `python app.py` and open http://127.0.0.1:7860. The interface is built in `wan26/ui/` and all
generation goes through the `wan26` package; this file only composes and launches. Keys: the
server's come from the environment / `.env` and never reach the browser; a visitor's own key lives
in server-side session state only.
"""

import os
from typing import Any

from dotenv import find_dotenv, load_dotenv

from wan26.errors import ConfigError
from wan26.ui import build_app

load_dotenv(find_dotenv(usecwd=True))  # before the app reads the environment

try:
    studio = build_app(os.environ)
except ConfigError as error:
    raise SystemExit(f"app.py: {error}") from None
demo = studio.blocks


def launch(**options: Any) -> Any:
    try:
        return studio.launch(**options)
    except ConfigError as error:
        raise SystemExit(f"app.py: {error}") from None


if __name__ == "__main__":
    launch()
