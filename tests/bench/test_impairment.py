"""The impairment models, sans I/O: profiles, exact windowed burst loss, smooth FIFO delay,
and one direction's impairment, all reproducible from a seed."""

from __future__ import annotations

import itertools
import random
import struct

import numpy as np
import pytest

from voice_agent.bench.impairment import (
    LOSS_WINDOW,
    MAX_BURST,
    PROFILES,
    BurstLoss,
    Impairment,
    LinkDelay,
    Profile,
    SmoothJitter,
    is_media,
    plan_loss_window,
    profile_named,
)

CROSS_BORDER = PROFILES["cross-border"]
BAD_MOBILE = PROFILES["bad-mobile"]


def _rtp(number: int) -> bytes:
    """An RTP packet (PCMU) whose payload is its number."""
    return struct.pack("!BBHII", 0x80, 0, number, number * 160, 0x1234) + number.to_bytes(4)


def _runs(flags: list[bool]) -> list[int]:
    """Lengths of the runs of True."""
    return [len(list(run)) for lost, run in itertools.groupby(flags) if lost]


# --- profiles -----------------------------------------------------------------------------------


def test_the_profiles_are_clean_cross_border_and_bad_mobile() -> None:
    assert list(PROFILES) == ["clean", "cross-border", "bad-mobile"]
    assert PROFILES["clean"].loss == 0 and PROFILES["clean"].added_round_trip_ms == 0
    assert (CROSS_BORDER.loss, CROSS_BORDER.delay_ms, CROSS_BORDER.jitter_ms) == (0.03, 150, 40)
    assert (BAD_MOBILE.loss, BAD_MOBILE.delay_ms, BAD_MOBILE.jitter_ms) == (0.08, 250, 80)
    assert CROSS_BORDER.added_round_trip_ms == 300
    assert profile_named("bad-mobile") is BAD_MOBILE


def test_an_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="clean, cross-border, bad-mobile"):
        profile_named("satellite")


def test_a_profile_cannot_promise_negative_delays() -> None:
    with pytest.raises(ValueError, match="jitter"):
        Profile("odd", loss=0.0, mean_burst=1.0, delay_ms=10.0, jitter_ms=20.0)


def test_media_is_rtp_and_rtcp_by_the_first_byte() -> None:
    assert is_media(b"\x80\x00") and is_media(b"\x90\x60") and is_media(b"\x81\xc8")
    assert not is_media(b"\x00\x01\x00\x00")  # STUN binding request
    assert not is_media(b"\x16\xfe\xfd")  # DTLS handshake
    assert not is_media(b"")


# --- loss ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lost", [0, 1, 3, 8, 20, 50])
def test_a_window_loses_exactly_its_share_in_short_bursts_that_never_touch(lost: int) -> None:
    for seed in range(200):
        plan = plan_loss_window(lost, 2.5, random.Random(seed))
        assert len(plan) == LOSS_WINDOW
        assert sum(plan) == lost
        assert all(1 <= run <= MAX_BURST for run in _runs(plan))
        assert not plan[-1], "a window ends with a kept packet: bursts never join windows"


def test_every_window_of_a_stream_loses_exactly_the_profile_rate() -> None:
    for profile in (CROSS_BORDER, BAD_MOBILE):
        loss = BurstLoss(profile.loss, profile.mean_burst, random.Random(7))
        dropped = [loss.drops_next() for _ in range(200 * LOSS_WINDOW)]
        for start in range(0, len(dropped), LOSS_WINDOW):
            assert sum(dropped[start : start + LOSS_WINDOW]) == round(profile.loss * 100)
        runs = _runs(dropped)
        assert max(runs) <= MAX_BURST
        assert 2.0 <= sum(runs) / len(runs) <= 3.0, "bursts average the profile's 2.5 packets"
        assert len(set(runs)) > 1, "burst lengths vary"


def test_losses_are_reproducible_from_the_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        loss = BurstLoss(0.08, 2.5, random.Random(seed))
        return [loss.drops_next() for _ in range(1000)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)


def test_no_loss_drops_nothing() -> None:
    loss = BurstLoss(0.0, 1.0, random.Random(0))
    assert not any(loss.drops_next() for _ in range(1000))


# --- delay --------------------------------------------------------------------------------------


def _jitter_track(jitter_ms: float, seconds: float, every_s: float, seed: int = 3) -> np.ndarray:
    jitter = SmoothJitter(jitter_ms, random.Random(seed))
    return np.array([jitter.at(step * every_s) for step in range(round(seconds / every_s))])


def test_jitter_stays_within_its_range_and_fills_most_of_it() -> None:
    track = _jitter_track(40.0, seconds=600, every_s=0.02)
    assert track.min() >= -40 and track.max() <= 40
    assert np.percentile(track, 5) < -25 and np.percentile(track, 95) > 25
    assert abs(track.mean()) < 4


def test_jitter_varies_smoothly_in_time() -> None:
    track = _jitter_track(40.0, seconds=600, every_s=0.02)
    step_ms = np.abs(np.diff(track))
    assert step_ms.max() < 40, "20 ms later the delay has not jumped across the range"
    centred = track - track.mean()

    def correlation(lag: int) -> float:
        return float(np.dot(centred[:-lag], centred[lag:]) / np.dot(centred, centred))

    assert correlation(1) > 0.9  # 20 ms apart: nearly the same
    assert correlation(50) < 0.2  # 1 s apart: unrelated (time constant 200 ms)


def test_jitter_depends_on_time_not_on_how_often_packets_come() -> None:
    every_2_ms = _jitter_track(80.0, seconds=10, every_s=0.002)
    every_20_ms = _jitter_track(80.0, seconds=10, every_s=0.02)
    assert every_2_ms[::10] == pytest.approx(every_20_ms)


def _departures(profile: Profile, arrivals: list[float], seed: int = 5) -> list[float]:
    delay = LinkDelay(profile.delay_ms, profile.jitter_ms, random.Random(seed))
    return [delay.departure(arrival) for arrival in arrivals]


def test_packets_leave_in_the_order_they_came_within_the_delay_range() -> None:
    arrivals = [1000.0 + 0.001 * n for n in range(60_000)]  # 1 ms apart: a tight stream
    departures = _departures(BAD_MOBILE, arrivals)
    assert all(later >= earlier for earlier, later in itertools.pairwise(departures))
    delays_ms = np.subtract(departures, arrivals) * 1000
    assert delays_ms.min() >= 250 - 80 - 1e-6 and delays_ms.max() <= 250 + 80 + 1e-6
    assert delays_ms.mean() == pytest.approx(250, rel=0.05)


def test_the_pace_of_packets_barely_changes_their_delays() -> None:
    """Holding packets behind a slower one raises the mean only a little, whatever the pace."""
    fine = [0.002 * n for n in range(30_000)]
    coarse = fine[::10]
    fine_ms = np.subtract(_departures(BAD_MOBILE, fine), fine) * 1000
    coarse_ms = np.subtract(_departures(BAD_MOBILE, coarse), coarse) * 1000
    assert fine_ms.mean() == pytest.approx(coarse_ms.mean(), abs=2.0)
    assert fine_ms[::10] == pytest.approx(coarse_ms, abs=10.0)


def test_no_delay_sends_at_once() -> None:
    arrivals = [0.02 * n for n in range(100)]
    assert _departures(PROFILES["clean"], arrivals) == arrivals


def test_rtcp_does_not_disturb_the_exact_loss_of_the_audio() -> None:
    impairment = Impairment(BAD_MOBILE, seed=0, direction="to_agent")
    rtp_fates: list[bool] = []
    for n in range(1000):
        rtp_fates.append(impairment.departure(_rtp(n), arrival=n * 0.02) is None)
        if n % 7 == 0:
            impairment.departure(b"\x81\xc9" + bytes(30), arrival=n * 0.02)  # a receiver report
    for start in range(0, 1000, LOSS_WINDOW):
        assert sum(rtp_fates[start : start + LOSS_WINDOW]) == 8
    stats = impairment.stats()
    assert stats.media_packets == 1000 + 143
    assert stats.delay_p5_ms is not None and stats.delay_p95_ms is not None
    assert 170 <= stats.delay_p5_ms <= stats.delay_p95_ms <= 330


def test_each_direction_has_its_own_reproducible_losses_and_delays() -> None:
    def fates(seed: int, direction: str) -> list[float | None]:
        impairment = Impairment(BAD_MOBILE, seed, direction)
        return [impairment.departure(_rtp(n), arrival=n * 0.02) for n in range(500)]

    assert fates(4, "to_agent") == fates(4, "to_agent")
    assert fates(4, "to_agent") != fates(4, "to_caller")
    assert fates(4, "to_agent") != fates(5, "to_agent")
