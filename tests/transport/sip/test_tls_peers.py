"""The phone line over TLS with SRTP against a real peer: baresip (its `srtp` module,
`mediaenc=srtp-mand`) calls the agent at `;transport=tls`, trusting a certificate made for
the test, and what baresip heard (decrypted by baresip) is transcribed.

baresip stops by itself after -t seconds (Debian package baresip, scripts/system-deps.sh).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.transport.sip.support import Baresip, demo_shop_agent
from tests.transport.sip.tls_support import self_signed_certificate
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.audio.wav import read_wav, write_wav
from voice_agent.phone_line import start_sip
from voice_agent.transport.sip import SipEndpoint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path]) -> Iterator[App]:
    """The real agent with its line on UDP (a free port) and TLS (with SRTP required)."""
    extra = {
        "VOICE_AGENT_SIP__TLS_PORT": str(free_port()),
        "VOICE_AGENT_SIP__TLS_CERTIFICATE": str(certificate[0]),
        "VOICE_AGENT_SIP__TLS_PRIVATE_KEY": str(certificate[1]),
        "VOICE_AGENT_SIP__SRTP": "required",
    }
    with demo_shop_agent(tmp_path_factory.mktemp("sip_tls_app"), extra) as app:
        yield app


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() else " " for c in text.lower()).split())


def test_baresip_calls_over_tls_with_srtp_and_hears_the_greeting(
    tmp_path: Path, app: App, certificate: tuple[Path, Path]
) -> None:
    microphone = tmp_path / "silence.wav"
    write_wav(microphone, AudioFrame.silence(20.0, 8000))  # the caller only listens

    async def scenario() -> SipEndpoint:
        endpoint = await start_sip(app)
        assert endpoint is not None
        try:
            [tls] = endpoint.companions
            baresip = Baresip(
                tmp_path,
                microphone,
                "<sip:shopper@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand",
            )
            with (tmp_path / "config").open("a") as config:
                config.write(f"module srtp.so\nsip_cafile {certificate[0]}\n")
            target = f"sip:agent@127.0.0.1:{tls.address[1]};transport=tls"
            result = await baresip.run(12, f"/dial {target}")
            assert result.returncode == 0, result.output
            for _ in range(100):
                if tls.finished_calls:
                    break
                await asyncio.sleep(0.1)
        finally:
            await endpoint.aclose()
        return tls

    tls = asyncio.run(asyncio.wait_for(scenario(), 180))
    [call] = tls.finished_calls
    assert call.rtp.params.srtp is not None  # the media was keyed by SDES over TLS
    assert call.rtp.stats.packets_in > 100, call.rtp.stats  # baresip's SRTP, authenticated
    heard = read_wav(Baresip(tmp_path, microphone, "").heard())
    transcript = asyncio.run(app.asr.transcribe(resample(heard.slice(0.0, 10.0), 16_000)))
    assert {"help", "order"} <= _words(transcript.text), transcript.text
