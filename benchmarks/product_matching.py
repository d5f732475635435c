"""Product matching time on the demo catalogue, with and without the shop's names per language.

    .venv/bin/python -m benchmarks.product_matching

``Catalogue.find`` runs on every turn (the engine asks whether a product is named), so the
names per language (five names a product in the demo shop instead of one) must not cost the
first chunk its budget. Times ``find`` over every line of the scripted conversations of
tests/dialogue (the lines the dialogue benchmark replays) and a few lines naming products in
each language, on the demo catalogue as shipped and on the same catalogue without its
localized names. Results: benchmarks/results/product_matching.md.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tests.dialogue.test_engine import SCRIPTS
from voice_agent.dialogue.products import Catalogue
from voice_agent.store.demo import demo_document
from voice_agent.store.shopfile import shop_data
from voice_agent.store.views import ProductView

RESULTS = Path(__file__).parent / "results"
PASSES = 20
NAMING = (
    "Ich habe eine Frage zur Yogamatte",
    "¿De qué material es la mochila de viaje?",
    "Combien de temps pour livrer le foulard en soie en France ?",
    "Quanto tempo demora para entregar a caneca de cerâmica no Brasil?",
)
"""Lines in the other languages, naming demo products (written for this benchmark)."""


def _catalogue(localized: bool) -> Catalogue:
    shop = shop_data(demo_document(datetime(2025, 6, 1, tzinfo=UTC)), "demo")
    products = [
        ProductView(record.sku, record.name, record.attributes, names=record.names or {})
        for record in shop.products
    ]
    if not localized:
        products = [replace(product, names={}) for product in products]
    return Catalogue(products)


def _row(label: str, catalogue: Catalogue, lines: Sequence[str]) -> str:
    """Wall time of each call, and the mean CPU time (what a shared machine's load spares)."""
    times: list[float] = []
    cpu_started = time.process_time()
    for _ in range(PASSES):
        for line in lines:
            started = time.perf_counter()
            catalogue.find(line)
            times.append((time.perf_counter() - started) * 1000)
    cpu = (time.process_time() - cpu_started) * 1000 / len(times)
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (
        f"| {label} | {statistics.median(ordered):.3f} ms | {p95:.3f} ms | "
        f"{ordered[-1]:.3f} ms | {cpu:.3f} ms | {len(ordered)} |"
    )


def main() -> None:
    lines = [line for script in SCRIPTS.values() for line in script] + list(NAMING)
    rows = [
        _row("catalogue's names only (16 names)", _catalogue(False), lines),
        _row("with names in de, es, fr, pt (80 names)", _catalogue(True), lines),
    ]
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    load = os.getloadavg()[0]
    report = "\n".join(
        [
            "# Product matching: `Catalogue.find` per turn",
            "",
            f"`python -m benchmarks.product_matching` on {stamp} (load average {load:.2f} at "
            f"the end): {len(lines)} lines (the scripted conversations of tests/dialogue and "
            f"{len(NAMING)} lines in other languages), {PASSES} passes, demo catalogue.",
            "",
            "| catalogue | p50 | p95 | max | mean CPU | n |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "product_matching.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
