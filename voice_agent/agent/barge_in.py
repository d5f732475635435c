"""One barge-in, from the caller's onset over the reply to its verdict: stop it, or resume it.

The session pauses the reply within a frame of the onset; what happens next is decided here,
from what the VAD says of the sound, the time since its onset, and the words heard in it:

- sound the VAD does not confirm as speech soon after the onset was a noise: the reply resumes;
- speech that has ended is transcribed, and its words judged (a backchannel lets it resume);
- speech still going at `decide_after_ms` is judged on its words so far: a backchannel so far
  waits for the end of it, anything else stops the reply at once;
- speech going on past the longest backchannel stops the reply whatever its words; the
  caller's sound counts, not only the VAD's speech (a comma or a few lost packets end the
  VAD's speech in the middle of a line), and it counts while the words are still being judged;
- words that repeat the reply were its own echo: it resumes, and the echo guard learns;
- a reply resumes only once the caller has been quiet `LINE_GOES_ON_S`: sound after the words
  were taken means the line went on, and it is judged again with what followed.
- sound that begins within `LINE_GOES_ON_S` of the end of the line the reply answers is that
  line going on (after a comma, not a backchannel): any words but the reply's echo stop it.

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
LINE_GOES_ON_S = 0.5
"""A pause inside a caller's line (a comma, a breath, a few packets lost on the way) is shorter
than this: a barge-in is let go as a backchannel only after this much quiet."""
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
        self,
        onset: float,
        confirmed: bool,
        settings: BargeInSettings,
        judge: BackchannelJudge,
        line_goes_on: bool = False,
    ) -> None:
        """`confirmed`: the VAD already heard speech at the onset. `line_goes_on`: the caller
        speaks again within LINE_GOES_ON_S of the end of the line the reply answers: that is
        the line going on, judged on whether it has words (the VAD, slow to hear speech again
        over the reply's echo, is not waited for), and never a backchannel: only the reply's
        echo or a noise without words lets the reply resume."""
        self._onset = onset
        self._line_goes_on = line_goes_on
        self._confirmed = confirmed or line_goes_on
        self._speech_end: float | None = None
        self._sound_until = onset
        """The end of the last frame in which the caller's sound stood out (`heard_sound`)."""
        self._awaiting: Transcribe | None = None
        self._asked_at = onset
        """When the words being (or last) judged were taken: sound after it is not in them."""
        self._resume: Verdict | None = None
        """A resume verdict held until the caller has been quiet LINE_GOES_ON_S."""
        self._judged_partial = False
        """Words so far were a backchannel: no second partial judgement, wait for the end."""
        self._judge = judge
        self._decide_after_s = settings.decide_after_ms / 1000
        self._longest_s = settings.longest_backchannel_ms / 1000
        self._give_up_s = self._longest_s + _SPEECH_END_GRACE_S

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
        self._resume = None  # the words judged were not all of it: judged again at its end

    def speech_ended(self, at: float) -> None:
        self._speech_end = at

    def heard_sound(self, until: float) -> None:
        """The caller's sound stood out of the noise (and of the reply's echo) in a frame
        ending at `until`: the VAD may miss a word after a pause, the loudness does not."""
        self._sound_until = max(self._sound_until, until)

    def next_step(self, now: float) -> Transcribe | Verdict | None:
        """What to do at `now` (the end of the latest frame); None: wait for more audio, or for
        the judgement asked for, which `judged` takes."""
        elapsed = now - self._onset
        if self._confirmed and self._sound_until - self._onset > self._longest_s:
            # longer than any backchannel, whatever the words (and however long they take)
            return Verdict(interrupted=True, heard="")
        if self._awaiting is not None:
            return None
        if not self._confirmed and elapsed >= _CONFIRM_S:
            return Verdict(interrupted=False, heard="")
        if self._resume is not None:
            return self._held_resume(now)
        if self._speech_end is not None:
            return self._transcribe(final=True, now=now)
        if elapsed >= self._give_up_s:
            return Verdict(interrupted=True, heard="")
        if elapsed >= self._decide_after_s and not self._judged_partial:
            return self._transcribe(final=False, now=now)
        return None

    def _held_resume(self, now: float) -> Transcribe | Verdict | None:
        """The resume verdict once the caller has been quiet long enough; judged again if they
        went on after its words were taken."""
        if self._sound_until > self._asked_at:
            self._resume = None  # the line went on: its words so far were not all of it
            return self._transcribe(final=True, now=now) if self._speech_end is not None else None
        if self._speech_end is None:
            return None  # the VAD hears speech again: wait for its end
        if now - max(self._speech_end, self._sound_until) < LINE_GOES_ON_S:
            return None
        verdict, self._resume = self._resume, None
        return verdict

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
        speech_s = max(self._speech_end or now, self._sound_until) - self._onset
        if reply_text is not None and repeats_reply(heard.text, reply_text):
            return Verdict(interrupted=False, heard=heard.text, was_echo=True)
        if self._line_goes_on:  # words: the line went on; none: a noise after it
            return Verdict(interrupted=bool(heard.text.strip()), heard=heard.text)
        if not self._judge.is_backchannel(heard.text, speech_s, heard.confidence):
            return Verdict(interrupted=True, heard=heard.text)
        self._judged_partial = True
        if final:
            self._resume = Verdict(interrupted=False, heard=heard.text)
        return None

    def _transcribe(self, final: bool, now: float) -> Transcribe:
        self._awaiting = Transcribe(final)
        self._asked_at = now
        return self._awaiting
