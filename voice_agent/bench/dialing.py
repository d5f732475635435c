"""Dials a target over its transport, through the impairment relay unless the link is clean.

A call may hint the caller's language. Over WebRTC the offer carries it as the web page does
(`?lang=de`). A phone line has no such field: the agent knows a call's language by the number
dialled (`languages.by_number`), so a hinted SIP call dials that language's number in
`HINT_NUMBERS`, which `--serve` maps in our agent's settings.
"""

from __future__ import annotations

import contextlib
import dataclasses

from voice_agent.bench.player import LiveCall
from voice_agent.bench.relay import Profile
from voice_agent.bench.runner import Target

HINT_NUMBERS: dict[str, str] = {
    "en": "15550100100",
    "de": "4930555010",
    "es": "34915550101",
    "fr": "33155501010",
    "pt": "551155501010",
}
"""The number a hinted SIP call dials per language (fictional: 555 numbers and the like)."""


def dial(
    target: Target, transport: str, profile: Profile, language: str | None = None
) -> contextlib.AbstractAsyncContextManager[LiveCall]:
    relay = None if profile.name == "clean" else profile
    if transport == "webrtc":
        from voice_agent.bench.webrtc_caller import webrtc_call

        return webrtc_call(
            target.url, signaling=target.signaling, relay_profile=relay, language=language
        )
    from voice_agent.bench.sip_caller import sip_call

    url = target.url if language is None else dialled_uri(target.url, language)
    return sip_call(url, relay_profile=relay)


def dialled_uri(target: str, language: str) -> str:
    """The SIP target with the language's number as the user part (the number dialled)."""
    from voice_agent.bench.sip_caller import parse_target

    if language not in HINT_NUMBERS:
        raise ValueError(f"no number to dial for language {language!r}")
    return str(dataclasses.replace(parse_target(target), user=HINT_NUMBERS[language]))


def numbers_by_language() -> dict[str, str]:
    """`languages.by_number` for our agent under --serve: each hint number's language."""
    return {number: language for language, number in HINT_NUMBERS.items()}
