import asyncio

from voice_agent.agent.limits import CallLimiter


def test_slots_up_to_the_limit_then_busy_until_released() -> None:
    limiter = CallLimiter(2)
    first = limiter.try_acquire("webrtc")
    second = limiter.try_acquire("sip")
    assert first is not None and second is not None
    assert limiter.try_acquire("webrtc") is None
    with first:
        pass
    assert limiter.active == 1
    first.release()  # releasing twice frees one slot only
    assert limiter.active == 1
    assert limiter.try_acquire("webrtc") is not None


def test_each_refusal_is_reported_with_its_transport() -> None:
    refused: list[str] = []
    limiter = CallLimiter(1, on_busy=refused.append)
    held = limiter.try_acquire("sip")
    assert held is not None
    assert limiter.try_acquire("sip") is None
    assert limiter.try_acquire("webrtc") is None
    held.release()
    assert limiter.try_acquire("webrtc") is not None
    assert refused == ["sip", "webrtc"]


def test_accepting_until_full_and_the_load_is_the_share_of_lines_in_use() -> None:
    limiter = CallLimiter(4)
    slots = [limiter.try_acquire("sip") for _ in range(3)]
    assert limiter.accepting and limiter.load == 0.75
    slots.append(limiter.try_acquire("webrtc"))
    assert not limiter.accepting and limiter.load == 1.0
    assert limiter.refusal_reason() == "all 4 lines are busy"
    for slot in slots:
        assert slot is not None
        slot.release()
    assert limiter.accepting and limiter.load == 0.0


def test_draining_refuses_new_calls_uncounted_as_busy_while_held_ones_go_on() -> None:
    refused: list[str] = []
    limiter = CallLimiter(2, on_busy=refused.append, retry_after_s=12)
    held = limiter.try_acquire("sip")
    assert held is not None
    limiter.drain()
    assert limiter.draining and not limiter.accepting
    assert limiter.try_acquire("webrtc") is None
    assert limiter.refusal_reason() == "this instance is shutting down"
    assert refused == []  # not busy: the metrics count busy refusals only
    assert limiter.active == 1 and limiter.retry_after_s == 12
    held.release()
    assert not limiter.accepting  # still draining with every line free


def test_idle_waits_for_the_last_line_to_be_released() -> None:
    async def scenario() -> None:
        limiter = CallLimiter(2)
        await asyncio.wait_for(limiter.idle(), 1)  # nothing held: at once
        first, second = limiter.try_acquire("sip"), limiter.try_acquire("sip")
        assert first is not None and second is not None
        waiting = asyncio.create_task(limiter.idle())
        first.release()
        await asyncio.sleep(0.01)
        assert not waiting.done()
        second.release()
        await asyncio.wait_for(waiting, 1)

    asyncio.run(scenario())
