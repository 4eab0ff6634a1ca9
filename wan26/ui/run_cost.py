"""What Gradio spends on every run that this app does not use, cut.

- Traffic monitoring. Gradio 6.31 serves `/gradio_api/monitoring/summary` to anyone by default
  (`enable_monitoring=None` means on): every function's request count, success rate and run times,
  which on a public Space tells a stranger how much everyone else uses it. To keep that summary
  current, its queue builds a pandas DataFrame of the last 10,000 events after every event, whether
  or not anyone asks: 1.5 ms of CPU per run on a fresh server, 8 ms once 10,000 runs have gone by.
  https://github.com/gradio-app/gradio/blob/gradio%406.31.0/gradio/queueing.py (compute_analytics_summary)
  https://www.gradio.app/docs/gradio/blocks#blocks-launch (enable_monitoring)
- A search for matplotlib. Around every call of a function (and of its validator) Gradio imports
  matplotlib to switch its backend, and ignores the ImportError when it is not installed; a failed
  import searches every folder of `sys.path` again each time, about 0.4 ms per call here. The page
  has no plots, so when matplotlib is not installed its absence is recorded once, as Python allows:
  a `None` in `sys.modules` makes `import matplotlib` raise ImportError at once.
  https://github.com/gradio-app/gradio/blob/gradio%406.31.0/gradio/utils.py (MatplotlibBackendMananger)
  https://docs.python.org/3/reference/import.html#the-module-cache
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import gradio as gr

# The queue recomputes its summary once this many events have ended since the last time (sic:
# Gradio's own spelling; read from GRADIO_ANALYTICS_CACHE_FREQUENCY when the queue is made).
_FREQUENCY_ATTRIBUTE = "ANAYLTICS_CACHE_FREQUENCY"


def monitoring_options(blocks: gr.Blocks, options: dict[str, Any]) -> dict[str, Any]:
    """`launch` options with monitoring off unless asked for; when off, the queue no longer builds
    a summary that nothing reads."""
    chosen = {"enable_monitoring": False} | options
    if chosen["enable_monitoring"] is False:  # None is Gradio's default: on
        queue = getattr(blocks, "_queue", None)
        if queue is not None and hasattr(queue, _FREQUENCY_ATTRIBUTE):
            setattr(queue, _FREQUENCY_ATTRIBUTE, sys.maxsize)
    return chosen


def skip_matplotlib_search() -> bool:
    """Record once that matplotlib is not installed; False, and nothing changed, when it is."""
    if "matplotlib" in sys.modules or importlib.util.find_spec("matplotlib") is not None:
        return False
    sys.modules["matplotlib"] = None  # type: ignore[assignment]
    return True
