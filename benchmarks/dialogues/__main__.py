"""Run every scripted dialogue against every shop; write benchmarks/results/dialogues.md.

    PYTHONPATH=. .venv/bin/python -m benchmarks.dialogues

Pass or fail per script per shop, grouped by request type, with every failed expectation.
The exit status is 0 whether scripts fail or not (the tests are what gate a change).
"""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from pathlib import Path

from benchmarks.dialogues import REQUEST_TYPES, SHOPS, Outcome, load_scripts, load_shop, run_all

RESULTS = Path(__file__).resolve().parent.parent / "results" / "dialogues.md"


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


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    scripts = load_scripts()
    shops = [load_shop(name) for name in SHOPS]
    with tempfile.TemporaryDirectory() as folder:
        outcomes = list(run_all(scripts, shops, Path(folder)))
    RESULTS.write_text(report(outcomes), encoding="utf-8")
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"{passed} of {len(outcomes)} runs pass; {RESULTS}")


if __name__ == "__main__":
    main()
