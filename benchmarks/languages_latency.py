"""Voice-to-voice per language, from a `voice-agent bench` report of the language scenarios.

    python -m benchmarks.languages_latency [REPORT_DIR] [--out FILE] [--transport sip]

REPORT_DIR holds the report.json of a run such as::

    voice-agent bench --serve --scenarios benchmarks/scenarios-languages --hint both \\
        --turns 9 --receive arrival --out benchmarks/results/bench-languages

It writes a summary (default benchmarks/results/languages-latency.md): per language,
voice-to-voice p50/p95 hinted, identified and both together, and the difference to English
against the goal "within 100 ms of English"; the first caller turn (where a call without a
hint is identified) apart from the later ones; the agent's own stage marks, its first
synthesized audio (TTS) per language's voice; and how often the reply held the right words.
All figures are from one transport (default webrtc) and one receive mode (arrival: the
network's truth), on a clean line at 1 call.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice_agent.bench.results import Percentiles

RESULTS = Path(__file__).parent / "results"
LANGUAGE_ORDER = ("en", "de", "es", "fr", "pt")
BASELINE = "en"
WITHIN_MS = 100.0
"""The goal: every language's voice-to-voice within this much of English's."""
RECEIVE = "arrival"


@dataclass(frozen=True, slots=True)
class Turn:
    """One caller turn that the agent answered, as report.json has it."""

    language: str
    hinted: bool
    index: int
    """The caller line's place in its call (0: the first, where identification happens)."""
    voice_to_voice_ms: float
    stages_ms: Mapping[str, float]
    content_ok: bool | None


def load_turns(report: Mapping[str, Any], transport: str = "webrtc") -> list[Turn]:
    """The answered turns of every clean 1-call series in a language over `transport`, in the
    receive mode."""
    turns = []
    for run in report["runs"]:
        if run["receive"] != RECEIVE or run["profile"] != "clean" or run["calls"] != 1:
            continue
        if run["transport"] != transport:
            continue
        if run.get("language") is None:
            continue
        for detail in run["turns_detail"]:
            if detail["voice_to_voice_ms"] is None:
                continue
            turns.append(
                Turn(
                    language=run["language"],
                    hinted=bool(run["hinted"]),
                    index=int(detail["turn"]),
                    voice_to_voice_ms=float(detail["voice_to_voice_ms"]),
                    stages_ms=detail.get("stages_ms") or {},
                    content_ok=detail.get("content_ok"),
                )
            )
    return turns


def languages_of(turns: Iterable[Turn]) -> list[str]:
    found = {turn.language for turn in turns}
    return [code for code in LANGUAGE_ORDER if code in found] + sorted(found - set(LANGUAGE_ORDER))


Select = Callable[[Turn], bool]


def percentiles(turns: Iterable[Turn], select: Select = lambda _: True) -> Percentiles | None:
    return Percentiles.of([t.voice_to_voice_ms for t in turns if select(t)])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0f}"


def _p(stats: Percentiles | None) -> list[str]:
    """p50, p95, n."""
    if stats is None:
        return ["-", "-", "0"]
    return [_ms(stats.p50), _ms(stats.p95), str(stats.count)]


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def voice_to_voice_rows(turns: list[Turn]) -> list[list[str]]:
    """Per language: hinted, identified, both; both's difference to English and the verdict."""
    rows = []
    english = percentiles(turns, lambda t: t.language == BASELINE)
    english_hinted = percentiles(turns, lambda t: t.language == BASELINE and t.hinted)
    for language in languages_of(turns):
        mine = [t for t in turns if t.language == language]
        both = percentiles(mine)
        hinted = percentiles(mine, lambda t: t.hinted)
        delta50 = both.p50 - english.p50 if both and english else None
        delta95 = both.p95 - english.p95 if both and english else None
        hinted50 = hinted.p50 - english_hinted.p50 if hinted and english_hinted else None
        verdict = "-"
        if language != BASELINE and delta50 is not None and delta95 is not None:
            worst = max(delta50, delta95)
            verdict = "yes" if worst <= WITHIN_MS else f"no (+{worst - WITHIN_MS:.0f} ms over)"
        rows.append(
            [
                language,
                *_p(hinted),
                *_p(percentiles(mine, lambda t: not t.hinted)),
                *_p(both),
                _signed(delta50) if language != BASELINE else "",
                _signed(delta95) if language != BASELINE else "",
                _signed(hinted50) if language != BASELINE else "",
                verdict,
            ]
        )
    return rows


def first_turn_rows(turns: list[Turn]) -> list[list[str]]:
    """The first caller line (a call without a hint is identified on it) against the rest."""
    rows = []
    for language in languages_of(turns):
        mine = [t for t in turns if t.language == language]
        cells = []
        for hinted in (True, False):
            series = [t for t in mine if t.hinted is hinted]
            first = percentiles(series, lambda t: t.index == 0)
            later = percentiles(series, lambda t: t.index > 0)
            cells += [
                _ms(first.p50 if first else None) + f" (n={first.count if first else 0})",
                _ms(later.p50 if later else None) + f" (n={later.count if later else 0})",
            ]
        rows.append([language, *cells])
    return rows


STAGE_MARKS = ("asr_final", "endpoint", "reply_first_text", "tts_first_audio", "first_audio_sent")


def _mark(turns: Iterable[Turn], name: str) -> Percentiles | None:
    return Percentiles.of([t.stages_ms[name] for t in turns if name in t.stages_ms])


def synthesis_ms(turn: Turn) -> float | None:
    """The agent's first synthesized audio after its first reply text: the voice's share."""
    marks = turn.stages_ms
    if "tts_first_audio" not in marks or "reply_first_text" not in marks:
        return None
    return marks["tts_first_audio"] - marks["reply_first_text"]


def stage_rows(turns: list[Turn], voices: Mapping[str, str]) -> list[list[str]]:
    rows = []
    for language in languages_of(turns):
        mine = [t for t in turns if t.language == language]
        marks = [_mark(mine, name) for name in STAGE_MARKS]
        synthesis = Percentiles.of([ms for t in mine if (ms := synthesis_ms(t)) is not None])
        rows.append(
            [
                language,
                voices.get(language, "-"),
                *(_ms(mark.p50 if mark else None) for mark in marks),
                _ms(synthesis.p50 if synthesis else None),
                _ms(synthesis.p95 if synthesis else None),
            ]
        )
    return rows


def content_rows(turns: list[Turn]) -> list[list[str]]:
    """Per language: the share of replies holding the right words, hinted and identified,
    and on the first line alone (where an identified call may still be answered in the
    default language)."""
    rows = []
    for language in languages_of(turns):
        mine = [t for t in turns if t.language == language]
        rows.append(
            [
                language,
                _share(mine, lambda t: t.hinted),
                _share(mine, lambda t: not t.hinted),
                _share(mine, lambda t: t.hinted and t.index == 0),
                _share(mine, lambda t: not t.hinted and t.index == 0),
            ]
        )
    return rows


def _share(turns: Iterable[Turn], select: Select) -> str:
    judged = [t.content_ok for t in turns if select(t) and t.content_ok is not None]
    share = f"{100 * sum(judged) / len(judged):.0f}%" if judged else "-"
    return f"{share} (n={len(judged)})"


def summary(
    report: Mapping[str, Any],
    source: str,
    voices: Mapping[str, str] | None = None,
    transport: str = "webrtc",
) -> str:
    turns = load_turns(report, transport)
    if not turns:
        raise SystemExit(f"{source}: no clean 1-call {transport} series in a language ({RECEIVE})")
    voices = voices or {}
    hint = "on the offer (`?lang=`)" if transport == "webrtc" else "by the number dialled"
    failures = [
        f"{run['language']} {'hinted' if run['hinted'] else 'identified'}: {failure}"
        for run in report["runs"]
        if run["transport"] == transport and run["receive"] == RECEIVE and run.get("language")
        for failure in run["failures"]
    ]
    lines = [
        "# Voice-to-voice per language",
        "",
        f"From `{source}` ({report['started_at']}, {report['machine']}): our agent called over "
        f"{transport} at 1 call on a clean line by espeak-ng voices of each language "
        "(`benchmarks/scenarios-languages/`: order status with verification, customs duties, "
        f"a person), each language hinted {hint} and identified by the agent. "
        f"Receive mode {RECEIVE}; ms from the caller's last loud sample to the agent's first.",
        "",
        *(f"- {note}" for note in report.get("notes", [])),
        *(f"- Failed call, {failure}" for failure in failures),
        "",
        "Reproduce:",
        "",
        "```",
        report["command"],
        "python -m benchmarks.languages_latency "
        + source.removesuffix("/report.json")
        + ("" if transport == "webrtc" else f" --transport {transport}"),
        "```",
        "",
        f"## Voice-to-voice, and the difference to English (goal: within {WITHIN_MS:.0f} ms)",
        "",
        *_table(
            [
                "language",
                "hinted p50",
                "hinted p95",
                "n",
                "identified p50",
                "identified p95",
                "n",
                "both p50",
                "both p95",
                "n",
                "Δ p50 vs en",
                "Δ p95 vs en",
                "Δ p50 vs en, hinted",
                f"within {WITHIN_MS:.0f} ms (p50 and p95)",
            ],
            voice_to_voice_rows(turns),
        ),
        "",
        "Both: the hinted and identified calls together (the same scenarios and voices); after "
        "the first turns a call's language is known either way. Few turns per series: a p95 "
        "is close to the series' worst turn.",
        "",
        "## The first caller line against the later ones (p50)",
        "",
        *_table(
            ["language", "hinted: first", "later", "identified: first", "later"],
            first_turn_rows(turns),
        ),
        "",
        "A call without a hint is answered in the default language's greeting and identified on "
        "its first line by the multilingual model; a hinted call knows its language from the "
        "start (English then runs on tiny.en from the first line).",
        "",
        "## Where the time goes (the agent's own marks, p50 ms after the caller's speech end)",
        "",
        *_table(
            [
                "language",
                "voice",
                *STAGE_MARKS,
                "TTS first audio - first text p50",
                "p95",
            ],
            stage_rows(turns, voices),
        ),
        "",
        "TTS first audio - first text: how long the language's voice took to synthesize the "
        "first audio of a reply once its first text was ready.",
        "",
        "## Did the caller hear the right answer? (content ok)",
        "",
        *_table(
            ["language", "hinted", "identified", "hinted: first line", "identified: first line"],
            content_rows(turns),
        ),
        "",
        "The replies heard, transcribed after the run (English by the configured model, the "
        "others by the multilingual one told the language), holding the scenario's keywords.",
        "",
    ]
    return "\n".join(lines)


def agent_voices(config: Path | None = None) -> dict[str, str]:
    """Each language's voice in the agent's settings (`tts.voices`; an operator's own Piper
    voice in `tts.custom` replaces it), as `voice-agent bench --serve` runs the agent."""
    from voice_agent.settings import load_settings

    tts = load_settings(config).tts
    voices = dict(tts.voices)
    for language, custom in tts.custom.items():
        voices[language] = f"custom: {custom.onnx.name}"
    return voices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "report", nargs="?", type=Path, default=RESULTS / "bench-languages", help="report folder"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "languages-latency.md")
    parser.add_argument("--transport", choices=["webrtc", "sip"], default="webrtc")
    parser.add_argument(
        "--config", type=Path, help="the agent's config (as bench --serve was given), for voices"
    )
    args = parser.parse_args()
    report = json.loads((args.report / "report.json").read_text(encoding="utf-8"))
    voices = agent_voices(args.config)
    source = str(args.report / "report.json")
    args.out.write_text(summary(report, source, voices, args.transport), encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
