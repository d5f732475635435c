"""Every seed and every input that ever failed, replayed through its target under the caps.

A parser change that brings back an old defect (an SDP telephone-event range that stalled
the line, a URI that broke our own BYE...) fails here, in ``make test``.
"""

from pathlib import Path

import pytest

from fuzz.caps import Caps, Guard
from fuzz.harness import load_target, regression_files, replay_files, target_names


def _cases() -> list[tuple[str, Path]]:
    return [(name, path) for name in target_names() for path in replay_files(name)]


@pytest.mark.parametrize(
    ("name", "path"), _cases(), ids=[f"{n}/{p.parent.name}/{p.name[:16]}" for n, p in _cases()]
)
def test_input_passes_its_target_within_the_caps(name: str, path: Path) -> None:
    target = load_target(name)
    with Guard(Caps()) as guard:
        outcome = guard.run(target.one_input, path.read_bytes())
    assert outcome is None, f"{path}: [{outcome.kind}] {outcome.error}\n{outcome.details}"


def test_every_protocol_target_has_seeds() -> None:
    for name in ("sip", "sdp", "rtp", "jitter"):
        assert name in target_names()
        assert len(replay_files(name)) >= 4, name


def test_the_hand_found_sdp_stall_is_kept_as_a_regression() -> None:
    kept = [path.read_bytes() for path in regression_files("sdp")]
    assert any(b"a=fmtp:101 0-4294967295" in data for data in kept)
    assert any(b"a=fmtp:101 0-99999999\r\n" in data for data in kept)
