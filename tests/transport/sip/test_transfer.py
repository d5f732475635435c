"""SipCall.transfer on a real UDP socket against a scripted peer on 127.0.0.1: the REFER goes
out in the call, the peer's NOTIFYs decide (the user agent's REFER flows are tested
without sockets in tests/protocol/sip/test_agent_transfer.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.transport.sip.support import Dialogue, Session, SipPeer, offer
from voice_agent.agent.limits import CallLimiter
from voice_agent.clock import RealClock
from voice_agent.protocol.sip.message import build_response
from voice_agent.settings import SipSettings
from voice_agent.transport.sip import SipEndpoint

TEAM = "sip:team@127.0.0.1:5099"


@pytest.mark.parametrize(("sipfrag", "succeeds"), [("200 OK", True), ("486 Busy Here", False)])
def test_a_transfer_ends_our_leg_or_leaves_the_call_up(sipfrag: str, succeeds: bool) -> None:
    async def scenario() -> None:
        session = Session()
        settings = SipSettings(listen_port=0, t1_ms=50)
        endpoint = SipEndpoint(settings, RealClock(), CallLimiter(2), session)
        await endpoint.start()
        peer = await SipPeer.open()
        try:
            dialogue = Dialogue(peer, endpoint.address)
            invite = dialogue.request("INVITE", offer(40_000), "application/sdp")
            dialogue.send(invite)
            answer = await peer.response()
            dialogue.to_tag = answer.to_addr.tag
            dialogue.send(dialogue.ack(invite, answer))
            await session.started.wait()
            call = session.calls[0]

            transferring = asyncio.create_task(call.transfer(TEAM, [("X-Handoff-Reference", "42")]))
            refer = await peer.request("REFER")
            assert refer.headers.get("Refer-To") == f"<{TEAM}?X-Handoff-Reference=42>"
            assert refer.headers.get("X-Handoff-Reference") == "42"
            peer.send(build_response(refer, 202), endpoint.address)
            notify = dialogue.request(
                "NOTIFY",
                f"SIP/2.0 {sipfrag}\r\n".encode(),
                "message/sipfrag;version=2.0",
                headers=[("Event", "refer"), ("Subscription-State", "terminated")],
            )
            dialogue.send(notify)
            assert (await peer.response()).status == 200
            assert await transferring is succeeds
            if succeeds:
                bye = await peer.request("BYE")
                peer.send(build_response(bye, 200), endpoint.address)
                await call.wait()
                assert call.ended == "transferred" and call.transferred_to == TEAM
            else:
                assert call.ended is None and call.transferred_to is None
        finally:
            peer.close()
            await endpoint.aclose()

    asyncio.run(asyncio.wait_for(scenario(), 30))
