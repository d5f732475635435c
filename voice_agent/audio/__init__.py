"""Pure numpy audio: frames, resampling, G.711, levels. No asyncio here."""

from voice_agent.audio.frame import PIPELINE_RATE, AudioFrame

__all__ = ["PIPELINE_RATE", "AudioFrame"]
