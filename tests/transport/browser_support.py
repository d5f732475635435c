"""Headless Debian Chromium driven by Playwright, with a WAV file as its microphone."""

from __future__ import annotations

import base64
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
from playwright.async_api import BrowserContext, Page, async_playwright

from voice_agent.audio import AudioFrame
from voice_agent.audio.wav import write_wav

LEAD_IN_S = 0.5
"""Chromium loses the first 150-320 ms of the fake capture file."""


def chromium_binary() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
    return binary


def microphone_file(path: Path, parts: list[AudioFrame | float]) -> Path:
    """A 16 kHz mono WAV of speech and pauses (floats are seconds of silence)."""
    samples = [np.zeros(round(16_000 * LEAD_IN_S), dtype=np.int16)]
    for part in parts:
        if isinstance(part, AudioFrame):
            if part.rate != 16_000:
                raise ValueError("speech must be 16 kHz")
            samples.append(part.samples)
        else:
            samples.append(np.zeros(round(16_000 * part), dtype=np.int16))
    write_wav(path, AudioFrame(np.concatenate(samples), 16_000))
    return path


def chromium_args(microphone: Path | None) -> list[str]:
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if microphone is not None:
        args += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone}%noloop",
        ]
    else:
        args += ["--use-fake-device-for-media-stream", "--deny-permission-prompts"]
    return args


@contextlib.asynccontextmanager
async def chromium(
    profile: Path, microphone: Path | None, ignore_https_errors: bool = False
) -> AsyncIterator[BrowserContext]:
    """A fresh Chromium profile; `microphone=None` means the user denies the microphone;
    `ignore_https_errors` accepts a test's self-signed certificate (a TLS proxy's)."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_binary(),
            headless=True,
            args=chromium_args(microphone),
            viewport={"width": 900, "height": 760},
            ignore_https_errors=ignore_https_errors,
        )
        try:
            yield context
        finally:
            await context.close()


RECORDER_JS = """
async () => {
  const widget = window.VoiceAgent;
  while (!widget.remoteStream) await new Promise((r) => setTimeout(r, 20));
  const context = new AudioContext();
  const source = context.createMediaStreamSource(widget.remoteStream);
  const processor = context.createScriptProcessor(2048, 1, 1);
  const recording = { rate: context.sampleRate, chunks: [], started: performance.now() };
  processor.onaudioprocess = (event) => {
    recording.chunks.push(new Float32Array(event.inputBuffer.getChannelData(0)));
  };
  source.connect(processor);
  processor.connect(context.destination);
  window.__recording = recording;
  return context.sampleRate;
}
"""

RECORDED_JS = """
() => {
  const recording = window.__recording;
  let length = 0;
  for (const chunk of recording.chunks) length += chunk.length;
  const pcm = new Int16Array(length);
  let at = 0;
  for (const chunk of recording.chunks) {
    for (let i = 0; i < chunk.length; i++) {
      pcm[at++] = Math.max(-32768, Math.min(32767, Math.round(chunk[i] * 32767)));
    }
  }
  let binary = "";
  const bytes = new Uint8Array(pcm.buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return { rate: recording.rate, pcm: btoa(binary) };
}
"""

STATS_JS = """
async () => {
  const pc = window.VoiceAgent.pc;
  if (!pc) return null;
  const out = {};
  (await pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "audio") {
      out.jitterBufferDelay = report.jitterBufferDelay;
      out.jitterBufferEmittedCount = report.jitterBufferEmittedCount;
      out.jitterBufferTargetDelay = report.jitterBufferTargetDelay;
      out.totalAudioEnergy = report.totalAudioEnergy;
      out.packetsReceived = report.packetsReceived;
      out.concealedSamples = report.concealedSamples;
    }
    if (report.type === "candidate-pair" && report.nominated) {
      out.currentRoundTripTime = report.currentRoundTripTime;
    }
  });
  return out;
}
"""


async def start_recording(page: Page) -> int:
    """Record the agent's audio as the page receives it (WebAudio on the remote stream)."""
    rate: int = await page.evaluate(RECORDER_JS)
    return rate


async def recorded_audio(page: Page) -> AudioFrame:
    recording: dict[str, Any] = await page.evaluate(RECORDED_JS)
    samples = np.frombuffer(base64.b64decode(recording["pcm"]), dtype="<i2").astype(np.int16)
    return AudioFrame(samples, int(recording["rate"]))


async def page_events(page: Page) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = await page.evaluate("() => window.VoiceAgent.events")
    return events


async def receive_stats(page: Page) -> dict[str, Any] | None:
    stats: dict[str, Any] | None = await page.evaluate(STATS_JS)
    return stats
