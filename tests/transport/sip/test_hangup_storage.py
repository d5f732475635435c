"""A caller who hangs up while the agent speaks, over the real phone line: the App with its
real voice, the SIP endpoint `voice-agent serve` starts, and a SQLite store read back after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.transport.sip.support import Dialogue, RtpSink, SipPeer, offer
from voice_agent.app import App
from voice_agent.phone_line import start_sip
from voice_agent.protocol.rtp import RtpPacket
from voice_agent.settings import load_settings

_HEARD_BEFORE_BYE = 50
"""Packets of the greeting the caller hears before hanging up: 1 s, well short of its end."""
_PCMU_ZERO = 0xFF


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{tmp_path / 'calls.sqlite3'}",
            "VOICE_AGENT_SIP__LISTEN_PORT": "0",
        }
    )
    app = App(settings)
    yield app
    app.close()


class _Listener(RtpSink):
    """The caller's ear: `heard` is set once that many packets of sound have arrived (the line
    sends silence until the greeting starts)."""

    def __init__(self) -> None:
        super().__init__()
        self.voiced = 0
        self.heard = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        super().datagram_received(data, addr)
        if self.voiced or RtpPacket.parse(data).payload.strip(bytes([_PCMU_ZERO])):
            self.voiced += 1
        if self.voiced >= _HEARD_BEFORE_BYE:
            self.heard.set()


async def _hang_up_during_the_greeting(app: App) -> None:
    await app.tts.warm_up()  # the greeting then starts at once, not after loading the voice
    endpoint = await start_sip(app)
    assert endpoint is not None
    peer = await SipPeer.open()
    ear = await _Listener.open()
    assert isinstance(ear, _Listener)  # (RtpSink.open is typed to return an RtpSink)
    try:
        dialogue = Dialogue(peer, endpoint.address)
        invite = dialogue.request("INVITE", offer(ear.port), "application/sdp")
        dialogue.send(invite)
        answer = await peer.response()
        assert answer.status == 200, answer
        dialogue.to_tag = answer.to_addr.tag
        dialogue.send(dialogue.ack(invite, answer))
        [call] = endpoint.calls
        await ear.heard.wait()
        dialogue.send(dialogue.request("BYE"))
        assert (await peer.response()).status == 200
        await call.wait()
        assert call.ended == "the caller hung up"
    finally:
        ear.close()
        peer.close()
        await endpoint.aclose()


def test_a_greeting_cut_short_by_the_callers_bye_is_stored_as_partly_heard(app: App) -> None:
    asyncio.run(asyncio.wait_for(_hang_up_during_the_greeting(app), 60))
    [conversation] = app.repository.conversations()
    assert conversation.channel == "sip" and conversation.ended_at is not None
    [greeting] = app.repository.turns(conversation.id)
    assert greeting.speaker == "agent" and greeting.interrupted
    assert greeting.played_text and len(greeting.played_text) < len(greeting.text)
    assert greeting.text.startswith(greeting.played_text)
