"""The voice of each language: Piper models (from the manifest or the operator's own) and
espeak-ng, the floor where no natural offline voice is packaged.

A voice turns one clause of text into float audio at its own sample rate, in a worker thread,
and stops when the clause's `Cancellation` is cancelled from another thread: Piper inside
onnxruntime (``RunOptions.terminate``), espeak-ng by killing its process.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import threading
import wave
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime
from piper import PiperVoice
from piper.config import PiperConfig

from voice_agent.audio.frame import Float32Array
from voice_agent.languages import SUPPORTED, language_of_tag
from voice_agent.models import ModelError, ModelStore, sha256_of
from voice_agent.settings import CustomVoiceSettings, TtsSettings

logger = logging.getLogger(__name__)

ESPEAK_VOICES = {
    "espeak-ng-en-us": "en-us",
    "espeak-ng-de": "de",
    "espeak-ng-es": "es",
    "espeak-ng-fr": "fr",
    "espeak-ng-pt-br": "pt-br",
}
"""espeak-ng voices by id (``tts.voices``) and espeak-ng's own name for each."""
ESPEAK_SENTENCE_WORDS = 40
"""espeak-ng renders a whole sentence in ~20 ms, so its replies are cut at punctuation only:
cutting between words (which Piper's latency needs) made its joins choppy and Whisper heard
fewer words ("kommt am Freitag" became "Kondamphreiter")."""
ESPEAK_WORDS_PER_MINUTE = 160
"""espeak-ng's rate at length scale 1 (its default 175 rushes numbers and names)."""
ESPEAK_TIMEOUT_S = 30.0
NOISE_SEED = 20_251_125
"""Piper's voice draws random noise for each sentence: a fixed seed makes a process speak the
same replies the same way every run (reproducible tests, benchmarks and bug reports)."""


class VoiceError(ModelError):
    """A language has no voice, a voice id is unknown, or a voice's files are not the ones
    configured; the message names the setting to change."""


class SynthesisCancelledError(Exception):
    """A clause's synthesis was stopped by its Cancellation."""


class Cancellation:
    """Stops one clause's synthesis from any thread, whichever engine is rendering it."""

    def __init__(self) -> None:
        self.run_options = onnxruntime.RunOptions()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            self.run_options.terminate = True
            process = self._process
        if process is not None:
            process.kill()

    def watch(self, process: subprocess.Popen[bytes]) -> None:
        """Kill `process` on cancel (at once if already cancelled)."""
        with self._lock:
            self._process = process
            cancelled = self._cancelled
        if cancelled:
            process.kill()


class Voice(Protocol):
    """One language's voice: text of one clause in, float audio at `sample_rate` out."""

    @property
    def id(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    def render(self, text: str, length_scale: float, cancellation: Cancellation) -> Float32Array:
        """Raises SynthesisCancelledError (or the engine's own error) once cancelled."""
        ...


class PiperModel:
    """A Piper voice on an onnxruntime session built with our thread settings."""

    def __init__(self, voice: PiperVoice, voice_id: str = "piper") -> None:
        self._voice = voice
        self._config: PiperConfig = voice.config
        self.id = voice_id
        self.sample_rate: int = self._config.sample_rate

    def render(
        self,
        text: str,
        length_scale: float,
        cancellation: Cancellation | onnxruntime.RunOptions,
    ) -> Float32Array:
        """Float audio of `text` (every sentence espeak finds in it, joined)."""
        run_options = (
            cancellation.run_options if isinstance(cancellation, Cancellation) else cancellation
        )
        parts: list[Float32Array] = []
        for phonemes in self._voice.phonemize(text):
            if not phonemes:
                continue
            ids = self._voice.phonemes_to_ids(phonemes)
            parts.append(self._run(ids, length_scale, run_options))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def _run(
        self, ids: list[int], length_scale: float, run_options: onnxruntime.RunOptions
    ) -> Float32Array:
        config = self._config
        inputs = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array(
                [config.noise_scale, config.length_scale * length_scale, config.noise_w_scale],
                dtype=np.float32,
            ),
        }
        if config.num_speakers > 1:
            inputs["sid"] = np.array([config.default_speaker_id], dtype=np.int64)
        outputs = self._voice.session.run(None, inputs, run_options)
        return np.asarray(outputs[0], dtype=np.float32).reshape(-1)


_MODELS: dict[tuple[Path, int], PiperModel] = {}
_MODELS_LOCK = threading.Lock()


def load_model(
    model_path: Path, config_path: Path, threads: int, voice_id: str | None = None
) -> PiperModel:
    """The process-wide model for this file and thread count (loaded once, ~0.5 s)."""
    key = (model_path, threads)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            onnxruntime.set_seed(NOISE_SEED)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            model = PiperModel(PiperVoice(session=session, config=config), voice_id or "piper")
            _MODELS[key] = model
            logger.info("loaded Piper voice %s (%d threads)", model_path.name, threads)
        return model


class EspeakVoice:
    """espeak-ng as a voice: one short-lived process per clause (10-30 ms to start here)."""

    sample_rate = 22_050

    def __init__(self, voice_id: str, espeak_name: str, binary: str) -> None:
        self.id = voice_id
        self._name = espeak_name
        self._binary = binary

    def render(self, text: str, length_scale: float, cancellation: Cancellation) -> Float32Array:
        if cancellation.cancelled:
            raise SynthesisCancelledError(text)
        rate = max(80, round(ESPEAK_WORDS_PER_MINUTE / length_scale))
        # Text on stdin (-b 1: UTF-8), so a clause starting with "-" is never read as an option.
        process = subprocess.Popen(
            [self._binary, "-v", self._name, "-s", str(rate), "-b", "1", "--stdout"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        cancellation.watch(process)
        try:
            wav, errors = process.communicate(text.encode("utf-8"), timeout=ESPEAK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise VoiceError(f"espeak-ng ({self._name}) took over {ESPEAK_TIMEOUT_S} s") from None
        if cancellation.cancelled:
            raise SynthesisCancelledError(text)
        if process.returncode != 0:
            raise VoiceError(f"espeak-ng ({self._name}) failed: {errors.decode(errors='replace')}")
        return _wav_floats(wav)


def _wav_floats(wav: bytes) -> Float32Array:
    # espeak-ng streams its WAV: the header's length is a placeholder, so read to the end.
    with wave.open(io.BytesIO(wav), "rb") as handle:
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    return (samples.astype(np.float32) / 32768.0).astype(np.float32)


class Voices:
    """Each language's voice, loaded on first use and shared by every call."""

    def __init__(self, settings: TtsSettings, models: ModelStore) -> None:
        self._settings = settings
        self._models = models
        self._loaded: dict[str, Voice] = {}
        self._lock = threading.Lock()

    def voice_id(self, language: str) -> str:
        """The id of `language`'s voice ("pt-BR" reads as "pt"); VoiceError if it has none."""
        code = language_of_tag(language) or language
        if code in self._settings.custom:
            return f"custom-{code}"
        if code not in SUPPORTED:
            raise VoiceError(
                f"no voice for language {language!r}: the agent speaks {', '.join(SUPPORTED)}"
            )
        voice_id = self._settings.voices.get(code)
        if voice_id is None:
            spoken = ", ".join(sorted({*self._settings.voices, *self._settings.custom}))
            raise VoiceError(
                f"no voice for language {language!r}: set tts.voices.{code} or "
                f"tts.custom.{code} (voices are set for: {spoken})"
            )
        return voice_id

    def is_fast(self, voice_id: str) -> bool:
        """Whether the voice renders whole sentences faster than a short clause needs."""
        return voice_id in ESPEAK_VOICES

    def get(self, language: str) -> Voice:
        """`language`'s voice, loading it (and checking its files) the first time."""
        voice_id = self.voice_id(language)
        with self._lock:
            voice = self._loaded.get(voice_id)
            if voice is None:
                voice = self._load(language_of_tag(language) or language, voice_id)
                self._loaded[voice_id] = voice
        return voice

    def _load(self, language: str, voice_id: str) -> Voice:
        custom = self._settings.custom.get(language)
        if custom is not None:
            return _custom_voice(language, custom, self._settings.onnx_threads)
        espeak_name = ESPEAK_VOICES.get(voice_id)
        if espeak_name is not None:
            binary = shutil.which("espeak-ng")
            if binary is None:
                raise VoiceError(
                    f"tts.voices.{language} = {voice_id!r} needs espeak-ng "
                    "(scripts/system-deps.sh installs it)"
                )
            logger.info("voice of %s: espeak-ng %s (the floor)", language, espeak_name)
            return EspeakVoice(voice_id, espeak_name, binary)
        return self._manifest_voice(language, voice_id)

    def _manifest_voice(self, language: str, voice_id: str) -> PiperModel:
        if voice_id not in self._models.specs:
            known = sorted(
                [i for i, spec in self._models.specs.items() if spec.role == "tts"]
                + list(ESPEAK_VOICES)
            )
            raise VoiceError(
                f"tts.voices.{language} = {voice_id!r} is no known voice; known: {', '.join(known)}"
            )
        spec = self._models.spec(voice_id)
        onnx = next((f.name for f in spec.files if f.name.endswith(".onnx")), None)
        if spec.role != "tts" or onnx is None:
            raise VoiceError(f"tts.voices.{language} = {voice_id!r} is not a Piper voice")
        return load_model(
            self._models.file(voice_id, onnx),
            self._models.file(voice_id, onnx + ".json"),
            self._settings.onnx_threads,
            voice_id,
        )


def _custom_voice(language: str, custom: CustomVoiceSettings, threads: int) -> PiperModel:
    """The operator's Piper voice, refused unless both files have the configured sha256."""
    onnx = custom.onnx.expanduser()
    config = custom.config.expanduser()
    _check_file(language, "onnx", onnx, custom.onnx_sha256)
    _check_file(language, "config", config, custom.config_sha256)
    return load_model(onnx, config, threads, f"custom-{language}")


def _check_file(language: str, key: str, path: Path, expected: str) -> None:
    if not path.is_file():
        raise VoiceError(f"tts.custom.{language}.{key}: no file at {path}")
    actual = sha256_of(path)
    if actual != expected:
        raise VoiceError(
            f"tts.custom.{language}.{key}: {path} has sha256 {actual}, but "
            f"tts.custom.{language}.{key}_sha256 is {expected}; refusing to load it "
            "(a different or altered file: check the path, or set the new digest if you "
            "replaced the voice on purpose)"
        )
