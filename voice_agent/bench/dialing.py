"""Dials a target over its transport, through the impairment relay unless the link is clean."""

from __future__ import annotations

import contextlib

from voice_agent.bench.player import LiveCall
from voice_agent.bench.relay import Profile
from voice_agent.bench.runner import Target


def dial(
    target: Target, transport: str, profile: Profile
) -> contextlib.AbstractAsyncContextManager[LiveCall]:
    relay = None if profile.name == "clean" else profile
    if transport == "webrtc":
        from voice_agent.bench.webrtc_caller import webrtc_call

        return webrtc_call(target.url, signaling=target.signaling, relay_profile=relay)
    from voice_agent.bench.sip_caller import sip_call

    return sip_call(target.url, relay_profile=relay)
