"""What the lexicon costs a turn: ``canonical`` and ``text_language`` time per turn.

    python -m benchmarks.lexicon [--rounds N]

Each language's turns (order numbers, phone endings, postcodes, spelled e-mails, yes/no,
dates, and a long free-text sentence) are rewritten N times after one warm-up call (which
builds the language's tables); the typed-turn guess runs over the same turns. Times are
wall-clock per call on one core, in microseconds.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from voice_agent.dialogue.lexicon import canonical, text_language

RESULTS = Path(__file__).parent / "results"
ALL = ("en", "de", "es", "fr", "pt")
TURNS = {
    "de": [
        "Meine Bestellnummer ist vier fünf null sechs neun.",
        "Die letzten vier Ziffern sind null eins acht sechs.",
        "Ja, genau.",
        "em u e el el e er Punkt ka at gmx Punkt de",
        "Das Paket sollte letzten Freitag kommen, aber es ist immer noch nicht da, und die "
        "Sendungsverfolgung zeigt seit dem zwölften Oktober nichts Neues an.",
    ],
    "es": [
        "Mi número de pedido es cuatro cinco cero seis nueve.",
        "El código postal es veintiocho mil trece.",
        "No, perdón, quise decir cinco ocho ocho uno cuatro.",
        "ele u ce i a punto ge arroba gmail punto com",
        "El paquete tenía que llegar el viernes pasado pero todavía no ha llegado y el "
        "seguimiento no muestra nada nuevo desde el doce de octubre.",
    ],
    "fr": [
        "Mon numéro de commande est quarante-cinq zéro soixante-neuf.",
        "Non merci, c'est tout.",
        "Mon code postal est soixante-quinze zéro zéro un.",
        "jean point dupont arobase orange point fr",
        "Le colis devait arriver vendredi dernier mais il n'est toujours pas là et le suivi "
        "n'affiche rien de nouveau depuis le douze octobre.",
    ],
    "pt": [
        "O número do pedido é quatro cinco zero seis nove.",
        "O CEP é zero um três um zero, um zero zero.",
        "Meu celular termina com nove meia meia sete.",
        "jota o a o ponto silva arroba uol ponto com ponto br",
        "A encomenda devia chegar na sexta-feira passada mas ainda não chegou e o rastreio "
        "não mostra nada de novo desde o dia doze de outubro.",
    ],
}


def _micros(call: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def _row(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    median = statistics.median(times)
    return f"| {name} | {len(times)} | {median:.0f} | {p95:.0f} | {max(times):.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    rows = []
    for language, turns in TURNS.items():
        canonical(turns[0], language)  # builds the language's tables once
        rewrite_times: list[float] = []
        guess_times: list[float] = []
        for turn in turns:
            rewrite_times += _micros(functools.partial(canonical, turn, language), args.rounds)
            guess_times += _micros(functools.partial(text_language, turn, ALL), args.rounds)
        rows.append(_row(f"canonical, {language}", rewrite_times))
        rows.append(_row(f"text_language, {language}", guess_times))
    report = "\n".join(
        [
            "# Lexicon: cost per turn",
            "",
            f"`python -m benchmarks.lexicon --rounds {args.rounds}` on this machine (2 cores, "
            "shared), one run: each language's 5 turns (digits, a postcode, a spelled e-mail, "
            "yes/no or a correction, one long sentence), after one warm-up call; "
            "microseconds per call. The slowest turn (a 30-word sentence) takes about 0.5 ms "
            "at its median; p95 and max include the shared machine's stalls.",
            "",
            "| call | calls | p50 µs | p95 µs | max µs |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    (RESULTS / "lexicon.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
