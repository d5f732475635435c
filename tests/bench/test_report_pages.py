"""The benchmark report's Markdown and HTML pages and the PNG plots they show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bench.test_report import TARGET, write_example_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Written once for all the tests below: plotting is the slow part."""
    out = tmp_path_factory.mktemp("report")
    write_example_report(out)
    return out


def test_report_markdown_has_a_row_per_series_and_plain_goals(report_dir: Path) -> None:
    markdown = (report_dir / "report.md").read_text()

    assert (
        f"| {TARGET} | webrtc | clean | arrival | 1 | 9 | 512.0 | 680.0 | 696.0 | 700.0 | - |"
        " 50.0 | 500.0 (1 not stopped) | 50.0% | 75.0% | 1 | 0.50 | 300 |"
    ) in markdown
    assert (
        f"| {TARGET} | webrtc | cross-border | arrival | 1 | 3 | 700.0 | 790.0 | 798.0 | 800.0 |"
        " 550.0 | - | - | - | 50.0% | 0 | - | - |"
    ) in markdown
    assert f"| {TARGET} | sip | clean | arrival | 1 | 2 |" in markdown
    assert f"| {TARGET} | webrtc | clean | arrival | 4 | 1 |" in markdown
    assert "voice-to-voice p50 512.0 ms, goal at most 300 ms: **missed by 212 ms**" in markdown
    assert "met, 50 ms to spare" in markdown
    assert "a drop of 25.0 points, goal at most 5.0 points: **missed by 20.0 points**" in markdown
    for heading in ("Goals", "Where the time goes", "Compare", "Calibration", "Failures", "Notes"):
        assert f"\n## {heading}\n" in markdown
    assert "| loopback_ms.p50 | 20.5 |" in markdown
    assert "call 2: ICE failed" in markdown
    assert f"voice-agent bench --target '{TARGET}'" in markdown


def test_report_html_escapes_what_it_shows(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text()

    assert page.startswith("<!DOCTYPE html>")
    assert "http://agent.test/&lt;a&gt;?x=1&amp;y=2" in page
    assert "<a>" not in page
    assert "<title>Latency &lt;bench&gt;</title>" in page
    assert '<span class="missed">missed by 212 ms</span>' in page


def test_report_html_shows_plots_that_exist_beside_it(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text()

    images = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(images) == [
        "stages.png",
        "voice-to-voice-cdf-sip-arrival.png",
        "voice-to-voice-cdf-webrtc-arrival.png",
    ]
    for image in images:
        assert (report_dir / image).read_bytes().startswith(PNG_SIGNATURE), image
