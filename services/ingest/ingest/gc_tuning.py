"""The garbage collector tuned for a process that answers webhooks at the inbound rate.

Measured (issue 17, wrk at ~1,000 webhooks/s): CPython's cyclic collector took ~100 µs per
webhook, a fifth of ingest's CPU. A webhook waits for its claim group (tens of ms under load), so
what it allocates outlives a young collection or two and is promoted; the old generation then
fills and is scanned whole, ~175,000 objects of which nearly all are the modules, routes, models
and pools made at startup and alive until exit. So, once started: those startup objects are
frozen (kept out of every later collection: they are never garbage), and the young generation is
collected every 10,000 net allocations instead of 700, so a webhook's objects are mostly freed by
reference counting before a collection sees them. Cycles are still collected, just less often."""

import gc

YOUNG_THRESHOLD = 10_000


async def freeze_startup_objects() -> None:
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
