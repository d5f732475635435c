"""The garbage collector's pauses, timed for the event-loop watchdog."""

from __future__ import annotations

import gc

from voice_agent.agent.gc_watch import GcWatch, freeze_start_up_heap
from voice_agent.clock import FakeClock


def test_a_full_collection_is_timed_while_installed() -> None:
    watch = GcWatch()
    watch.install()
    try:
        gc.collect()
    finally:
        watch.remove()
    assert watch._on_gc not in gc.callbacks
    assert watch.collections[2] >= 1
    assert [pause for pause in watch.during(0.0, float("inf"), least_ms=0) if pause.generation == 2]
    seen = list(watch.collections)
    gc.collect()
    assert watch.collections == seen  # removed: not seen


def test_only_the_pauses_that_overlap_a_span_are_given() -> None:
    watch = GcWatch(FakeClock().now)
    watch.collected(0, 1.0, 1.0005)  # too short to name
    watch.collected(1, 2.0, 2.01)
    watch.collected(2, 3.0, 3.25)
    assert [p.generation for p in watch.during(2.005, 3.1)] == [1, 2]
    assert [p.generation for p in watch.during(3.3, 4.0)] == []
    assert watch.longest_ms[2] == 250.0
    assert watch.summary() == (
        "gen 0: 1 (longest 0 ms), gen 1: 1 (longest 10 ms), gen 2: 1 (longest 250 ms)"
    )


def test_the_callback_pairs_a_start_with_its_stop() -> None:
    clock = FakeClock()
    watch = GcWatch(clock.now)
    watch._on_gc("stop", {"generation": 1})  # installed mid-collection: nothing to pair
    watch._on_gc("start", {"generation": 1})
    clock.advance(0.02)
    watch._on_gc("stop", {"generation": 1, "collected": 0, "uncollectable": 0})
    [pause] = watch.during(0.0, 1.0)
    assert (pause.generation, pause.started, pause.ms) == (1, 0.0, 20.0)


def test_the_start_up_heap_is_frozen_out_of_the_collectors_walks() -> None:
    kept = [{"loaded": index} for index in range(1000)]
    try:
        frozen = freeze_start_up_heap()
        assert frozen == gc.get_freeze_count()
        assert frozen >= len(kept)
        assert all(walked is not kept[0] for walked in gc.get_objects())  # not walked
    finally:
        gc.unfreeze()
