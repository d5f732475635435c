"""The voice button in headless Chromium against the agent's web app on 127.0.0.1.

The agent's calls run on fake stages here (the page and the WebRTC path are under test);
tests/transport/test_webrtc_e2e.py runs the real server with the real models.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.async_api import Page, expect

from tests.fakes.stages import ScriptedAsr
from tests.transport.browser_support import (
    chromium,
    microphone_file,
    page_events,
    receive_stats,
    recorded_audio,
    start_recording,
)
from tests.transport.webrtc_support import FakeAgent, agent_server, loopback_settings
from voice_agent.bench.voices import EspeakVoice
from voice_agent.settings import SessionSettings

pytestmark = pytest.mark.slow


def _tone_share(samples: np.ndarray, rate: int, tone_hz: float = 300.0) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = (freqs > tone_hz - 20) & (freqs < tone_hz + 20)
    return float(spectrum[band].sum() / max(spectrum.sum(), 1e-9))


def _button(page: Page, name: str) -> object:
    return page.get_by_role("button", name=name)


def test_a_browser_call_shows_state_captions_and_latency_and_plays_the_agent(
    tmp_path: Path,
) -> None:
    question = EspeakVoice("en-us").speak("Where is my order")
    # the fake greeting lasts 1.75 s: the question comes after it
    microphone = microphone_file(tmp_path / "caller.wav", [3.5, question, 4.0])
    agent = FakeAgent(ScriptedAsr({0.0: "bye", 0.8: "where is my order"}))

    async def scenario() -> None:
        async with (
            agent_server(agent) as (url, gateway),
            chromium(tmp_path / "profile", microphone) as browser,
        ):
            page = await browser.new_page()
            await page.goto(f"{url}/")
            widget = page.locator(".va")
            await expect(widget).to_have_attribute("data-state", "idle")
            await page.get_by_role("button", name="Call support by voice").click()
            await start_recording(page)
            await expect(page.get_by_role("button", name="Hang up")).to_be_visible()
            captions = page.get_by_role("log", name="Live captions")
            await expect(captions.locator("li.agent").first).to_contain_text("How can I help")
            await expect(widget).to_have_attribute("data-state", "speaking")
            await expect(captions.locator("li.caller")).to_contain_text(
                "where is my order", timeout=20_000
            )
            reply = captions.locator("li.agent").nth(1)
            await expect(reply).to_contain_text("You said: where is my order", timeout=20_000)
            await expect(reply.locator(".turn-latency")).to_have_text(
                re.compile(r"Reply in \d+ ms")
            )
            await expect(widget).to_have_attribute("data-state", "listening", timeout=20_000)
            stats = await receive_stats(page)
            heard = await recorded_audio(page)
            events = await page_events(page)
            mute = page.get_by_role("button", name="Mute microphone")
            await mute.click()
            await expect(page.get_by_role("button", name="Unmute microphone")).to_have_attribute(
                "aria-pressed", "true"
            )
            await page.get_by_role("button", name="Hang up").click()
            await expect(page.get_by_role("status")).to_contain_text("Call ended")
            async with asyncio.timeout(20):
                await gateway.idle()

        kinds = [event["type"] for event in events]
        assert {"state", "agent_said", "caller_said", "latency", "agent_stopped"} <= set(kinds)
        loud = heard.samples[np.abs(heard.samples) > 1000]
        assert len(loud) > heard.rate, "the page played less than a second of the agent"
        assert _tone_share(heard.samples, heard.rate) > 0.3
        assert stats is not None and stats["packetsReceived"] > 50
        assert gateway.finished and gateway.finished[0].end_reason == "caller hung up"

    asyncio.run(scenario())


def test_a_denied_microphone_is_explained_and_no_call_is_made(tmp_path: Path) -> None:
    agent = FakeAgent(ScriptedAsr({0.0: "hello"}))

    async def scenario() -> None:
        async with (
            agent_server(agent) as (url, _),
            chromium(tmp_path / "profile", None) as browser,
        ):
            page = await browser.new_page()
            await page.goto(f"{url}/")
            await page.get_by_role("button", name="Call support by voice").click()
            await expect(page.get_by_role("alert")).to_contain_text("Microphone access was denied")
            await expect(page.locator(".va")).to_have_attribute("data-state", "error")
            await expect(page.get_by_role("button", name="Call support by voice")).to_be_focused()
        assert not agent.transports

    asyncio.run(scenario())


def test_a_busy_agent_is_explained_on_the_page(tmp_path: Path) -> None:
    settings = loopback_settings().model_copy(
        update={"session": SessionSettings(max_concurrent_calls=1)}
    )
    microphone = microphone_file(tmp_path / "caller.wav", [5.0])
    agent = FakeAgent(ScriptedAsr({0.0: "hello"}))

    async def scenario() -> None:
        async with (
            agent_server(agent, settings) as (url, _),
            chromium(tmp_path / "profile", microphone) as browser,
        ):
            first = await browser.new_page()
            await first.goto(f"{url}/")
            await first.get_by_role("button", name="Call support by voice").click()
            await expect(first.get_by_role("button", name="Hang up")).to_be_visible()
            second = await browser.new_page()
            await second.goto(f"{url}/")
            await second.get_by_role("button", name="Call support by voice").click()
            await expect(second.get_by_role("alert")).to_contain_text("All our lines are busy")

    asyncio.run(scenario())
