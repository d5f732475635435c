"""WhisperAsr on the real models with real (espeak-ng) speech, wideband and telephone."""

import asyncio
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

import pytest
from rapidfuzz.distance import Levenshtein
from whisper_normalizer.english import EnglishTextNormalizer

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.telephone import telephone_line, through_telephone
from voice_agent.bench.voices import ESPEAK_VOICES, EspeakVoice
from voice_agent.languages import SUPPORTED
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, ModelsSettings, PathsSettings
from voice_agent.stages.asr import Asr, AsrHint, Expect, Transcript
from voice_agent.stages.asr.digits import spoken_digits_to_text
from voice_agent.stages.asr.guards import as_numerals, repeated_ngrams, words_of
from voice_agent.stages.asr.whisper import WhisperAsr

pytestmark = pytest.mark.slow

P = ParamSpec("P")
T = TypeVar("T")

_normalize = EnglishTextNormalizer()

DIGIT_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
DIGIT_CLIPS = {
    "seven seven three one": "7731",
    "four five six seven eight": "45678",
    "nine nine zero two one one eight": "9902118",
    "three zero zero one": "3001",
    "eight two six six four": "82664",
    "one five nine two": "1592",
    "My order number is two eight one seven five": "28175",
    "zero six one one three": "06113",
}


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that counts the jobs given to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2, thread_name_prefix="test-asr")
        self.jobs = 0

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        self.jobs += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture(scope="module")
def models() -> ModelStore:
    return ModelStore(ModelsSettings(), PathsSettings())


@pytest.fixture(scope="module")
def executor() -> Iterator[CountingExecutor]:
    pool = CountingExecutor()
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def tiny(models: ModelStore, executor: CountingExecutor) -> WhisperAsr:
    asr = WhisperAsr(AsrSettings(), models, executor)
    asr.load()
    return asr


@pytest.fixture(scope="module")
def base(models: ModelStore, executor: CountingExecutor) -> WhisperAsr:
    asr = WhisperAsr(AsrSettings(model="whisper-base"), models, executor)
    asr.load()
    return asr


def speak(text: str, voice: str) -> AudioFrame:
    return EspeakVoice(voice).speak(text)


def transcribe(asr: Asr, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript:
    return asyncio.run(asr.transcribe(audio, hint))


def spoken_digits(text: str) -> str:
    """The digits in a transcript, written or spelled out (the same reading for every run)."""
    tokens = re.findall(r"[a-z]+|\d", text.lower())
    return "".join(
        DIGIT_WORDS.get(token, token) for token in tokens if token.isdigit() or token in DIGIT_WORDS
    )


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Where is my parcel?", ["where", "is", "my"]),
        ("I would like to return these shoes.", ["would", "like", "to", "return"]),
        ("Can I speak to a person please?", ["can", "i", "speak"]),
        ("My package has not arrived yet.", ["my", "package", "not", "yet"]),
        (
            "Hello, I am calling about a lost parcel that was sent three weeks ago from China.",
            ["calling", "about", "parcel", "weeks", "from", "china"],
        ),
    ],
)
def test_transcripts_contain_the_spoken_words(
    tiny: WhisperAsr, phrase: str, expected: list[str]
) -> None:
    for voice in ESPEAK_VOICES:
        wideband = transcribe(tiny, speak(phrase, voice))
        words = set(_normalize(wideband.text).split())
        assert set(expected) <= words, (voice, wideband.text)
        assert wideband.path == "fast"
        assert wideband.language == "en"
        assert 0.3 < wideband.confidence <= 1.0
        phone = transcribe(tiny, through_telephone(speak(phrase, voice)))
        heard = set(_normalize(phone.text).split()) & set(expected)
        assert len(heard) >= len(expected) / 2, (voice, phone.text)


def test_timings_are_reported_for_every_step(tiny: WhisperAsr) -> None:
    result = transcribe(tiny, speak("Where is my parcel?", "en-us"))
    steps = ("resample_ms", "features_ms", "encode_ms", "decode_ms", "total_ms")
    assert set(steps) <= set(result.timings)
    assert all(result.timings[step] >= 0 for step in steps)
    assert result.timings["total_ms"] >= result.timings["encode_ms"] + result.timings["decode_ms"]


def test_telephone_audio_at_8_khz_is_resampled(tiny: WhisperAsr) -> None:
    line = telephone_line(speak("I would like to return these shoes.", "en-us+m7"))
    assert line.rate == 8000
    result = transcribe(tiny, line)
    assert {"return", "like"} <= set(_normalize(result.text).split()), result.text


def test_inference_runs_in_the_given_executor(tiny: WhisperAsr, executor: CountingExecutor) -> None:
    before = executor.jobs
    transcribe(tiny, speak("yes", "en-gb+f3"))
    assert executor.jobs == before + 1


def test_concurrent_calls_share_the_model_safely(tiny: WhisperAsr) -> None:
    phrases = ["Where is my parcel?", "I would like to return these shoes."]
    clips = [speak(phrase, "en-us+m7") for phrase in phrases]
    alone = [transcribe(tiny, clip).text for clip in clips]

    async def together() -> list[Transcript]:
        return list(await asyncio.gather(*(tiny.transcribe(clip) for clip in clips)))

    assert [result.text for result in asyncio.run(together())] == alone


def test_warming_up_runs_the_stock_path_without_and_with_word_times(
    tiny: WhisperAsr, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes: list[bool] = []
    stock = tiny._stock

    def counted(*args: Any) -> Any:
        passes.append(bool(args[4]))
        return stock(*args)

    monkeypatch.setattr(tiny, "_stock", counted)
    tiny.warm_up_stock_path(speak("Hello, how can I help?", "en-us"))
    assert passes == [False, True]


def test_the_model_is_loaded_once_per_process(
    tiny: WhisperAsr, models: ModelStore, executor: CountingExecutor
) -> None:
    another = WhisperAsr(AsrSettings(beam_size=1), models, executor)
    assert another.model is tiny.model


def test_fast_path_never_loops(tiny: WhisperAsr) -> None:
    phrases = [
        "yes",
        "no",
        "okay",
        "yes yes",
        "thank you",
        "no no no, the blue one",
        "seven seven three one",
        "one one one two",
        "My email is john dot smith at gmail dot com",
        "I already told you, my parcel is lost, lost, completely lost.",
    ]
    for phrase in phrases:
        allowed = repeated_ngrams(words_of(phrase))
        for voice in ESPEAK_VOICES:
            audio = speak(phrase, voice)
            for clip in (audio, through_telephone(audio)):
                result = transcribe(tiny, clip)
                # A phrase that repeats itself may rightly be sent to the stock path by the
                # loop guard; any other fallback would mean the fast path's output was bad.
                assert result.path == "fast" or allowed, (phrase, voice, result.text)
                loops = repeated_ngrams(words_of(result.text)) - allowed
                assert not loops, (phrase, voice, result.text)


def test_repeated_digits_come_out_intact(tiny: WhisperAsr) -> None:
    for voice in ESPEAK_VOICES:
        result = transcribe(tiny, speak("seven seven three one", voice), AsrHint(Expect.DIGITS))
        assert spoken_digits(result.text) == "7731", (voice, result.text)
        assert result.text.startswith("7 7 3 1")


def test_digits_hint_improves_digit_accuracy(tiny: WhisperAsr) -> None:
    plain_exact = hinted_exact = plain_errors = hinted_errors = total_digits = 0
    for voice in ESPEAK_VOICES:
        for phrase, digits in DIGIT_CLIPS.items():
            audio = speak(phrase, voice)
            plain = spoken_digits(transcribe(tiny, audio).text)
            hinted = spoken_digits(transcribe(tiny, audio, AsrHint(Expect.DIGITS)).text)
            plain_exact += plain == digits
            hinted_exact += hinted == digits
            plain_errors += edit_distance(plain, digits)
            hinted_errors += edit_distance(hinted, digits)
            total_digits += len(digits)
    clips = len(ESPEAK_VOICES) * len(DIGIT_CLIPS)
    # Measured: 22 of 32 clips exact without the hint, 28 with it; 14 vs 4 digit errors.
    assert hinted_exact >= plain_exact + clips // 8, (plain_exact, hinted_exact, clips)
    assert hinted_errors < plain_errors, (plain_errors, hinted_errors, total_digits)


def test_digits_hint_writes_spoken_repeats_as_digits(tiny: WhisperAsr) -> None:
    result = transcribe(tiny, speak("four, double seven, two", "en-us"), AsrHint(Expect.DIGITS))
    assert spoken_digits(result.text) == "4772", result.text


def test_bad_fast_output_falls_back_to_the_stock_path(models: ModelStore) -> None:
    # A budget of ~10 tokens cannot hold this sentence: the fast path is cut off, stock answers.
    settings = AsrSettings(tokens_per_second=0.01)
    with ThreadPoolExecutor(max_workers=1) as pool:
        asr = WhisperAsr(settings, models, pool)
        phrase = "Hello, I am calling about a lost parcel that was sent three weeks ago from China."
        result = transcribe(asr, speak(phrase, "en-us"))
    assert result.path == "stock"
    assert {"calling", "parcel", "weeks", "china"} <= set(_normalize(result.text).split())
    assert {"encode_ms", "decode_ms", "stock_ms"} <= set(result.timings)


@pytest.mark.parametrize(
    ("phrase", "cut_short", "digits"),
    [
        # Neither in the check's tuning sets nor in the benchmark's; each with a reading the
        # fast path (whole) or the stream (streamed) gave of it once, cut short.
        (
            "It is plus three one, two three six four, three six four, eight nine.",
            "It is plus 3 1 2 3 6 4 3 6",
            "31236436489",
        ),
        (
            "You can reach me on plus four four, seven seven zero zero, nine one two, three four"
            " five.",
            "You can reach me on plus 4 for 7 7, 7 0 0 and I want to 3 4 5",
            "447700912345",
        ),
    ],
)
def test_a_long_number_read_cut_short_is_heard_whole_by_the_check(
    models: ModelStore, phrase: str, cut_short: str, digits: str
) -> None:
    """The check's stock pass on the real audio, given the cut-short reading: the fast path's
    and the stream's own readings of a long number differed between a whole-suite run and a
    run of the file alone (seen twice, cause not found), so this tests the check, and the
    whole-pass and streamed wiring is tested with fakes (test_fallbacks.py). Within two
    digits: a near miss is the read-back's to catch; the cut-short readings are 4+ off."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        asr = WhisperAsr(AsrSettings(), models, pool)
        streamed = Transcript(text=cut_short, language="en", confidence=0.5, path="streamed")
        checked = asyncio.run(
            asr.number_checked(streamed, speak(phrase, "en-gb+f3"), AsrHint(Expect.EMAIL))
        )
    assert checked is not None and checked.path == "stock"
    heard = re.sub(r"\D", "", spoken_digits_to_text(checked.text))
    assert Levenshtein.distance(heard, digits) <= 2, checked.text
    assert "stock_ms" in checked.timings


def test_stock_path_when_the_fast_path_is_off(models: ModelStore) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        asr = WhisperAsr(AsrSettings(fast_path=False), models, pool)
        result = transcribe(asr, speak("Where is my parcel?", "en-gb+f3"))
    assert result.path == "stock"
    assert {"where", "my"} <= set(_normalize(result.text).split())
    assert 0.0 < result.confidence <= 1.0


def test_empty_audio_gives_an_empty_transcript(tiny: WhisperAsr) -> None:
    result = transcribe(tiny, AudioFrame.silence(0.0, PIPELINE_RATE))
    assert result.text == ""
    assert result.confidence == 0.0


@pytest.mark.parametrize(
    ("voice", "phrase"),
    [
        ("de", "Wo ist mein Paket? Es ist noch nicht angekommen."),
        ("es", "Quiero devolver estos zapatos."),
    ],
)
def test_multilingual_model_names_the_language(base: WhisperAsr, voice: str, phrase: str) -> None:
    result = transcribe(base, speak(phrase, voice))
    assert result.language == voice
    assert result.path == "fast"
    assert "language_ms" in result.timings


def test_a_language_hint_skips_detection(base: WhisperAsr) -> None:
    result = transcribe(base, speak("Wo ist mein Paket?", "de"), AsrHint(language="de-DE"))
    assert result.language == "de"
    assert "language_ms" not in result.timings
    assert "second_look_ms" not in result.timings
    assert "paket" in result.text.lower()


def test_english_only_model_reports_english(tiny: WhisperAsr) -> None:
    result = transcribe(tiny, speak("Where is my parcel?", "en-us"), AsrHint(language="de"))
    assert result.language == "en"


# --- other languages than English (whisper-base, the language fixed as a call's hint does) ----

LANGUAGE_REQUESTS = {
    # language: (voice, request, stems of which most must be heard)
    "de": (
        "de",
        "Guten Tag, mein Paket ist noch nicht angekommen.",
        ("guten", "tag", "paket", "noch", "nicht", "angekommen"),
    ),
    "es": (
        "es",
        "Buenos días, mi paquete todavía no ha llegado.",
        ("buenos", "días", "paquete", "todavía", "llegado"),
    ),
}


def _heard_stems(text: str, stems: tuple[str, ...]) -> set[str]:
    words = words_of(text)
    return {stem for stem in stems if any(word.startswith(stem[:5]) for word in words)}


@pytest.mark.parametrize("language", sorted(LANGUAGE_REQUESTS))
def test_a_fixed_language_is_heard_on_the_fast_path(base: WhisperAsr, language: str) -> None:
    voice, request, stems = LANGUAGE_REQUESTS[language]
    audio = speak(request, voice)
    for clip, share in ((audio, 0.8), (through_telephone(audio), 0.5)):
        result = transcribe(base, clip, AsrHint(language=language))
        assert result.path == "fast", result.text
        assert result.language == language
        assert result.language_probability is None  # given, not detected
        assert "language_ms" not in result.timings
        assert len(_heard_stems(result.text, stems)) >= share * len(stems), result.text


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        ("de", ["ja", "nein", "danke", "nein, nein, nein, das blaue", "sieben sieben drei eins"]),
        ("es", ["sí", "no", "gracias", "no, no, no, el azul", "siete siete tres uno"]),
    ],
)
def test_the_fast_path_guards_hold_in_german_and_spanish(
    models: ModelStore, executor: CountingExecutor, language: str, phrases: list[str]
) -> None:
    reasons: list[str] = []
    base = WhisperAsr(AsrSettings(model="whisper-base"), models, executor, reasons.append)
    voice = LANGUAGE_REQUESTS[language][0]
    for phrase in phrases:
        allowed = repeated_ngrams(words_of(phrase))
        audio = speak(phrase, voice)
        for clip in (audio, through_telephone(audio)):
            reasons.clear()
            result = transcribe(base, clip, AsrHint(language=language))
            assert result.language == language
            # The loop guard reads digits said in words as numbers ("sieben sieben" is 7 7):
            # only a phrase that repeats itself may be taken for a loop. A garbled reading may
            # still go to the stock path for its length (the budget), which is the guard's
            # job; which way a marginal clip goes differs between CPUs, so it is not asserted.
            assert "fast_loop" not in reasons or allowed, (phrase, result.text, reasons)
            if not reasons:
                assert result.path == "fast", (phrase, result.text)
            # A phrase that repeats itself may rightly go to the stock path, and be misheard
            # ("nein, nein, nein" as "ein, ein, ein"), but never run on as a loop does.
            assert len(words_of(result.text)) <= len(words_of(phrase)) + 2, result.text


@pytest.mark.parametrize(
    ("language", "phrase", "digits", "word"),
    [
        ("de", "Die Nummer ist drei acht fünf eins sieben.", "38517", "nummer"),
        ("es", "El número es tres ocho cinco uno siete.", "38517", "número"),
    ],
)
def test_expected_digits_are_written_as_digits_in_the_callers_language(
    base: WhisperAsr, language: str, phrase: str, digits: str, word: str
) -> None:
    voice = LANGUAGE_REQUESTS[language][0]
    result = transcribe(base, speak(phrase, voice), AsrHint(Expect.DIGITS, language=language))
    assert result.language == language
    assert word in result.text.lower(), result.text  # the words around the number stay
    assert re.search(r"\d \d \d", result.text), result.text  # digits, one by one
    # Within two digits: whisper-base hears espeak's digits less well than tiny.en English.
    assert Levenshtein.distance(re.sub(r"\D", "", result.text), digits) <= 2, result.text


@pytest.mark.parametrize(
    ("language", "phrase", "cut_short", "digits"),
    [
        (
            "de",
            "Sie erreichen mich unter null eins fünf zwei, acht drei sieben, vier sechs neun.",
            "Sie erreichen mich unter 0 1 5 2 8 3",
            "0152837469",
        ),
        (
            "es",
            "Mi teléfono es seis uno cinco ocho tres siete cuatro seis nueve.",
            "Mi teléfono es seis uno cinco ocho tres siete",
            "615837469",
        ),
    ],
)
def test_a_long_number_cut_short_is_checked_in_the_callers_language(
    models: ModelStore, language: str, phrase: str, cut_short: str, digits: str
) -> None:
    """As the English check above, in German and Spanish (the Spanish reading holds its digits
    as words, which the check counts in Spanish): the stock path's reading answers, and it is
    nearer the number said than the cut-short one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        asr = WhisperAsr(AsrSettings(model="whisper-base"), models, pool)
        streamed = Transcript(cut_short, language, 0.5, path="streamed")
        audio = speak(phrase, LANGUAGE_REQUESTS[language][0])
        checked = asyncio.run(asr.number_checked(streamed, audio, AsrHint(Expect.EMAIL)))
    assert checked is not None and checked.path == "stock"
    assert checked.language == language
    heard = re.sub(r"\D", "", as_numerals(checked.text, language))
    cut = re.sub(r"\D", "", as_numerals(cut_short, language))
    assert Levenshtein.distance(heard, digits) < Levenshtein.distance(cut, digits), checked.text


@pytest.mark.parametrize("language", sorted(LANGUAGE_REQUESTS))
def test_the_language_is_detected_among_candidates(
    base: WhisperAsr, executor: CountingExecutor, language: str
) -> None:
    voice, request, _ = LANGUAGE_REQUESTS[language]
    before = executor.jobs
    guess = asyncio.run(base.detect_language(speak(request, voice), SUPPORTED))
    assert executor.jobs == before + 1
    assert guess.language == language
    assert 0.5 < guess.probability <= 1.0
    assert guess.ms > 0


def test_detection_ranks_only_the_candidates(base: WhisperAsr) -> None:
    voice, request, _ = LANGUAGE_REQUESTS["de"]
    guess = base.detect_language_blocking(speak(request, voice), ("fr", "pt"))
    assert guess.language in ("fr", "pt")
    assert 0.5 <= guess.probability <= 1.0  # a share of the two candidates' probability


def test_detection_refuses_what_it_cannot_do(base: WhisperAsr, tiny: WhisperAsr) -> None:
    audio = speak("Wo ist mein Paket?", "de")
    with pytest.raises(ValueError, match="English-only"):
        tiny.detect_language_blocking(audio, SUPPORTED)
    with pytest.raises(ValueError, match="at least one candidate"):
        base.detect_language_blocking(audio, ())
    with pytest.raises(ValueError, match="unknown"):
        base.detect_language_blocking(audio, ("de", "xx"))
    with pytest.raises(ValueError, match="no audio"):
        base.detect_language_blocking(AudioFrame.silence(0.0, PIPELINE_RATE), SUPPORTED)


def test_a_detected_language_comes_with_its_probability(base: WhisperAsr) -> None:
    voice, request, _ = LANGUAGE_REQUESTS["es"]
    result = transcribe(base, speak(request, voice))
    assert result.language == "es"
    assert result.language_probability is not None
    assert 0.0 < result.language_probability <= 1.0


def test_a_call_followed_into_another_language_is_not_transcribed_into_the_old_one(
    base: WhisperAsr,
) -> None:
    """A German call's caller switches to English: decoded in German, the words come out
    Germanised ("Ich would like..."); followed, the turn is decoded in English."""
    audio = speak("Sorry, can we continue in English? Who do I pay the duties to?", "en-us")
    kept = transcribe(base, audio, AsrHint(language="de"))
    followed = transcribe(base, audio, AsrHint(language="de", follow=True))
    assert kept.language == "de" and kept.language_probability is None
    assert followed.language == "en"
    assert followed.language_probability is not None and followed.language_probability >= 0.8
    assert {"duties", "english"} <= set(re.findall(r"[a-z]+", followed.text.lower()))


def test_following_keeps_the_calls_language_when_the_turn_is_in_it(base: WhisperAsr) -> None:
    voice, request, _ = LANGUAGE_REQUESTS["de"]
    result = transcribe(base, speak(request, voice), AsrHint(language="de", follow=True))
    assert result.language == "de" and result.language_probability is None
    assert "language_ms" in result.timings  # identified, and kept


# --- a second look at a doubtful language guess (open-language passes) ------------------------

SECOND_LOOK_CLIPS = {
    # language: (voice, first utterance, stems of which most must be heard)
    "de": ("de", "Guten Tag, mein Paket ist noch nicht angekommen.", ("guten", "paket", "nicht")),
    # Whisper's language token takes this voice for Spanish; the readings hear Portuguese.
    "pt": ("pt-br+m4", "Bom dia, preciso de ajuda com uma devolução.", ("bom", "preciso", "ajuda")),
}


@pytest.fixture(scope="module")
def looking_twice(models: ModelStore, executor: CountingExecutor) -> WhisperAsr:
    """whisper-base detecting among the five, every guess given a second look (how doubtful
    a guess must be is measured by benchmarks/asr_lid.py; these tests check the path)."""
    settings = AsrSettings(model="whisper-base", detect_languages=SUPPORTED, lid_recheck_below=1.0)
    asr = WhisperAsr(settings, models, executor)
    asr.load()
    return asr


@pytest.mark.parametrize("language", sorted(SECOND_LOOK_CLIPS))
def test_a_second_look_hears_the_callers_language(looking_twice: WhisperAsr, language: str) -> None:
    voice, said, stems = SECOND_LOOK_CLIPS[language]
    result = transcribe(looking_twice, speak(said, voice))
    assert "second_look_ms" in result.timings
    assert result.language == language, result.text
    assert result.language_probability is not None
    # On the language token's scale: espeak's Portuguese is heard partly as other languages
    # than the five, so how sure the pick is may be low; it is never more than certain.
    assert 0.0 < result.language_probability <= 1.0
    assert len(_heard_stems(result.text, stems)) >= 2, result.text


def test_a_sure_guess_takes_no_second_look(base: WhisperAsr) -> None:
    voice, said, _ = SECOND_LOOK_CLIPS["de"]
    result = transcribe(base, speak(said, voice))
    assert result.language == "de"
    assert "second_look_ms" not in result.timings


def test_a_first_utterance_keeps_its_language_probability_through_a_fallback(
    models: ModelStore,
) -> None:
    # A budget of ~10 tokens cannot hold this sentence: the stock path decodes it, in the
    # language the fast path identified, and how sure that was is still reported.
    settings = AsrSettings(model="whisper-base", detect_languages=SUPPORTED, tokens_per_second=0.01)
    with ThreadPoolExecutor(max_workers=1) as pool:
        asr = WhisperAsr(settings, models, pool)
        said = "Guten Tag, mein Paket ist noch nicht angekommen, und ich warte seit drei Wochen."
        result = transcribe(asr, speak(said, "de"))
    assert result.path == "stock"
    assert result.language == "de"
    assert result.language_probability is not None
    assert 0.5 <= result.language_probability <= 1.0
