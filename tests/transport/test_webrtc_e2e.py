"""End to end: headless Chromium calls the real `voice-agent serve` with the real models.

The caller's words come from a WAV file played as Chromium's microphone. The dialogue's exact
wording is not pinned here: the tests look for content words (a greeting that offers help, a
reply to "where is my order" that asks for the order number).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faster_whisper import WhisperModel
from playwright.async_api import Page, expect

from tests.conftest import PROJECT_ROOT, VOICE_AGENT, free_port
from tests.transport.browser_support import (
    chromium,
    microphone_file,
    page_events,
    receive_stats,
    recorded_audio,
    start_recording,
)
from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import rms_dbfs
from voice_agent.audio.resample import resample
from voice_agent.bench.voices import EspeakVoice
from voice_agent.models import ModelStore
from voice_agent.settings import load_settings

pytestmark = pytest.mark.slow

SCREENSHOT = PROJECT_ROOT / "docs" / "screenshot-call.png"
GREETING_WORDS = ("help", "hello", "hi", "welcome", "support")
ASKS_FOR_NUMBER = re.compile(
    r"\border\b.*\b(number|id|reference)\b|\b(number|id|reference)\b.*\border\b"
)


@pytest.fixture
def agent_url(isolated_data_dir: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """`voice-agent serve` on a free 127.0.0.1 port, loopback-only ICE, a temp data dir."""
    port = free_port()
    env = {
        **os.environ,
        **isolated_data_dir,
        "VOICE_AGENT_SERVER__PORT": str(port),
        "VOICE_AGENT_WEBRTC__LOOPBACK_ONLY": "true",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(VOICE_AGENT), "serve"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, tmp_path / "server.log")
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # verifying and loading the models
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/healthz", timeout=1) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the server did not come up: {log.read_text()[-3000:]}")


def _transcribe(audio: AudioFrame) -> str:
    settings = load_settings()
    whisper = WhisperModel(
        str(ModelStore(settings.models, settings.paths).directory("whisper-tiny-en")),
        device="cpu",
        compute_type="int8",
        cpu_threads=2,
    )
    segments, _ = whisper.transcribe(resample(audio, 16_000).to_float(), language="en", beam_size=5)
    return " ".join(segment.text for segment in segments).strip()


async def _recording_mark(page: Page) -> int:
    mark: int = await page.evaluate("() => window.__recording.chunks.length")
    return mark


def _after(audio: AudioFrame, chunks: int) -> AudioFrame:
    return AudioFrame(audio.samples[chunks * 2048 :], audio.rate)


def _agent_replies(events: list[dict[str, Any]]) -> list[str]:
    return [str(event["text"]) for event in events if event["type"] == "agent_said"]


def test_a_shopper_asks_where_their_order_is_from_the_browser_and_hears_the_answer(
    agent_url: str, tmp_path: Path
) -> None:
    question = EspeakVoice("en-us").speak("Where is my order?")
    # long enough a pause for the greeting to end before the question
    microphone = microphone_file(tmp_path / "caller.wav", [7.0, question, 12.0])

    async def scenario() -> tuple[list[dict[str, Any]], AudioFrame, dict[str, Any] | None]:
        async with chromium(tmp_path / "profile", microphone) as browser:
            page = await browser.new_page()
            await page.goto(f"{agent_url}/")
            await page.get_by_role("button", name="Call support by voice").click()
            await start_recording(page)
            captions = page.get_by_role("log", name="Live captions")
            await expect(captions.locator("li.agent").first).not_to_be_empty(timeout=15_000)
            await expect(captions.locator("li.caller").first).to_contain_text(
                re.compile("order", re.IGNORECASE), timeout=30_000
            )
            mark = await _recording_mark(page)
            reply = captions.locator("li.agent").nth(1)
            await expect(reply).to_contain_text(re.compile("number", re.IGNORECASE), timeout=15_000)
            await expect(reply.locator(".turn-latency")).to_have_text(
                re.compile(r"Reply in \d+ ms"), timeout=15_000
            )
            await expect(page.locator(".va")).to_have_attribute(
                "data-state", "listening", timeout=20_000
            )
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))
            stats = await receive_stats(page)
            heard = _after(await recorded_audio(page), mark)
            events = await page_events(page)
            await page.get_by_role("button", name="Hang up").click()
            await expect(page.get_by_role("status")).to_contain_text("Call ended")
            return events, heard, stats

    events, heard, stats = asyncio.run(scenario())
    replies = _agent_replies(events)
    assert any(word in replies[0].lower() for word in GREETING_WORDS), replies[0]
    callers = [str(e["text"]) for e in events if e["type"] == "caller_said"]
    assert "order" in callers[0].lower(), callers
    assert ASKS_FOR_NUMBER.search(replies[1].lower()), replies[1]
    assert rms_dbfs(heard.samples) > -45, "the page received no audio for the reply"
    transcript = _transcribe(heard).lower()
    assert ASKS_FOR_NUMBER.search(transcript), f"the reply as heard: {transcript!r}"
    latency = [e for e in events if e["type"] == "latency"]
    assert latency and "first_audio_sent" in latency[0]["marks_ms"]
    assert stats is not None and stats["packetsReceived"] > 100


def test_a_shopper_interrupts_the_agent_from_the_browser(agent_url: str, tmp_path: Path) -> None:
    question = EspeakVoice("en-gb+f3").speak("Where is my order?")
    interruption = EspeakVoice("en-gb+f3").speak(
        "No, wait, I want a refund because my parcel never arrived."
    )
    # the interruption starts soon after the agent begins to answer the question
    microphone = microphone_file(tmp_path / "caller.wav", [7.0, question, 1.0, interruption, 10.0])

    async def scenario() -> tuple[list[dict[str, Any]], AudioFrame, int]:
        async with chromium(tmp_path / "profile", microphone) as browser:
            page = await browser.new_page()
            await page.goto(f"{agent_url}/")
            await page.get_by_role("button", name="Call support by voice").click()
            await start_recording(page)
            captions = page.get_by_role("log", name="Live captions")
            await expect(captions.locator("li.agent.cut")).to_have_count(1, timeout=40_000)
            barged = await _recording_mark(page)
            await expect(captions.locator("li.caller")).to_have_count(2, timeout=20_000)
            await expect(captions.locator("li.agent")).to_have_count(3, timeout=20_000)
            heard = await recorded_audio(page)
            events = await page_events(page)
            await page.get_by_role("button", name="Hang up").click()
            return events, heard, barged

    events, heard, barged = asyncio.run(scenario())
    kinds = [event["type"] for event in events]
    assert "barge_in" in kinds
    resolved = [e for e in events if e["type"] == "barge_in_resolved"]
    assert resolved and resolved[0]["interrupted"] is True
    stopped = [e for e in events if e["type"] == "agent_stopped" and e["interrupted"]]
    planned = _agent_replies(events)[1]
    assert stopped and len(stopped[0]["played_text"]) < len(planned)
    callers = [str(e["text"]).lower() for e in events if e["type"] == "caller_said"]
    assert "refund" in callers[1] or "parcel" in callers[1], callers
    # once the agent stopped, the page heard it go quiet while the caller went on speaking
    quiet = AudioFrame(heard.samples[barged * 2048 : barged * 2048 + heard.rate], heard.rate)
    before = AudioFrame(heard.samples[: barged * 2048], heard.rate)
    assert rms_dbfs(before.samples) > -40
    assert rms_dbfs(quiet.samples) < rms_dbfs(before.samples) - 20
    assert np.count_nonzero(np.abs(quiet.samples) > 2000) < heard.rate // 50


def test_the_caller_sees_their_words_while_still_speaking(agent_url: str, tmp_path: Path) -> None:
    request = EspeakVoice("en-us+m7").speak(
        "Hello, I ordered a coffee grinder from your shop two weeks ago and it still has not "
        "arrived, can you tell me where my parcel is?"
    )
    microphone = microphone_file(tmp_path / "caller.wav", [7.0, request, 10.0])

    async def scenario() -> tuple[list[dict[str, Any]], str]:
        async with chromium(tmp_path / "profile", microphone) as browser:
            page = await browser.new_page()
            await page.goto(f"{agent_url}/")
            await page.get_by_role("button", name="Call support by voice").click()
            captions = page.get_by_role("log", name="Live captions")
            interim = captions.locator("li.caller.interim")
            # Shown while the caller is still speaking: before any caller turn has ended.
            words = re.compile(r"order|coffee|grinder|shop", re.IGNORECASE)
            await expect(interim).to_contain_text(words, timeout=30_000)
            shown = await interim.inner_text()
            await expect(captions.locator("li.caller:not(.interim)")).to_have_count(
                1, timeout=30_000
            )
            events = await page_events(page)
            await page.get_by_role("button", name="Hang up").click()
            return events, shown

    events, shown = asyncio.run(scenario())
    kinds = [str(event["type"]) for event in events]
    assert "caller_heard" in kinds and "caller_said" in kinds, kinds
    heard = [event for event in events if event["type"] == "caller_heard"]
    said = next(event for event in events if event["type"] == "caller_said")
    # Interim words came out while the caller spoke, seconds before the turn was taken.
    assert kinds.index("caller_heard") < kinds.index("caller_said")
    assert float(said["at"]) - float(heard[0]["at"]) > 1.0, (heard[0], said)
    assert any(word in shown.lower() for word in ("ordered", "coffee", "grinder", "shop")), shown
    # the sentence's end, heard: "parcel" or "arrived" (once "doesn't arrive")
    assert "parcel" in str(said["text"]).lower() or "arriv" in str(said["text"]).lower(), said
