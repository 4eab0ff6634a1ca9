"""The checks shown beside the form (counts, size verdicts, prices, Generate on or off), redone in one
event after a vendor or model change.

Gradio's page pays for every server event, whatever its size: when one starts and when it ends, it
refreshes the progress state of every control any event has had as an output, finding each by a walk
of the whole page (`update_loading_stati_state` in Gradio 6.31's frontend). On this page that took
about 75 ms each time in headless Chromium on the project's 2-core machine. Run as thirteen events,
the checks left Generate off until 5.2-5.4 s after "Use my key" was clicked; as one, 3.4-3.8 s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr


@dataclass(frozen=True)
class Recheck:
    """`check(*values of inputs, request)` gives the update of `outputs` (one, or a list for several)."""

    check: Callable[..., Any]
    inputs: Sequence[Any]
    outputs: Any


def combined(rechecks: Sequence[Recheck]) -> tuple[Callable[..., list[Any]], list[Any], list[Any]]:
    """One handler doing every recheck, its inputs (each control once, in order) and its outputs.
    (A check that raised would now lose the updates of them all, where before it lost its own.)"""
    inputs = list(dict.fromkeys(control for recheck in rechecks for control in recheck.inputs))
    outputs = [output for recheck in rechecks for output in _listed(recheck.outputs)]
    positions = [[inputs.index(control) for control in recheck.inputs] for recheck in rechecks]

    def rechecked(request: gr.Request, *values: Any) -> list[Any]:
        updates: list[Any] = []
        for recheck, where in zip(rechecks, positions, strict=True):
            found = recheck.check(*(values[index] for index in where), request)
            updates += found if isinstance(recheck.outputs, list) else [found]
        return updates

    return rechecked, inputs, outputs


def _listed(outputs: Any) -> list[Any]:
    return outputs if isinstance(outputs, list) else [outputs]
