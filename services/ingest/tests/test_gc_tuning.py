"""ingest's collector tuning (ingest/gc_tuning.py): startup objects frozen out of collections,
the young generation collected less often; a cycle made afterwards is still collected."""

import gc
import weakref

from ingest.gc_tuning import YOUNG_THRESHOLD, freeze_startup_objects


async def test_startup_objects_are_frozen_and_later_cycles_still_collected():
    before = gc.get_threshold()
    try:
        await freeze_startup_objects()
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD

        class Node:
            pass

        node = Node()
        node.itself = node
        alive = weakref.ref(node)
        del node
        gc.collect()
        assert alive() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
