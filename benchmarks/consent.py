"""What reading a turn for an objection to the recording costs: ``find_objection`` per turn.

    python -m benchmarks.consent [--rounds N]

Each language's turns (an objection with a question after it, a question about recording,
consent, and a long sentence about an order) are read N times after one warm-up call; every
turn of a recorded call is read so until the caller objects. Times are per call on one core,
in microseconds: wall-clock and the calling thread's CPU time (the shared machine's wall clock
is mostly preemption).

Then the callers' sentences the other parts of the project hold (the ASR corpus, the intent
exemplars; none of them objects to recording) are read, also as first words after the
notice, and those taken for an objection counted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import tomllib
from pathlib import Path

from voice_agent.dialogue.consent import find_objection

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "benchmarks" / "corpus"
EXEMPLARS = ROOT / "voice_agent" / "dialogue" / "exemplars"
TURNS = {
    "en": [
        "Please don't record this, where is my order?",
        "Is this call being recorded?",
        "No, that's fine, you can record.",
        "The parcel was supposed to arrive last Friday but it still hasn't come and the "
        "tracking hasn't shown anything new since the twelfth of October.",
    ],
    "de": [
        "Ich möchte nicht, dass das Gespräch aufgezeichnet wird, wo ist meine Bestellung?",
        "Wird dieses Gespräch aufgezeichnet?",
        "Das ist in Ordnung, Sie können aufnehmen.",
        "Das Paket sollte letzten Freitag kommen, aber es ist immer noch nicht da, und die "
        "Sendungsverfolgung zeigt seit dem zwölften Oktober nichts Neues an.",
    ],
    "es": [
        "No quiero que se grabe la llamada, ¿dónde está mi pedido?",
        "¿Se está grabando?",
        "No me importa que se grabe.",
        "El paquete tenía que llegar el viernes pasado pero todavía no ha llegado y el "
        "seguimiento no muestra nada nuevo desde el doce de octubre.",
    ],
    "fr": [
        "Je ne veux pas être enregistrée, où est ma commande ?",
        "Est-ce que c'est enregistré ?",
        "Ça ne me dérange pas, vous pouvez enregistrer.",
        "Le colis devait arriver vendredi dernier mais il n'est toujours pas là et le suivi "
        "n'affiche rien de nouveau depuis le douze octobre.",
    ],
    "pt": [
        "Não quero que a ligação seja gravada, cadê o meu pedido?",
        "Está sendo gravado?",
        "Tudo bem gravar.",
        "A encomenda devia chegar na sexta-feira passada mas ainda não chegou e o rastreio "
        "não mostra nada de novo desde o dia doze de outubro.",
    ],
}


def measure(language: str, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU microseconds of each call over ``rounds`` passes of the turns."""
    find_objection(TURNS[language][0], False, language)  # warm-up
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for turn in TURNS[language]:
            started, started_cpu = time.perf_counter(), time.thread_time()
            find_objection(turn, False, language)
            cpu.append((time.thread_time() - started_cpu) * 1e6)
            wall.append((time.perf_counter() - started) * 1e6)
    return wall, cpu


def callers_sentences(language: str) -> list[str]:
    """The sentences of ``language`` in the ASR corpus and the intent exemplars, where the
    checkout has them."""
    sentences: list[str] = []
    corpus = CORPUS / f"callers_{language}.txt"
    if corpus.exists():
        lines = corpus.read_text(encoding="utf-8").splitlines()
        sentences += [line.strip() for line in lines if line.strip() and line[0] != "#"]
    exemplars = EXEMPLARS / f"{language}.toml"
    if exemplars.exists():
        sentences += _strings(tomllib.loads(exemplars.read_text(encoding="utf-8")))
    return sentences


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if re.search(r"\w", value) else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def taken_for_objections(language: str) -> tuple[int, list[str]]:
    sentences = callers_sentences(language)
    taken = [
        said
        for said in sentences
        if any(find_objection(said, after, language) is not None for after in (False, True))
    ]
    return len(sentences), taken


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    lines = [
        "| language | calls | wall p50 µs | wall p95 µs | CPU p50 µs | CPU p95 µs | CPU max µs |",
        "|---|---|---|---|---|---|---|",
    ]
    for language in TURNS:
        wall, cpu = measure(language, args.rounds)
        lines.append(
            f"| {language} | {len(wall)} | {statistics.median(wall):.0f} | {_p(wall, 0.95):.0f} "
            f"| {statistics.median(cpu):.0f} | {_p(cpu, 0.95):.0f} | {max(cpu):.0f} |"
        )
    lines += ["", "| language | callers' sentences | taken for an objection |", "|---|---|---|"]
    for language in TURNS:
        read, taken = taken_for_objections(language)
        lines.append(f"| {language} | {read} | {len(taken)} |")
        lines += [f"|   | taken: {said} | |" for said in taken]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
