"""What the adapters of one LiveKit session tell each other, beside LiveKit's own pipeline.

LiveKit hands the STT audio, the LLM a chat history and the TTS text, nothing more. Our
stages do better knowing what the dialogue expects (digits: the ASR's digit prompt) and in
which language the reply is (its voice), and the dialogue does better knowing how surely a
turn was heard (low-confidence digits are read back). One `CallContext` per session carries
that between the adapters; it is plain data, touched only from the session's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_agent.stages.asr import AsrHint, Expect, Transcript


@dataclass(slots=True)
class CallContext:
    expect: Expect = Expect.FREE
    """What the dialogue expects next (set by the LLM adapter after each reply)."""
    listen: str | None = None
    """The language to recognize the next turn in; None: identify it (or the model's own)."""
    speaking: str = "en"
    """The language of the reply being spoken (its voice)."""
    end_call: bool = False
    """The dialogue said goodbye: the agent ends the session once the reply was spoken."""
    last_heard: Transcript | None = None
    """The STT adapter's last final transcript, for the dialogue to weigh."""

    def hint(self) -> AsrHint:
        """How to recognize the next utterance."""
        return AsrHint(expect=self.expect, language=self.listen)

    def transcript_of(self, text: str) -> Transcript | None:
        """The transcript a user message came from, when it is exactly one heard utterance
        (LiveKit may join several into one message: those are then taken as plain text)."""
        heard = self.last_heard
        if heard is None or heard.text.strip() != text.strip():
            return None
        return heard
