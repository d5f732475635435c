"""End to end: a real call through the App (real VAD, Whisper and Piper; the caller's words
spoken by Piper), recorded, shows up live on the desk with its captions, then its transcript
opens from the call history, opening with the recording notice the caller heard, and its
recording plays in the browser. The only test of the desk that loads the models."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.desk.browser import LAPTOP, chromium, press_on, sign_in_by_keyboard
from tests.desk.conftest import desk_server, desk_settings
from tests.desk.seed import PASSWORD, seed_operators
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.bench.caller import Line
from voice_agent.bench.simulate import simulate_call
from voice_agent.dialogue.replies import language
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.transport.wavfile import Pacing

pytestmark = pytest.mark.slow

LIVE_WAIT_MS = 120_000
"""How long the page may take to show what the call does (models share 2 cores here)."""


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[App]:
    app = App(desk_settings(tmp_path, VOICE_AGENT_RECORDINGS__ENABLED="true"))
    now = datetime.now(UTC)
    import_document(app.database, demo_document(now), "demo")
    seed_operators(app.database, now)
    asyncio.run(app.warm_up())
    yield app
    app.close()


async def _spoken(app: App, text: str) -> Line:
    frames = [frame async for frame in app.tts.synthesize(text, "en")]
    return Line(AudioFrame.concat(frames), text)


def test_a_real_call_appears_live_with_captions_and_then_in_the_history(live_app: App) -> None:
    async def scenario() -> None:
        lines = [
            await _spoken(live_app, "Where is my order?"),
            await _spoken(live_app, "No thanks, goodbye."),
        ]
        async with desk_server(live_app) as url, chromium() as browser:
            page = await browser.new_page(viewport=LAPTOP)
            await page.goto(f"{url}/desk/live")
            await sign_in_by_keyboard(page, "bob", PASSWORD)
            status = page.locator("#live-status")
            await status.filter(has_text="No call right now.").wait_for()  # subscribed

            call = asyncio.create_task(simulate_call(live_app, lines, pacing=Pacing.REALTIME))
            card = page.locator(".live-call:not(.ended)")
            caller_line = card.locator("li.caller", has_text="order")
            await caller_line.first.wait_for(timeout=LIVE_WAIT_MS)
            assert not call.done()  # seen while the call runs
            agent_lines = await card.locator("li.agent").all_inner_texts()
            assert agent_lines, "the greeting shows as the agent's first caption"
            assert "wav call from simulated caller" in await card.locator("h2").inner_text()

            await call
            ended = page.locator(".live-call.ended")
            await ended.locator("a", has_text="transcript").wait_for(timeout=LIVE_WAIT_MS)
            await press_on(page, ".live-call.ended a")
            transcript = page.locator(".transcript")
            caller_turns = await transcript.locator(".turn.caller").all_inner_texts()
            assert any("order" in turn.lower() for turn in caller_turns), caller_turns
            assert await transcript.locator(".turn.agent").count() >= 2
            latency = await transcript.locator(".latency").all_inner_texts()
            assert any("first audio sent" in text for text in latency), latency
            first_said = await transcript.locator(".turn.agent").first.inner_text()
            notice = language("en").say("recording.notice")
            assert notice.split(".")[0] in first_said, first_said
            played_s = await _recording_duration(page)
            assert played_s > sum(line.audio.duration for line in lines), played_s

            await press_on(page, "nav a[href='/desk/calls']")
            rows = await page.locator("table.calls tbody tr").all_inner_texts()
            assert len(rows) == 1 and "simulated caller" in rows[0]

    asyncio.run(scenario())


async def _recording_duration(page: Page) -> float:
    """Seconds of the call's recording as Chromium's own player decoded it from the desk."""
    player = page.locator("audio")
    assert await player.count() == 1
    return float(
        await player.evaluate(
            """audio => new Promise((resolve, reject) => {
                audio.onloadedmetadata = () => resolve(audio.duration);
                audio.onerror = () => reject(new Error("the recording did not load"));
                audio.load();
            })"""
        )
    )
