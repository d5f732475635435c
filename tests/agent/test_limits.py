from voice_agent.agent.limits import CallLimiter


def test_slots_up_to_the_limit_then_busy_until_released() -> None:
    limiter = CallLimiter(2)
    first = limiter.try_acquire()
    second = limiter.try_acquire()
    assert first is not None and second is not None
    assert limiter.try_acquire() is None
    with first:
        pass
    assert limiter.active == 1
    first.release()  # releasing twice frees one slot only
    assert limiter.active == 1
    assert limiter.try_acquire() is not None
