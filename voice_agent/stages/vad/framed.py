"""A Vad from a window classifier: framing, classification, segmentation, one event per call."""

from __future__ import annotations

import logging
from collections import deque
from typing import Protocol

from voice_agent.audio import AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.stages.vad import VadEvent
from voice_agent.stages.vad.framing import WindowFramer
from voice_agent.stages.vad.segmenter import SegmenterSettings, SpeechSegmenter

logger = logging.getLogger(__name__)


class SpeechClassifier(Protocol):
    """Scores fixed windows of audio; may keep state from one window to the next."""

    @property
    def rate(self) -> int: ...

    @property
    def window_size(self) -> int: ...

    def speech_probability(self, window: Int16Array) -> float: ...

    def reset(self) -> None: ...


class FramedVad:
    """Feeds a classifier the windows it needs, whatever the frames, and segments its scores.

    A frame long enough to hold several boundaries (an end and the next start) queues them: each
    call returns the oldest, so no event is lost and each still carries its own audio time.
    """

    def __init__(self, classifier: SpeechClassifier, settings: SegmenterSettings) -> None:
        self._classifier = classifier
        self._framer = WindowFramer(classifier.rate, classifier.window_size)
        self._segmenter = SpeechSegmenter(settings)
        self._events: deque[VadEvent] = deque()

    def process(self, frame: AudioFrame) -> VadEvent | None:
        for window in self._framer.push(frame):
            probability = self._classifier.speech_probability(window.samples)
            event = self._segmenter.push(probability, window)
            if event is not None:
                logger.debug("%s at %.3f s", event.kind.value, event.timestamp)
                self._events.append(event)
        return self._events.popleft() if self._events else None

    def reset(self) -> None:
        self._framer.reset()
        self._classifier.reset()
        self._segmenter.reset()
        self._events.clear()
