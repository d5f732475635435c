"""One frozen, typed settings tree.

Precedence, lowest first: ``config/default.toml`` < ``--config FILE`` < LiveKit's own
``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` (the ``[livekit]`` section's
``url``, ``api_key``, ``api_secret``) < ``VOICE_AGENT_*`` environment variables (nested keys
joined by ``__``, e.g. ``VOICE_AGENT_ASR__BEAM_SIZE=2``). Nothing else in the project reads the
environment; each component receives its own part.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from voice_agent import PROJECT_ROOT
from voice_agent.tomltext import TomlTextError, read_toml

ENV_PREFIX = "VOICE_AGENT_"
LIVEKIT_ENV = {
    "LIVEKIT_URL": "url",
    "LIVEKIT_API_KEY": "api_key",
    "LIVEKIT_API_SECRET": "api_secret",
}
"""The variables every LiveKit tool reads, taken as the [livekit] keys they name."""
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.toml"


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PathsSettings(Section):
    data_dir: Path = Path("var")
    """Databases, caches and recordings; relative paths resolve from the project root."""

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def data(self) -> Path:
        return self.resolve(self.data_dir)


class ModelsSettings(Section):
    manifest: Path = Path("models/MANIFEST.toml")
    cache_dir: Path = Path("var/models")
    """Where models assembled from several packages (multilingual base) are written once."""


DIGITS_PROMPTS = {
    "en": "The number is 1 2 3 4 5 6 7 8 9 0.",
    "de": "Die Nummer ist 1 2 3 4 5 6 7 8 9 0.",
    "es": "El número es 1 2 3 4 5 6 7 8 9 0.",
    "fr": "Le numéro est 1 2 3 4 5 6 7 8 9 0.",
    "pt": "O número é 1 2 3 4 5 6 7 8 9 0.",
}
"""The decoder's context when digits are expected, per language: the same sentence in each,
so that Whisper writes the digits it hears as digits, one by one."""


class AsrSettings(Section):
    model: Literal["whisper-tiny-en", "whisper-base"] = "whisper-tiny-en"
    language: str | None = None
    """Fixed language code, or None to detect it (multilingual models only)."""
    compute_type: Literal["int8", "int8_float32", "float32", "default"] = "int8"
    cpu_threads: int = Field(default=1, ge=1, le=64)
    num_workers: int = Field(default=2, ge=1, le=16)
    """Two decoders of one thread each: a final pass of ~2 s took 82 ms alone and 104 ms with
    another at once, against 93 and 219 ms for one decoder of two threads (2 cores,
    benchmarks/results/asr_workers.md); the scheduler keeps one decoder for finals."""
    beam_size: int = Field(default=2, ge=1, le=10)
    fast_path: bool = True
    """Encode only a short window (docs/asr-short-window.md) instead of stock 30 s."""
    min_window_s: float = Field(default=6.0, ge=1.0, le=30.0)
    window_padding_s: float = Field(default=1.0, ge=0.0, le=5.0)
    lead_in_s: float = Field(default=0.3, ge=0.0, le=2.0)
    """Silence put before the speech: Whisper drops a first word that starts at sample 0."""
    repetition_penalty: float = Field(default=1.1, ge=1.0, le=2.0)
    no_repeat_ngram_size: int = Field(default=3, ge=0, le=10)
    tokens_per_second: float = Field(default=5.0, gt=0.0, le=20.0)
    """Fast-path token budget: ceil(tokens_per_second * duration + 10); more means a loop."""
    stock_beam_size: int = Field(default=5, ge=1, le=10)
    """Beam of the stock 30 s path (fallback, long audio, fast_path off): 5 is as fast as 1."""
    detect_languages: tuple[str, ...] = ()
    """Multilingual models: detection picks among these codes only (empty: any language)."""
    lid_recheck: bool = True
    """Open-language passes: a doubtful language guess gets a second look, decoding the
    runner-up languages too and picking by the readings (stages/asr/second_look.py). Off:
    the language token's guess alone. language_probability is on the same scale either way
    (among all languages)."""
    lid_recheck_below: float = Field(default=0.8, ge=0.0, le=1.0)
    """A guess whose share among the candidates is below this gets the second look."""
    lid_candidates: int = Field(default=3, ge=2, le=5)
    """Languages decoded on a second look: the guess and its runners-up."""
    digits_prompts: dict[str, str] = Field(default_factory=lambda: dict(DIGITS_PROMPTS))
    """Per language, the context shown to the decoder when digits are expected: it then writes
    digits, one by one (a language left out, or empty: no prompt). Digit runs are rewritten as
    spaced digits either way."""
    email_prompts: dict[str, str] = Field(default_factory=dict)
    """Per language, the context shown to the decoder when an e-mail address is expected (a
    language left out, or empty: none; none by default, as English never had one)."""
    stream_every_s: float = Field(default=0.5, ge=0.0, le=5.0)
    """While the caller speaks, the utterance is decoded again after this much new audio, so
    that at the pause only its unconfirmed tail is left (0: no streaming; the whole utterance
    is decoded at the pause)."""
    stream_context_s: float = Field(default=1.0, ge=0.0, le=5.0)
    """Confirmed speech each streaming pass hears again before its new words."""
    stream_telephone: bool = False
    """Stream 8 kHz telephone calls too. Off: they are decoded whole at the pause, which was
    3.2 WER points more accurate on telephone audio (benchmarks/results/asr_streaming.md)."""
    confirm_number_digits: int = Field(default=6, ge=0, le=30)
    """A fast-path or streamed reading holding this many digits or more, when the dialogue may
    hear a phone number (Expect.EMAIL), is checked by the stock path (on the whole utterance),
    which answers when it heard more digits: the short window (and a streamed pass on the
    utterance's tail) sometimes stops short of a long number or drops a digit of it.
    6: one short of the shortest phone number (benchmarks/results/asr-long-numbers.md). 0: no
    check."""

    @field_validator("digits_prompts", "email_prompts")
    @classmethod
    def _prompts_by_language(cls, prompts: dict[str, str]) -> dict[str, str]:
        bad = sorted(code for code in prompts if not re.fullmatch(r"[a-z]{2}", code))
        if bad:
            raise ValueError(f"prompts are keyed by two-letter language codes, not {bad}")
        return prompts


SHA256_HEX = r"^[0-9a-f]{64}$"


class CustomVoiceSettings(Section):
    """An operator's own Piper voice for one language: both files are checked against their
    sha256 before anything loads them (a mismatch is refused with both digests named)."""

    onnx: Path
    """The voice's ``.onnx`` model (an absolute path, or relative to the working directory)."""
    config: Path
    """Its ``.onnx.json`` (sample rate, phoneme map, espeak voice)."""
    onnx_sha256: str = Field(pattern=SHA256_HEX)
    config_sha256: str = Field(pattern=SHA256_HEX)


class TtsSettings(Section):
    voices: dict[str, str] = {
        "en": "piper-joe-medium",
        "de": "espeak-ng-de",
        "es": "espeak-ng-es",
        "fr": "espeak-ng-fr",
        "pt": "espeak-ng-pt-br",
    }
    """The voice of each language: a ``tts`` model of models/MANIFEST.toml (a Piper voice) or
    one of espeak-ng's (``espeak-ng-de``, ``espeak-ng-es``, ``espeak-ng-fr``,
    ``espeak-ng-pt-br``, ``espeak-ng-en-us``: robotic, the floor where no natural offline voice
    is packaged)."""
    custom: dict[str, CustomVoiceSettings] = {}
    """An operator's own Piper voice per language (``[tts.custom.de]``); it replaces the
    language's entry in ``voices``."""
    onnx_threads: int = Field(default=2, ge=1, le=64)
    max_clause_words: int = Field(default=6, ge=1, le=40)
    first_clause_words: int = Field(default=3, ge=1, le=40)
    """The first clause of a reply is cut shorter still: its synthesis is first-audio latency."""
    cache_size: int = Field(default=64, ge=0, le=10_000)
    """Clauses kept in the LRU cache of synthesized audio (cached_prompts are kept apart)."""
    length_scale: float = Field(default=1.0, gt=0.2, le=3.0)
    """Multiplies the voice's own phoneme length scale (above 1 speaks slower)."""
    gain_db: float = Field(default=2.0, ge=-20.0, le=20.0)
    """Fixed gain on the voice's output (the same for every clause, unlike normalizing)."""
    frame_ms: int = Field(default=20, ge=10, le=200)
    """Audio leaves the stage in frames of this length at 16 kHz."""
    prefetch: bool = True
    """Synthesize the next clause while the current one is being played."""
    cached_prompts: dict[str, tuple[str, ...]] = {"en": ("One moment.",)}
    """Prompts synthesized by warm_up, per language, and served from memory after."""

    @model_validator(mode="after")
    def _known_languages(self) -> TtsSettings:
        from voice_agent.languages import SUPPORTED

        for key in ("voices", "custom", "cached_prompts"):
            unknown = sorted(set(getattr(self, key)) - set(SUPPORTED))
            if unknown:
                raise ValueError(
                    f"tts.{key}: unknown language {', '.join(unknown)} "
                    f"(supported: {', '.join(SUPPORTED)})"
                )
        return self

    def has_voice(self, language: str) -> bool:
        return language in self.custom or language in self.voices


class VadSettings(Section):
    engine: Literal["webrtc", "silero"] = "webrtc"
    webrtc_aggressiveness: int = Field(default=3, ge=0, le=3)
    """3 keeps noise at 20 dB under the speech from passing for speech; 2 does not at 8 kHz."""
    webrtc_window_ms: Literal[10, 20, 30] = 10
    """Window webrtcvad judges at a time: shorter windows place boundaries closer."""
    silero_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    """Silero probability that starts speech."""
    silero_end_threshold: float = Field(default=0.35, gt=0.0, lt=1.0)
    """Silero probability under which speech pauses (hysteresis; capped at the one above)."""
    start_ms: int = Field(default=100, ge=0, le=2000)
    """Speech must last this long before speech-start is reported (webrtcvad calls the first
    ~70 ms of any stream speech while it learns the noise: keep this above 80 for it)."""
    hangover_ms: int = Field(default=120, ge=0, le=5000)
    """Silence must last this long before speech-end is reported."""
    pause_ms: int = Field(default=60, ge=0, le=5000)
    """Quiet this long after the sound reports a tentative pause, on which the final
    recognition pass begins before speech-end is sure (0: off; only below `hangover_ms`)."""


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    instance_id: str | None = Field(default=None, min_length=1, max_length=100)
    """Names this instance in the store: the conversations it owns (and closes after a crash)
    are its own, when several instances share one database. Default: ``host name:port``, so
    an instance restarted on the same machine and port is the same instance."""
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    """Bearer token that ``GET /metrics`` requires (Prometheus ``bearer_token``); without
    one, /metrics is off."""
    loop_stall_ms: float = Field(default=100.0, gt=0, le=60_000)
    """The event loop blocked longer than this is logged (a WARNING, "event loop stalled N
    ms") and counted (``voice_agent_loop_stalls``): every call's audio waited that long."""
    malloc_arena_max: int = Field(default=2, ge=0, le=64)
    """At most this many glibc malloc arenas (0: glibc's default, eight per core), set when
    `serve` starts: with one arena per busy thread, buffers freed after a call stay in their
    thread's arena and resident memory ratchets up call after call (voice_agent/memory.py)."""
    malloc_trim_after_call: bool = True
    """When a call ends, hand the heap's free pages back to the kernel (glibc malloc_trim)."""
    retry_after_s: int = Field(default=30, ge=1, le=3600)
    """What a refused caller is told to wait (Retry-After) when every line is busy or the
    instance drains: on SIP's 503 (to an INVITE, or an OPTIONS probe) and the web's 503."""
    drain_timeout_s: float = Field(default=600.0, ge=0, le=86_400)
    """After SIGTERM the calls under way may go on this long; then they are ended (BYE,
    turns stored) and the process exits. A second SIGTERM or SIGINT ends them at once."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of the proxies in front (HAProxy, nginx, Kamailio). Only from
    these are X-Forwarded-For and X-Forwarded-Proto believed (HTTP), and a SIP request's
    caller taken from the Via below the proxy's own; anyone else is who the socket says."""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    def resolved_instance_id(self) -> str:
        return self.instance_id or f"{socket.gethostname()}:{self.port}"


class StoreSettings(Section):
    url: str = "sqlite:///var/voice_agent.sqlite3"
    """SQLAlchemy URL; a relative sqlite path resolves from the project root.
    PostgreSQL: ``postgresql://user:password@host:port/database`` (driver psycopg 3)."""
    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    """SQLite: how long a writer waits for another connection's lock before failing."""


class DialogueSettings(Section):
    policies: Path = Path("config/policies.toml")
    """Verification, lost-parcel thresholds, responsibility and outcomes (config/policies.toml)."""
    catalogue_check_s: float = Field(default=5.0, ge=0.0, le=3600.0)
    """How often (at most, when a call needs it) the server looks whether the shop's data was
    imported again, by any instance on the database; then calls read the new catalogue."""


LANGUAGE_CODE = r"^[a-z]{2}$"


class LanguageSettings(Section):
    """The languages a deployment speaks with its callers (``voice_agent/languages.py``)."""

    default: str = Field(default="en", pattern=LANGUAGE_CODE)
    """Greeting and replies when nothing hints at the caller's language."""
    offered: tuple[str, ...] = ("en", "de", "es", "fr", "pt")
    """Languages callers are answered in; another language heard gets a short answer and a
    hand-off offer. Order matters only for the web page's language menu."""
    detect: bool = True
    """Without a hint, identify the language on the caller's first utterance (multilingual
    model) and follow a caller who switches language from the next turn."""
    by_number: dict[str, str] = {}
    """SIP: the language of calls to a dialled number (the Request-URI's user part, digits as
    dialled, e.g. ``{"4930123456" = "de"}``); a trunk's calls without a match use default."""

    @model_validator(mode="after")
    def _default_offered(self) -> LanguageSettings:
        from voice_agent.languages import SUPPORTED

        unknown = sorted(set(self.offered) - set(SUPPORTED))
        if unknown:
            raise ValueError(
                f"languages.offered: no replies for {', '.join(unknown)} "
                f"(supported: {', '.join(SUPPORTED)})"
            )
        if self.default not in self.offered:
            raise ValueError(f"languages.default {self.default!r} is not in languages.offered")
        bad = sorted(code for code in self.by_number.values() if code not in self.offered)
        if bad:
            raise ValueError(f"languages.by_number: {', '.join(bad)} not in languages.offered")
        return self


class EchoSettings(Section):
    max_delay_ms: int = Field(default=300, ge=0, le=2000)
    """Longest echo path delay expected (line plus the caller's device)."""
    echo_return_loss_db: float = Field(default=6.0, ge=0.0, le=60.0)
    """The least attenuation of the echo (G.168 expects at least 6 dB from a line's hybrid)."""
    margin_db: float = Field(default=0.0, ge=-20.0, le=30.0)
    adaptive: bool = True
    """Bound the echo by what the line is measured to return (never above the worst case)."""
    adaptive_margin_db: float = Field(default=6.0, ge=0.0, le=30.0)
    """How far above the loudest echo measured the bound sits."""
    adaptive_floor_db: float = Field(default=40.0, ge=6.0, le=90.0)
    """The bound stays at least this far under the playout, however little echo comes back."""


class BargeInSettings(Section):
    decide_after_ms: int = Field(default=400, ge=50, le=3000)
    """Speech still going this long after its onset is judged now (from its words so far)."""
    longest_backchannel_ms: int = Field(default=900, ge=100, le=5000)
    """Speech going on longer than this stops the reply whatever its words."""
    min_onset_frames: int = Field(default=2, ge=1, le=20)
    """Frames of caller speech above the echo bound before the reply pauses."""
    backchannels: tuple[str, ...] = (
        "mm",
        "mmm",
        "hmm",
        "mhm",
        "mm-hmm",
        "mm-hm",
        "uh-huh",
        "uh huh",
        "okay",
        "ok",
        "yeah",
        "yes",
        "yep",
        "right",
        "sure",
        "alright",
        "all right",
        "i see",
        "got it",
        "uh",
        "um",
    )
    floor_words: tuple[str, ...] = (
        "no", "nope", "stop", "wait", "hold", "sorry", "pardon", "what", "excuse", "hello", "hey",
        "but", "actually", "person", "human", "agent", "cancel", "repeat", "again",
    )  # fmt: skip
    """Words that take the floor: any of them stops the reply, however short the sound."""
    backchannel_max_words: int = Field(default=2, ge=0, le=10)
    """A short sound of at most this many words (none of them floor words) is a backchannel."""
    unsure_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    """A short sound the recogniser is less sure of than this (and no floor word) is one too."""


class TurnSettings(Section):
    """Endpointing: how long a pause commits the caller's turn, by what the dialogue expects."""

    hold_complete_s: float = Field(default=0.25, ge=0.0, le=5.0)
    hold_incomplete_s: float = Field(default=1.0, ge=0.0, le=5.0)
    hold_yes_no_s: float = Field(default=0.2, ge=0.0, le=5.0)
    hold_digits_s: float = Field(default=1.1, ge=0.0, le=5.0)
    hold_email_s: float = Field(default=1.3, ge=0.0, le=5.0)
    max_turn_s: float = Field(default=30.0, ge=1.0, le=120.0)
    """A turn this long is committed even without a pause."""


class PromptSettings(Section):
    """What the session itself says (the dialogue says everything else). Unset, each is the
    replies' sentence (``session.<name>``) in the call's language; set, it replaces it in every
    language."""

    reprompt: str | None = None
    silence_goodbye: str | None = None
    time_limit_goodbye: str | None = None


class SessionSettings(Section):
    max_concurrent_calls: int = Field(default=2, ge=1, le=1000)
    greeting: bool = True
    reprompt_after_s: float = Field(default=8.0, ge=1.0, le=120.0)
    hang_up_after_reprompts: int = Field(default=2, ge=0, le=10)
    max_call_s: float = Field(default=900.0, ge=10.0, le=86_400.0)
    dtmf_pause_s: float = Field(default=3.0, ge=0.5, le=30.0)
    """Keypad digits are collected until "#" or a pause this long, then answered as one turn."""
    echo: EchoSettings = EchoSettings()
    barge_in: BargeInSettings = BargeInSettings()
    turn: TurnSettings = TurnSettings()
    prompts: PromptSettings = PromptSettings()


class IceServer(Section):
    """A STUN or TURN server the browser and the agent use to find a path to each other."""

    urls: tuple[str, ...] = Field(min_length=1)
    """e.g. ``("stun:stun.example.com:3478",)`` or ``("turn:turn.example.com:3478",)``."""
    username: str | None = None
    credential: str | None = None


class WebRtcSettings(Section):
    """The web voice button: WebRTC calls from the browser."""

    ice_servers: tuple[IceServer, ...] = ()
    """STUN/TURN for real deployments (docs/deploy.md). Empty: none anywhere; the agent
    offers its host addresses only and contacts no STUN server."""
    loopback_only: bool = False
    """Offer only 127.0.0.1 as the agent's ICE address (tests, and a browser on this machine
    started with --allow-loopback-in-peer-connection)."""
    max_call_s: float = Field(default=960.0, ge=10.0, le=86_400.0)
    """Hard limit on one web call (the session says goodbye at session.max_call_s first)."""
    connect_timeout_s: float = Field(default=20.0, ge=1.0, le=300.0)
    """A call whose media has not started by then is dropped (its slot freed)."""
    media_timeout_s: float = Field(default=10.0, ge=1.0, le=300.0)
    """No caller audio for this long: the browser is gone, the call ends."""
    max_sdp_bytes: int = Field(default=32_768, ge=1024, le=262_144)
    opus_bitrate: int = Field(default=32_000, ge=6_000, le=510_000)
    """Bits per second of the agent's voice (Opus, 16 kHz mono content)."""
    allowed_origins: tuple[str, ...] = ()
    """Other web pages (origins) allowed to start calls: the shops embedding the button, e.g.
    ``("https://shop.example.com",)``. The agent's own origin is always allowed; ``"*"``
    allows any page, so any site could place calls from its visitors' browsers."""


class SipAccount(Section):
    """A user allowed to call in after digest authentication."""

    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class SipTrunkSettings(Section):
    """The SIP trunk or PBX the agent registers with (and whose address may always call in)."""

    registrar: str
    """SIP URI of the registrar, e.g. ``sip:pbx.example.com:5060`` (IP addresses need no DNS)."""
    username: str = Field(min_length=1)
    password: str
    realm: str | None = None
    """Answer challenges only from this realm (None: whatever realm the registrar names)."""
    domain: str | None = None
    """Domain of the registered address of record (default: the registrar's host)."""
    expires_s: int = Field(default=300, ge=30, le=86_400)
    """Registration lifetime asked for; refreshed at half the lifetime granted."""
    retry_s: float = Field(default=30.0, ge=1.0, le=3600.0)
    """Wait after a failed registration before trying again."""


class AnsweringMachineSettings(Section):
    """Who answered an outbound call, by the greeting's shape (agent/answering_machine.py)."""

    speech_level_dbfs: float = Field(default=-45.0, ge=-90.0, le=-10.0)
    """Audio at least this loud (RMS over 20 ms) is speech, or a tone."""
    max_gap_s: float = Field(default=0.6, ge=0.1, le=3.0)
    """A quieter stretch this short is a breath within one greeting, not its end."""
    machine_greeting_s: float = Field(default=3.0, ge=1.0, le=20.0)
    """A greeting running this long with only short gaps is a machine's."""
    person_wait_s: float = Field(default=1.0, ge=0.2, le=10.0)
    """A shorter greeting followed by this much silence is a person waiting for us."""
    silence_s: float = Field(default=5.0, ge=0.5, le=30.0)
    """Nothing said for this long after the answer: taken as a person (the script starts)."""
    beep_low_hz: float = Field(default=400.0, ge=100.0, le=4000.0)
    beep_high_hz: float = Field(default=2000.0, ge=100.0, le=4000.0)
    beep_min_s: float = Field(default=0.15, ge=0.04, le=2.0)
    """A steady tone in the band this long is the beep."""
    beep_purity: float = Field(default=0.8, gt=0.0, le=1.0)
    """The share of a window's energy at the tone's frequency that makes it a tone."""
    after_greeting_s: float = Field(default=2.0, ge=0.3, le=20.0)
    """No beep: the message starts after the greeting ended and this much silence."""
    max_beep_wait_s: float = Field(default=45.0, ge=5.0, le=300.0)
    """The message starts at the latest this long after the machine was recognized."""

    @model_validator(mode="after")
    def _band(self) -> AnsweringMachineSettings:
        if self.beep_low_hz >= self.beep_high_hz:
            raise ValueError("beep_low_hz must be below beep_high_hz")
        if self.person_wait_s <= self.max_gap_s:
            raise ValueError("person_wait_s must be longer than max_gap_s (a gap is no wait)")
        return self


class OutboundSettings(Section):
    """Calls the agent places: `voice-agent call --transport sip --purpose claim-update`."""

    shop_name: str = Field(default="the shop", min_length=1, max_length=100)
    """Who is calling, as the agent says it ("This is Example Shop ...")."""
    callback_number: str | None = Field(default=None, max_length=40)
    """Said in a message left on an answering machine; None: "call us back" alone."""
    answering_machine: AnsweringMachineSettings = AnsweringMachineSettings()


class SipSettings(Section):
    """The phone line: a SIP endpoint with G.711 RTP (transport/sip/, rtp_udp.py)."""

    enabled: bool = True
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=5060, ge=0, le=65535)
    advertised_host: str | None = None
    """IP address written in Contact, Via and SDP when it differs from listen_host (NAT); an
    address, not a name: SDP's c= line is read as an address by every peer, ours included."""
    rtp_port_min: int = Field(default=20_000, ge=1024, le=65535)
    rtp_port_max: int = Field(default=20_999, ge=1024, le=65535)
    codecs: tuple[Literal["PCMU", "PCMA"], ...] = Field(default=("PCMU", "PCMA"), min_length=1)
    """Codecs accepted, in our order of preference for offers (answers follow the offer)."""
    dtmf: bool = True
    """Offer and accept RFC 4733 telephone-event (keypad digits)."""
    trunk: SipTrunkSettings | None = None
    allowed_networks: tuple[str, ...] = ("127.0.0.0/8",)
    """Sources whose requests are accepted without authentication (trunks, the PBX)."""
    auth_realm: str = "voice-agent"
    auth_users: tuple[SipAccount, ...] = ()
    """Others may call after digest authentication as one of these users."""
    auth_algorithms: tuple[Literal["SHA-256", "MD5"], ...] = Field(
        default=("SHA-256", "MD5"), min_length=1
    )
    rate_limit_per_s: float = Field(default=20.0, gt=0.0, le=10_000.0)
    """Messages per second accepted from one source address (a token bucket per address)."""
    rate_limit_burst: int = Field(default=60, ge=1, le=100_000)
    ring_s: float = Field(default=0.0, ge=0.0, le=60.0)
    """Ring this long (180 Ringing) before answering."""
    rtp_timeout_s: float = Field(default=20.0, ge=1.0, le=3600.0)
    """No RTP from the caller for this long: the caller has vanished, the agent hangs up."""
    max_hold_s: float = Field(default=600.0, ge=1.0, le=86_400.0)
    """A call on hold this long is ended (on hold the caller may send no RTP at all)."""
    no_answer_timeout_s: float = Field(default=60.0, ge=1.0, le=600.0)
    """An outbound call not answered by then is cancelled."""
    jitter_min_ms: int = Field(default=20, ge=0, le=1000)
    jitter_max_ms: int = Field(default=120, ge=20, le=2000)
    jitter_initial_ms: int = Field(default=40, ge=0, le=2000)
    conceal_ms: int = Field(default=60, ge=0, le=1000)
    """Lost audio is bridged by the last pitch period fading out over this long, then silence."""
    t1_ms: int = Field(default=500, ge=10, le=10_000)
    """RFC 3261 T1, the round-trip estimate that scales every SIP retransmission timer."""
    session_expires_s: int = Field(default=1800, ge=1, le=86_400)
    """Session timer (RFC 4028) asked for and accepted at most; calls nobody refreshes end."""
    min_se_s: int = Field(default=90, ge=1, le=86_400)
    """Smallest session timer accepted (smaller: 422). RFC 4028 allows no less than 90; lower
    values are for tests."""
    user_agent: str = "voice-agent"
    tcp_port: int = Field(default=0, ge=0, le=65535)
    """SIP over TCP on listen_host at this port (0: off)."""
    tls_port: int = Field(default=0, ge=0, le=65535)
    """SIP over TLS on listen_host at this port (0: off; 5061 is the usual one); needs
    tls_certificate and tls_private_key."""
    tls_certificate: str | None = None
    """PEM certificate chain for SIP over TLS (a path)."""
    tls_private_key: str | None = None
    """PEM private key of tls_certificate (a path)."""
    srtp: Literal["off", "optional", "required"] = "optional"
    """SRTP with SDES keys (RFC 4568): "optional" accepts RTP/SAVP and RTP/AVP offers,
    "required" refuses plain RTP/AVP with 488, "off" refuses RTP/SAVP with 488."""
    transfer_to: str = ""
    """The team's SIP URI: a hand-off during the hours of policies [handoff] transfers the
    call there (REFER); empty: never, the call-back is promised as on the web."""
    transfer_timeout_s: float = Field(default=45.0, ge=1.0, le=600.0)
    """A transfer with no result by then has failed: the call goes on with the call-back."""

    @field_validator("transfer_to")
    @classmethod
    def _transfer_uri(cls, value: str) -> str:
        from voice_agent.protocol.sip.message import SipUri

        if value:
            SipUri.parse(value)  # SipParseError (a ValueError) says what is wrong with it
        return value

    @field_validator("advertised_host")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError(f"expected an IP address, not a host name: {value!r}") from None
        return value

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @model_validator(mode="after")
    def _ranges(self) -> SipSettings:
        if self.rtp_port_min > self.rtp_port_max:
            raise ValueError("rtp_port_min must not exceed rtp_port_max")
        if not self.jitter_min_ms <= self.jitter_initial_ms <= self.jitter_max_ms:
            raise ValueError("jitter bounds must satisfy min <= initial <= max")
        if self.tls_port and not (self.tls_certificate and self.tls_private_key):
            raise ValueError("tls_port needs tls_certificate and tls_private_key (PEM paths)")
        if self.min_se_s > self.session_expires_s:
            raise ValueError("min_se_s must not exceed session_expires_s")
        return self


class DeskSettings(Section):
    """The shop team's web app at /desk."""

    enabled: bool = True
    session_hours: float = Field(default=12.0, gt=0.0, le=24.0 * 30)
    """How long a sign-in lasts."""
    secure_cookie: Literal["auto", "always", "never"] = "auto"
    """The cookie's Secure flag: "auto" sets it unless the desk is reached over plain HTTP on
    a loopback address (a browser on the same machine); behind a TLS proxy, "always"."""


class WebhookSettings(Section):
    """Every action the agent takes for the shop, POSTed as signed JSON (at least once)."""

    url: str | None = None
    """Where to deliver; without one, actions wait in the outbox (and `data export`)."""
    secret: SecretStr | None = Field(default=None, min_length=16)
    """Key of the HMAC-SHA256 signature over each body; needed with a url."""
    timeout_s: float = Field(default=10.0, gt=0.0, le=120.0)
    backoff_initial_s: float = Field(default=2.0, gt=0.0, le=3600.0)
    backoff_max_s: float = Field(default=600.0, gt=0.0, le=86_400.0)
    poll_s: float = Field(default=1.0, gt=0.0, le=60.0)
    """How often the delivery loop looks for actions that are due."""

    @model_validator(mode="after")
    def _signed(self) -> WebhookSettings:
        if self.url is not None and self.secret is None:
            raise ValueError("webhooks.url needs webhooks.secret (at least 16 characters)")
        return self


class RecordingSettings(Section):
    """Call recordings: off unless turned on; the caller is told, and may object."""

    enabled: bool = False
    dir: Path = Path("var/recordings")
    """Relative paths resolve from the project root."""
    retention_days: int = Field(default=30, ge=1, le=3650)
    """`voice-agent data purge` without --before removes recordings and transcripts older."""
    notice: str | None = None
    """Said first in a recorded call's greeting; unset, the replies' ``recording.notice`` in
    the call's language ("This call is recorded so we can check how we did. ...")."""


class LiveKitSettings(Section):
    """`voice-agent livekit-worker`: the agent as a LiveKit Agents worker (docs/livekit.md)."""

    url: str | None = None
    """The LiveKit server, ws:// or wss:// (http(s):// is taken as the same); or LIVEKIT_URL."""
    api_key: str | None = None
    """Or LIVEKIT_API_KEY."""
    api_secret: SecretStr | None = None
    """Or LIVEKIT_API_SECRET."""
    agent_name: str = ""
    """Set: rooms get this agent only when it is dispatched by name (explicit dispatch)."""
    executor: Literal["thread", "process"] = "thread"
    """Where calls run: "thread", all in the worker's process, sharing one set of models and
    one inference scheduler as `serve` does; "process", one process per call, each loading
    the models itself."""
    idle_processes: int = Field(default=1, ge=0, le=64)
    """Warmed-up call runners kept waiting (each holds its models with "process")."""
    prewarm_timeout_s: float = Field(default=180.0, gt=0.0, le=3600.0)
    """How long a runner may take to load and warm up the models before it is given up."""
    drain_timeout_s: int = Field(default=900, ge=0, le=86_400)
    """On SIGTERM or SIGINT the worker takes no new calls and waits this long for the calls
    under way to end (0: without limit)."""
    health_port: int = Field(default=8081, ge=0, le=65_535)
    """The worker's HTTP health check (0: any free port)."""
    health_host: str = "127.0.0.1"


class Settings(Section):
    paths: PathsSettings = PathsSettings()
    models: ModelsSettings = ModelsSettings()
    asr: AsrSettings = AsrSettings()
    tts: TtsSettings = TtsSettings()
    vad: VadSettings = VadSettings()
    server: ServerSettings = ServerSettings()
    store: StoreSettings = StoreSettings()
    dialogue: DialogueSettings = DialogueSettings()
    languages: LanguageSettings = LanguageSettings()
    session: SessionSettings = SessionSettings()
    webrtc: WebRtcSettings = WebRtcSettings()
    sip: SipSettings = SipSettings()
    outbound: OutboundSettings = OutboundSettings()
    desk: DeskSettings = DeskSettings()
    webhooks: WebhookSettings = WebhookSettings()
    recordings: RecordingSettings = RecordingSettings()
    livekit: LiveKitSettings = LiveKitSettings()

    @model_validator(mode="after")
    def _offered_languages_have_voices(self) -> Settings:
        silent = [code for code in self.languages.offered if not self.tts.has_voice(code)]
        if silent:
            raise ValueError(
                f"languages.offered: no voice for {', '.join(silent)} "
                "(set tts.voices or tts.custom for it)"
            )
        return self


class SettingsError(Exception):
    """A configuration value was refused; the message names key, value, source and rule."""


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings tree from the default file, an optional file and the environment."""
    layers: list[tuple[str, dict[str, Any]]] = [(str(DEFAULT_CONFIG), _read_toml(DEFAULT_CONFIG))]
    if config_file is not None:
        layers.append((str(config_file), _read_toml(config_file)))
    environ = os.environ if environ is None else environ
    layers.append(("environment (LIVEKIT_*)", _livekit_env(environ)))
    layers.append(("environment", _env_tree(environ)))
    merged: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}
    for source, tree in layers:
        _merge(merged, tree, source, origins, ())
    try:
        return Settings.model_validate(merged)
    except ValidationError as error:
        raise SettingsError(_describe(error, origins)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return read_toml(path)
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except TomlTextError as error:
        raise SettingsError(f"config file {path} is not valid TOML: {error}") from None


def _env_tree(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = _env_value(raw)
    return tree


def _livekit_env(environ: Mapping[str, str]) -> dict[str, Any]:
    found = {key: environ[name] for name, key in LIVEKIT_ENV.items() if environ.get(name)}
    return {"livekit": found} if found else {}


def _env_value(raw: str) -> Any:
    # Lists and tables come as JSON; everything else stays a string for pydantic to coerce.
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _merge(
    into: dict[str, Any],
    layer: Mapping[str, Any],
    source: str,
    origins: dict[tuple[str, ...], str],
    prefix: tuple[str, ...],
) -> None:
    for key, value in layer.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value, source, origins, path)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value
            origins[path] = source


def _describe(error: ValidationError, origins: Mapping[tuple[str, ...], str]) -> str:
    lines = ["invalid configuration:"]
    for problem in error.errors():
        path = tuple(str(part) for part in problem["loc"])
        key = ".".join(path)
        source = next(
            (origins[path[:n]] for n in range(len(path), 0, -1) if path[:n] in origins), "default"
        )
        shown = "(missing)" if problem["type"] == "missing" else repr(problem.get("input"))
        reason = problem["msg"]
        if problem["type"] == "extra_forbidden":
            reason = "unknown key"
        lines.append(f"  {key} = {shown} (from {source}): {reason}")
    return "\n".join(lines)
