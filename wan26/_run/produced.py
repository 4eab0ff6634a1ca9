"""What a flow passes on: what the vendor said (`Progress`) and what it produced (`Produced`)."""

from __future__ import annotations

from dataclasses import dataclass

from wan26.providers._base import ProviderOutput
from wan26.types import Progress


@dataclass(frozen=True, slots=True)
class Produced:
    """Output from the vendor. `part`: one part of the run's (a stream chunk, one of n calls), added
    to what came before; else the run's whole output so far. `first_index`: its images' file numbers.
    `last`: the flow produces nothing after this (it ends, or raises the error that came with it)."""

    output: ProviderOutput
    part: bool = False
    first_index: int | None = None
    last: bool = False


VendorEvent = Progress | Produced
