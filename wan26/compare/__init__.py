"""Compare: one request sent to several vendors at once, each result with its vendor, time, seed and cost.

    plan = plan_compare(ImageRequest(Mode.TEXT_TO_IMAGE, "a red fox"), ["dashscope", "runware"])
    comparison = await run_compare(plan, lambda name, request: clients[name].events(request))

`plan_compare` adapts the request to each vendor from its limits (`wan26.compare.plan`) and refuses,
before anything is sent, a request no chosen vendor can take; `compare_events` / `run_compare` run
the vendors at once (`wan26.compare.run`); `write_record` keeps the comparison as compare.json.
"""

from wan26.compare.plan import Adjustment, Change, ComparePlan, NoVendorCanTake, VendorPlan, plan_compare
from wan26.compare.record import comparison_json, write_record
from wan26.compare.run import (
    CompareEvent,
    Comparison,
    Cost,
    Status,
    VendorEnded,
    VendorEvent,
    VendorOutcome,
    VendorRun,
    compare_events,
    run_compare,
)

__all__ = [
    "Adjustment",
    "Change",
    "CompareEvent",
    "ComparePlan",
    "Comparison",
    "Cost",
    "NoVendorCanTake",
    "Status",
    "VendorEnded",
    "VendorEvent",
    "VendorOutcome",
    "VendorPlan",
    "VendorRun",
    "compare_events",
    "comparison_json",
    "plan_compare",
    "run_compare",
    "write_record",
]
