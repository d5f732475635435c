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
