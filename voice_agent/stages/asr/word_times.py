"""Words as the recognizer times them: from faster-whisper's timings, echo dropped, on the
caller's clock (whisper.py's word path, for streaming)."""

from __future__ import annotations

from typing import Any

from voice_agent.audio import AudioFrame
from voice_agent.stages.asr import Word
from voice_agent.stages.asr.digits import NUMBER_WORDS_LANGUAGE
from voice_agent.stages.asr.guards import without_echoed_tail


def word_of(timing: Any) -> Word:
    """Our Word from faster-whisper's (a dataclass in transcribe(), a dict in alignment)."""
    if isinstance(timing, dict):
        text, start, end, probability = (timing[k] for k in ("word", "start", "end", "probability"))
    else:
        text, start, end, probability = timing.word, timing.start, timing.end, timing.probability
    return Word(str(text).strip(), float(start), float(end), float(probability))


def unechoed(words: list[Word], language: str = NUMBER_WORDS_LANGUAGE) -> list[Word]:
    """`words` (in `language`) without a phrase the decoder said twice at its very end (as in
    the text path)."""
    said = " ".join(word.text for word in words)
    pieces_kept = len(without_echoed_tail(said, language).split())
    kept: list[Word] = []
    pieces = 0
    for word in words:
        pieces += len(word.text.split())  # a word may hold a space ('" hello' when quoted)
        if pieces > pieces_kept:
            break
        kept.append(word)
    return kept


def on_clock(word: Word, offset_s: float, audio: AudioFrame) -> Word:
    """`word` moved by `offset_s`, within the audio it was heard in (alignment may stretch the
    first word into the lead-in's silence)."""
    moved = word.shifted(offset_s)
    start = min(max(moved.start_s, audio.timestamp), audio.end)
    end = min(max(moved.end_s, start), audio.end)
    return Word(moved.text, start, end, moved.probability)
