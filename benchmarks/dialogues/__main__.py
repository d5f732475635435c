"""Run every scripted dialogue against every shop; write benchmarks/results/dialogues.md.

    PYTHONPATH=. .venv/bin/python -m benchmarks.dialogues
    PYTHONPATH=. .venv/bin/python -m benchmarks.dialogues --languages   # dialogues-languages.md

Pass or fail per script per shop, grouped by request type, with every failed expectation.
The exit status is 0 whether scripts fail or not (the tests are what gate a change).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections import defaultdict
from pathlib import Path

from benchmarks.dialogues import (
    REQUEST_TYPES,
    SHOPS,
    Outcome,
    language_script_paths,
    load_script,
    load_scripts,
    load_shop,
    run_all,
)

RESULTS = Path(__file__).resolve().parent.parent / "results" / "dialogues.md"
LANGUAGE_RESULTS = RESULTS.with_name("dialogues-languages.md")


def report(outcomes: list[Outcome]) -> str:
    by_script: dict[str, dict[str, Outcome]] = defaultdict(dict)
    for outcome in outcomes:
        by_script[outcome.script.name][outcome.shop] = outcome
    scripts = {outcome.script.name: outcome.script for outcome in outcomes}
    passed = sum(outcome.passed for outcome in outcomes)
    lines = [
        "# Scripted dialogues",
        "",
        "`python -m benchmarks.dialogues`: every script of `benchmarks/dialogues/` against the",
        "demo shop and the second shop (`examples/shop-second.json`), in-process through the chat",
        "command's session. Expectations are what each request needs (see the folder's README).",
        "",
        f"**{passed} of {len(outcomes)} runs pass** ({len(scripts)} scripts x {len(SHOPS)} shops).",
        "",
        "| request type | scripts | pass on " + " | pass on ".join(SHOPS) + " |",
        "|---|---|" + "---|" * len(SHOPS),
    ]
    for kind in REQUEST_TYPES:
        mine = [name for name, script in scripts.items() if script.request_type == kind]
        counts = [sum(by_script[name][shop].passed for name in mine) for shop in SHOPS]
        lines.append(f"| {kind} | {len(mine)} | " + " | ".join(map(str, counts)) + " |")
    lines += ["", "## Per script", "", "| script | covers | " + " | ".join(SHOPS) + " |"]
    lines.append("|---|---|" + "---|" * len(SHOPS))
    for name in sorted(scripts):
        marks = ["pass" if by_script[name][shop].passed else "FAIL" for shop in SHOPS]
        lines.append(f"| {name} | {', '.join(scripts[name].covers)} | " + " | ".join(marks) + " |")
    lines += ["", "## Failures", ""]
    for name in sorted(scripts):
        for shop in SHOPS:
            outcome = by_script[name][shop]
            if outcome.passed:
                continue
            lines.append(f"- **{name}** ({shop})")
            for failure in outcome.failures:
                first, *rest = failure.message.split("\n")
                lines.append(f"  - line {failure.line}: {first}")
                lines += [f"    `{line.strip()}`" for line in rest if line.strip()]
    return "\n".join(lines) + "\n"


def language_report(outcomes: list[Outcome]) -> str:
    """Pass or fail per scenario, language and shop, then every failed expectation."""
    cells = {(o.script.path.stem, o.script.path.parent.name, o.shop): o.passed for o in outcomes}
    languages = sorted({language for _, language, _ in cells})
    scenarios = sorted({scenario for scenario, _, _ in cells})
    passed = sum(outcome.passed for outcome in outcomes)
    lines = [
        "# Scripted dialogues in each language",
        "",
        "`python -m benchmarks.dialogues --languages`: every script of",
        "`benchmarks/dialogues/languages/<lang>/` against the demo shop and the second shop, the",
        "script's language given as the chat's hint. Cells: demo / second.",
        "",
        f"**{passed} of {len(outcomes)} runs pass.**",
        "",
        "| scenario | " + " | ".join(languages) + " |",
        "|---|" + "---|" * len(languages),
    ]
    for scenario in scenarios:
        marks = [
            " / ".join(
                "pass" if cells.get((scenario, language, shop)) else "FAIL" for shop in SHOPS
            )
            for language in languages
        ]
        lines.append(f"| {scenario} | " + " | ".join(marks) + " |")
    lines += ["", "## Failures", ""]
    for outcome in outcomes:
        if outcome.passed:
            continue
        where = f"{outcome.script.path.parent.name}/{outcome.script.name}"
        lines.append(f"- **{where}** ({outcome.shop})")
        for failure in outcome.failures:
            first, *rest = failure.message.split("\n")
            lines.append(f"  - line {failure.line}: {first}")
            lines += [f"    `{line.strip()}`" for line in rest if line.strip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dialogues")
    parser.add_argument(
        "--languages", action="store_true", help="the scripts in each language instead"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL if args.languages else logging.WARNING)
    if args.languages:
        scripts = [load_script(path) for path in language_script_paths()]
    else:
        scripts = load_scripts()
    shops = [load_shop(name) for name in SHOPS]
    with tempfile.TemporaryDirectory() as folder:
        outcomes = list(run_all(scripts, shops, Path(folder)))
    results = LANGUAGE_RESULTS if args.languages else RESULTS
    text = language_report(outcomes) if args.languages else report(outcomes)
    results.write_text(text, encoding="utf-8")
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"{passed} of {len(outcomes)} runs pass; {results}")


if __name__ == "__main__":
    main()
