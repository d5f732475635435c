"""One barge-in, from the caller's onset over the reply to its verdict: stop it, or resume it.

The session pauses the reply within a frame of the onset; what happens next is decided here,
from what the VAD says of the sound, the time since its onset, and the words heard in it:

- sound the VAD does not confirm as speech soon after the onset was a noise: the reply resumes;
- speech that has ended is transcribed, and its words judged (a backchannel lets it resume);
- speech still going at `decide_after_ms` is judged on its words so far: a backchannel so far
  waits for the end of it, anything else stops the reply at once;
- speech going on past the longest backchannel stops the reply whatever its words;
- words that repeat the reply were its own echo: it resumes, and the echo guard learns.

These rules interleave times with an ASR judgement that the session runs asynchronously, which
is why they are a machine of their own: here they are a plain object that is fed the VAD's
events and the judgement's words with their times, and asked for the next step, so each rule
is tested without a call around it. The session owns the audio, the ASR task, and what a
verdict does to the call (the playout, the transport, the next turn).
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_agent.agent.backchannel import BackchannelJudge
from voice_agent.agent.echo import repeats_reply
from voice_agent.settings import BargeInSettings
from voice_agent.stages.asr import Transcript

_CONFIRM_S = 0.3
"""A barge-in candidate the VAD has not confirmed as speech by then was a noise."""
_SPEECH_END_GRACE_S = 0.3
"""The VAD reports the end of speech only after its hangover: wait that long for it."""
_UNHEARD = Transcript(text="?", language="", confidence=1.0)
"""What a judgement whose transcription failed heard: no words, so the speech's length alone
decides (a short sound resumes the reply, a long one stops it); and it counts as final."""


@dataclass(frozen=True, slots=True)
class Transcribe:
    """Step: transcribe the caller's audio since the onset, and hand the words to `judged`."""

    final: bool
    """The speech has ended: these are all the words there will be."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Step: the barge-in is decided."""

    interrupted: bool
    """True: the reply stops for good and the caller's words start a turn; False: it resumes."""
    heard: str
    was_echo: bool = False
    """The words were the reply's own, come back louder than the echo guard allowed for."""


class BargeInDecision:
    """The state of one barge-in until its verdict; the session drops it once it has one."""

    def __init__(
        self, onset: float, confirmed: bool, settings: BargeInSettings, judge: BackchannelJudge
    ) -> None:
        """`confirmed`: the VAD already heard speech at the onset."""
        self._onset = onset
        self._confirmed = confirmed
        self._speech_end: float | None = None
        self._awaiting: Transcribe | None = None
        self._judged_partial = False
        """Words so far were a backchannel: no second partial judgement, wait for the end."""
        self._judge = judge
        self._decide_after_s = settings.decide_after_ms / 1000
        self._give_up_s = settings.longest_backchannel_ms / 1000 + _SPEECH_END_GRACE_S

    @property
    def onset(self) -> float:
        return self._onset

    @property
    def speech_end(self) -> float | None:
        """Where the VAD last said the speech ended (None: it goes on, or never began)."""
        return self._speech_end

    def speech_started(self) -> None:
        """The VAD hears speech: the sound is no noise, and it goes on."""
        self._confirmed = True
        self._speech_end = None

    def speech_ended(self, at: float) -> None:
        self._speech_end = at

    def next_step(self, now: float) -> Transcribe | Verdict | None:
        """What to do at `now` (the end of the latest frame); None: wait for more audio, or for
        the judgement asked for, which `judged` takes."""
        if self._awaiting is not None:
            return None
        elapsed = now - self._onset
        if not self._confirmed and elapsed >= _CONFIRM_S:
            return Verdict(interrupted=False, heard="")
        if self._speech_end is not None:
            return self._transcribe(final=True)
        if elapsed >= self._give_up_s:
            return Verdict(interrupted=True, heard="")
        if elapsed >= self._decide_after_s and not self._judged_partial:
            return self._transcribe(final=False)
        return None

    def judged(
        self, transcript: Transcript | None, now: float, reply_text: str | None
    ) -> Verdict | None:
        """The words of the audio transcribed for the last `Transcribe` step (None: the
        transcription failed), heard at `now` over the reply being spoken (None: none is).
        None: a backchannel so far; the next steps wait for the speech to end."""
        request = self._awaiting
        assert request is not None, "judged without a Transcribe step"
        self._awaiting = None
        final = transcript is None or request.final
        heard = transcript or _UNHEARD
        speech_s = (self._speech_end or now) - self._onset
        if reply_text is not None and repeats_reply(heard.text, reply_text):
            return Verdict(interrupted=False, heard=heard.text, was_echo=True)
        if not self._judge.is_backchannel(heard.text, speech_s, heard.confidence):
            return Verdict(interrupted=True, heard=heard.text)
        if final:
            return Verdict(interrupted=False, heard=heard.text)
        self._judged_partial = True
        return None

    def _transcribe(self, final: bool) -> Transcribe:
        self._awaiting = Transcribe(final)
        return self._awaiting
