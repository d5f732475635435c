"""`--compare`: two agents called alternately in one run, and their ratio.

Two calibration agents over real WebRTC, one in each signaling dialect, answer after known
delays (300 and 600 ms): the second must come out about twice as slow."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from voice_agent.bench.commands import _options, _run
from voice_agent.bench.fake_webrtc import fake_webrtc_agent
from voice_agent.bench.responder import Delays, KnownDelayResponder, Mode
from voice_agent.bench.voices import EspeakVoice
from voice_agent.cli import _parser
from voice_agent.settings import Settings

HERE = Path(__file__).parent


def test_two_agents_are_called_alternately_and_compared(tmp_path: Path) -> None:
    voice = EspeakVoice("en-gb+f3").speak("Thanks for waiting here is your answer")
    settings = Settings()

    def answering_after(seconds: float) -> KnownDelayResponder:
        return KnownDelayResponder(Mode.REPLY, Delays(seconds), voice, 48_000)

    async def run() -> int:
        async with (
            fake_webrtc_agent(lambda: answering_after(0.3)) as fast,
            fake_webrtc_agent(lambda: answering_after(0.6)) as slow,
        ):
            args = _parser().parse_args(
                [
                    "bench",
                    "--url",
                    fast.url,
                    "--compare",
                    slow.generic_url,
                    "--compare-signaling",
                    "generic",
                    "--turns",
                    "2",
                    "--receive",
                    "arrival",
                    "--scenarios",
                    str(HERE / "data"),
                    "--out",
                    str(tmp_path),
                ]
            )
            async with asyncio.timeout(240):
                return await _run(_options(args, settings), settings)

    assert asyncio.run(run()) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    first, second = report["runs"]
    assert first["target"].endswith(first["target"].split("/")[2])
    assert second["target"].endswith("/api/offer")
    assert first["voice_to_voice_ms"]["count"] == second["voice_to_voice_ms"]["count"] == 2
    calls = {run["target"]: {t["call"] for t in run["turns_detail"]} for run in (first, second)}
    assert calls[first["target"]] == {0} and calls[second["target"]] == {1}  # alternately
    (pair,) = report["compare"]["pairs"]
    print("second / first p50:", pair["second_over_first_p50"])
    assert 1.6 <= pair["second_over_first_p50"] <= 2.1
