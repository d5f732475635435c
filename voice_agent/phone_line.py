"""The app on the phone line: `voice-agent serve` answers calls on it, `voice-agent call
--transport sip` places one. The transport (transport/sip/) knows nothing of the app; this
wiring hands it a CallRunner that runs the app's session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from voice_agent.agent.answering_machine import Answered, Verdict
from voice_agent.agent.playout import Playout
from voice_agent.agent.screening import who_answered
from voice_agent.dialogue.purpose import CallPurpose, PlacedCall
from voice_agent.transport.forwarded import proxy_networks
from voice_agent.transport.sip import CallRunner, SipCall, SipEndpoint
from voice_agent.transport.sip.stream import SipStreamEndpoint

if TYPE_CHECKING:
    from voice_agent.app import App

logger = logging.getLogger(__name__)


def _runner(
    app: App,
    purpose: CallPurpose | None = None,
    answered: Callable[[Verdict], None] | None = None,
) -> CallRunner:
    """The session on each call; a call placed for a purpose first hears who answered (a
    machine gets the purpose's message only)."""

    async def run_call(transport: SipCall, playout: Playout, caller_id: str) -> None:
        placed = None
        if purpose is not None:
            verdict = await who_answered(transport, app.settings.outbound.answering_machine)
            if verdict is None:
                logger.info("call %s ended before anyone was heard", transport.call_id)
                return
            if answered is not None:
                answered(verdict)
            placed = PlacedCall(purpose, machine=verdict.answered is Answered.MACHINE)
        await app.answer_call(transport, playout, channel="sip", caller_id=caller_id, placed=placed)

    return run_call


async def start_sip(app: App) -> SipEndpoint | None:
    """Start the phone line for `voice-agent serve` (None when [sip] enabled = false)."""
    settings = app.settings.sip
    if not settings.enabled:
        return None
    proxies = proxy_networks(app.settings.server.trusted_proxies)
    endpoint = SipEndpoint(settings, app.clock, app.calls, _runner(app), proxies)
    await endpoint.start()
    try:
        for port, tls in ((settings.tcp_port, False), (settings.tls_port, True)):
            if port:  # the same calls limit, access rules and app; their own user agent
                stream = SipStreamEndpoint(
                    settings, app.clock, app.calls, _runner(app), proxies, tls=tls
                )
                await stream.start()
                endpoint.companions.append(stream)
    except BaseException:
        await endpoint.aclose()
        raise
    return endpoint


async def call_out(
    app: App,
    target: str,
    listen_port: int = 0,
    purpose: CallPurpose | None = None,
    answered: Callable[[Verdict], None] | None = None,
) -> SipCall:
    """`voice-agent call --transport sip --to URI`: ring `target` from a line of our own (an
    ephemeral port unless given, so a running server keeps its port), run the session until
    the call ends, and return the call (its events say what was said). With a ``purpose``
    the call runs its script, or leaves its message on a machine (``answered`` is told who
    answered)."""
    settings = app.settings.sip.model_copy(update={"listen_port": listen_port})
    endpoint = SipEndpoint(settings, app.clock, app.calls, _runner(app, purpose, answered))
    await endpoint.start(register=False)  # the trunk's credentials still answer challenges
    try:
        call = await endpoint.place_call(target)
        await call.wait()
    finally:
        await endpoint.aclose()
    return call
