"""Before a call the agent placed starts its script: who answered it (a person, or an
answering machine whose message may start now), read from the line's audio."""

from __future__ import annotations

import asyncio
import logging

from voice_agent.agent.answering_machine import AnsweringMachineDetector, Verdict
from voice_agent.agent.ports import CallTransport
from voice_agent.audio import AudioFrame
from voice_agent.settings import AnsweringMachineSettings

logger = logging.getLogger(__name__)

_SLACK_S = 5.0
"""Beyond the longest the detector itself can take (it counts audio, not time)."""


async def who_answered(
    transport: CallTransport, settings: AnsweringMachineSettings
) -> Verdict | None:
    """Listen until the detector is done: a person answered, or a machine is recording now.
    None when the line ended first. The audio heard here is not the session's: the session
    starts after it, with the callee's next words."""
    detector = AnsweringMachineDetector(settings)
    longest = settings.silence_s + settings.machine_greeting_s + settings.max_beep_wait_s
    try:
        async with asyncio.timeout(longest + _SLACK_S):  # a line that stops sending audio
            async for item in transport.inputs():
                if isinstance(item, AudioFrame):
                    for report in detector.feed(item):
                        logger.info("outbound call: %s", report)
                    if detector.done:
                        break
    except TimeoutError:
        logger.warning("outbound call: no verdict after %.0f s of waiting", longest + _SLACK_S)
    return detector.verdict
