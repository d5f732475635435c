"""From the frozen [sip] settings to what the user agent and the media are given."""

from __future__ import annotations

import secrets

from voice_agent.protocol.sdp import PCMA, PCMU, TELEPHONE_EVENT, LocalMedia
from voice_agent.protocol.sdp_crypto import new_master_key
from voice_agent.protocol.sip.agent_calls import AgentConfig, TrunkAccount
from voice_agent.protocol.sip.timers import SipTimers
from voice_agent.settings import SipSettings
from voice_agent.transport.sip.net import local_address_towards


def agent_config(
    settings: SipSettings, host: str, port: int, transport: str = "UDP"
) -> AgentConfig:
    trunk = settings.trunk
    account = None
    if trunk is not None:
        account = TrunkAccount(
            registrar=trunk.registrar,
            username=trunk.username,
            password=trunk.password,
            realm=trunk.realm,
            domain=trunk.domain,
            expires_s=trunk.expires_s,
            retry_s=trunk.retry_s,
        )
    return AgentConfig(
        host=host,
        port=port,
        user_agent=settings.user_agent,
        timers=SipTimers(t1=settings.t1_ms / 1000),
        no_answer_timeout_s=settings.no_answer_timeout_s,
        trunk=account,
        transport=transport,
        session_expires_s=settings.session_expires_s,
        min_se_s=settings.min_se_s,
        transfer_timeout_s=settings.transfer_timeout_s,
    )


def local_media(settings: SipSettings, host: str, port: int) -> LocalMedia:
    """What we offer or accept on RTP `port`: the configured codecs, keypad events if on."""
    codecs = tuple(PCMU if name == "PCMU" else PCMA for name in settings.codecs)
    return LocalMedia(
        address=host,
        port=port,
        session_id=str(secrets.randbelow(10**9)),
        codecs=codecs,
        telephone_event=TELEPHONE_EVENT if settings.dtmf else None,
        srtp=settings.srtp,
        master_key=None if settings.srtp == "off" else new_master_key(),
    )


def advertised_host(settings: SipSettings, bound_host: str) -> str:
    """The address others reach us at (Via, Contact, SDP): the configured one, else the one
    bound, else (bound to all) the one the OS would use outwards."""
    if settings.advertised_host:
        return settings.advertised_host
    if bound_host not in ("0.0.0.0", "::"):
        return bound_host
    return local_address_towards("192.0.2.1")
