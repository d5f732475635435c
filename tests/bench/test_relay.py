"""The impairment relay's asyncio shell: SDP rewriting, and the relay forwarding real UDP
datagrams on 127.0.0.1 (plain ones, and two aiortc peers' ICE and SRTP), and calibration
through it. The pure loss and delay models are tested in test_impairment.py."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack

from voice_agent.bench.relay import (
    PROFILES,
    MediaRelay,
    Profile,
    loopback_host_candidate,
    measure_profile,
    rewrite_ice_candidates,
)
from voice_agent.transport.webrtc import use_loopback_only

Address = tuple[str, int]
CROSS_BORDER = PROFILES["cross-border"]
BAD_MOBILE = PROFILES["bad-mobile"]


def _rtp(number: int) -> bytes:
    """An RTP packet (PCMU) whose payload is its number."""
    return struct.pack("!BBHII", 0x80, 0, number, number * 160, 0x1234) + number.to_bytes(4)


# --- SDP ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aiortc_offer() -> str:
    """A real aiortc offer, loopback only: audio and a data channel, one candidate each."""
    use_loopback_only()

    async def offer() -> str:
        peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        peer.addTrack(AudioStreamTrack())
        peer.createDataChannel("events")
        await peer.setLocalDescription(await peer.createOffer())
        sdp = str(peer.localDescription.sdp)
        await peer.close()
        return sdp

    return asyncio.run(offer())


def _candidates(sdp: str) -> list[str]:
    return [line for line in sdp.split("\r\n") if line.startswith("a=candidate:")]


def test_the_offer_points_at_the_relay_with_one_candidate_per_section(aiortc_offer: str) -> None:
    original = loopback_host_candidate(aiortc_offer)
    sdp, replaced = rewrite_ice_candidates(aiortc_offer, ("127.0.0.1", 40000))
    assert replaced == original and replaced[0] == "127.0.0.1"
    assert sdp.endswith("\r\n") and "\n" not in sdp.replace("\r\n", "")
    audio, data = sdp.split("\r\nm=")[1:]
    for section in (audio, data):
        (candidate,) = _candidates("m=" + section)
        assert candidate.split()[4:8] == ["127.0.0.1", "40000", "typ", "host"]
        assert section.split(" ")[1] == "40000"  # the m= port
        assert "\r\nc=IN IP4 127.0.0.1\r\n" in section
        assert "a=end-of-candidates" in section
    audio_candidate = _candidates(aiortc_offer)[0].split()
    assert original == (audio_candidate[4], int(audio_candidate[5]))
    untouched = [line for line in aiortc_offer.split("\r\n") if line[:2] not in ("m=", "c=")]
    kept = [line for line in sdp.split("\r\n") if line[:2] not in ("m=", "c=")]
    assert [line for line in untouched if "candidate:" not in line] == [
        line for line in kept if "candidate:" not in line
    ]


def test_only_the_first_udp_loopback_host_candidate_is_kept(aiortc_offer: str) -> None:
    host = _candidates(aiortc_offer)[0]  # the audio section's
    extra = [
        "a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
        "a=candidate:3 1 udp 1694498815 203.0.113.7 61000 typ srflx raddr 0.0.0.0 rport 0",
        "a=candidate:4 1 udp 2130706431 127.0.0.1 50000 typ host",
    ]
    busy = aiortc_offer.replace(host, "\r\n".join([extra[0], extra[1], host, extra[2]]), 1)
    sdp, replaced = rewrite_ice_candidates(busy, ("127.0.0.1", 40000))
    assert replaced == (host.split()[4], int(host.split()[5]))
    assert len(_candidates(sdp)) == 2  # one per section
    assert "203.0.113.7" not in sdp and " tcp " not in sdp and "50000" not in sdp


def test_sdp_without_a_usable_candidate_is_refused(aiortc_offer: str) -> None:
    no_candidates = "\r\n".join(
        line for line in aiortc_offer.split("\r\n") if not line.startswith("a=candidate:")
    )
    with pytest.raises(ValueError, match="no ICE candidates"):
        rewrite_ice_candidates(no_candidates, ("127.0.0.1", 40000))
    public_only = aiortc_offer.replace(" 127.0.0.1 ", " 192.0.2.10 ")
    with pytest.raises(ValueError, match=r"no UDP host candidate on 127\.0\.0\.1"):
        rewrite_ice_candidates(public_only, ("127.0.0.1", 40000))
    garbled = aiortc_offer.replace(" typ host", "", 1)
    with pytest.raises(ValueError, match="malformed ICE candidate line"):
        rewrite_ice_candidates(garbled, ("127.0.0.1", 40000))


# --- the relay, real datagrams --------------------------------------------------------------------


class _End(asyncio.DatagramProtocol):
    """A test's end of the line: sends datagrams, keeps what arrives and from where."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, Address]] = []
        self._arrived = asyncio.Event()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received.append((data, (str(addr[0]), int(addr[1]))))
        self._arrived.set()

    @property
    def address(self) -> Address:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def send(self, data: bytes, destination: Address) -> None:
        assert self.transport is not None
        self.transport.sendto(data, destination)

    async def until(self, count: int, limit_s: float = 5.0) -> list[bytes]:
        async with asyncio.timeout(limit_s):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return [data for data, _ in self.received]

    @property
    def sources(self) -> set[Address]:
        return {source for _, source in self.received}


@contextlib.asynccontextmanager
async def _line(
    profile: Profile, introduce_agent: bool = True
) -> AsyncIterator[tuple[_End, _End, MediaRelay]]:
    """A caller end and an agent end joined by a relay (the agent named to it, or not)."""
    loop = asyncio.get_running_loop()
    caller = (await loop.create_datagram_endpoint(_End, local_addr=("127.0.0.1", 0)))[1]
    agent = (await loop.create_datagram_endpoint(_End, local_addr=("127.0.0.1", 0)))[1]
    try:
        async with await MediaRelay.open(profile, caller=caller.address, seed=1) as relay:
            if introduce_agent:
                relay.set_agent(agent.address)
            yield caller, agent, relay
    finally:
        for end in (caller, agent):
            assert end.transport is not None
            end.transport.close()


def _run(scenario: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await scenario()

    asyncio.run(bounded())


async def _until(condition: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Polls: the relay's counters have no event to wait on."""
    async with asyncio.timeout(limit_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


def test_a_clean_relay_forwards_every_datagram_both_ways_unchanged_and_in_order() -> None:
    async def scenario() -> None:
        async with _line(PROFILES["clean"]) as (caller, agent, relay):
            for n in range(50):
                caller.send(_rtp(n), relay.caller_side)
                agent.send(_rtp(1000 + n), relay.agent_side)
            assert await agent.until(50) == [_rtp(n) for n in range(50)]
            assert await caller.until(50) == [_rtp(1000 + n) for n in range(50)]
            assert agent.sources == {relay.agent_side}  # the caller is the relay, to the agent
            assert caller.sources == {relay.caller_side}
            stats = relay.stats()
        for direction in (stats.to_agent, stats.to_caller):
            assert (direction.media_packets, direction.dropped, direction.loss) == (50, 0, 0.0)
            assert direction.delay_mean_ms == 0.0

    _run(scenario)


def test_an_impaired_relay_loses_exactly_the_profile_rate_and_keeps_the_order() -> None:
    async def scenario() -> None:
        async with _line(CROSS_BORDER) as (caller, agent, relay):
            for n in range(200):
                caller.send(_rtp(n), relay.caller_side)
                agent.send(_rtp(n), relay.agent_side)
            for received in (await agent.until(194), await caller.until(194)):
                numbers = [int.from_bytes(data[12:]) for data in received]
                assert numbers == sorted(numbers) and len(set(numbers)) == 194
                assert all(data == _rtp(n) for data, n in zip(received, numbers, strict=True))
            stats = relay.stats()
        for direction in (stats.to_agent, stats.to_caller):
            assert (direction.media_packets, direction.dropped) == (200, 6)
            assert direction.loss == pytest.approx(0.03)
            assert direction.delay_p5_ms is not None and direction.delay_p95_ms is not None
            assert 110 - 1e-6 <= direction.delay_p5_ms <= direction.delay_p95_ms <= 190 + 1e-6
        assert stats.as_dict()["to_agent_dropped"] == 6

    _run(scenario)


def test_stun_and_dtls_pass_at_once_and_are_never_lost() -> None:
    async def scenario() -> None:
        async with _line(BAD_MOBILE) as (caller, agent, relay):
            for n in range(20):
                caller.send(_rtp(n), relay.caller_side)
            stun = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(12)
            dtls = b"\x16\xfe\xfd" + bytes(20)
            for _ in range(30):
                caller.send(stun, relay.caller_side)
                agent.send(dtls, relay.agent_side)
            await _until(lambda: relay.stats().to_agent.passed_at_once == 30)
            delivered_media = 20 - relay.stats().to_agent.dropped
            received = await agent.until(30 + delivered_media)
            assert received[:30] == [stun] * 30, "STUN overtakes the delayed media"
            assert await caller.until(30) == [dtls] * 30
            stats = relay.stats()
        assert (stats.to_agent.passed_at_once, stats.to_agent.media_packets) == (30, 20)
        assert (stats.to_caller.passed_at_once, stats.to_caller.media_packets) == (30, 0)

    _run(scenario)


def test_the_relay_latches_onto_the_agent_when_not_told_where_it_is() -> None:
    async def scenario() -> None:
        async with _line(PROFILES["clean"], introduce_agent=False) as (caller, agent, relay):
            caller.send(_rtp(1), relay.caller_side)  # nowhere to go yet
            agent.send(_rtp(2), relay.agent_side)
            assert await caller.until(1) == [_rtp(2)]
            assert relay.agent == agent.address
            caller.send(_rtp(3), relay.caller_side)
            assert await agent.until(1) == [_rtp(3)]
            assert relay.stats().to_agent.unroutable == 1

    _run(scenario)


def test_a_closed_relay_sends_nothing_it_held_back() -> None:
    async def scenario() -> None:
        async with _line(CROSS_BORDER) as (caller, agent, relay):
            caller.send(_rtp(1), relay.caller_side)
            await _until(lambda: relay.stats().to_agent.media_packets == 1)
            relay.close()
            agent.send(_rtp(2), relay.agent_side)  # the socket is gone: ICMP, nothing more
            await asyncio.sleep(0.25)  # past the longest delay (190 ms)
            assert agent.received == [] and caller.received == []

    _run(scenario)


# --- WebRTC through the relay ---------------------------------------------------------------------


def test_two_aiortc_peers_connect_and_exchange_audio_through_the_relay() -> None:
    use_loopback_only()

    async def scenario() -> None:
        caller = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        agent = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        heard = {"caller": 0, "agent": 0}
        both_heard = asyncio.Event()  # half a second of audio each way
        readers: list[asyncio.Task[None]] = []

        def count_frames(who: str) -> Callable[[MediaStreamTrack], None]:
            async def read(track: MediaStreamTrack) -> None:
                while True:
                    await track.recv()
                    heard[who] += 1
                    if min(heard.values()) >= 25:
                        both_heard.set()

            return lambda track: readers.append(asyncio.create_task(read(track)))

        caller.on("track", count_frames("caller"))
        agent.on("track", count_frames("agent"))
        caller.addTrack(AudioStreamTrack())
        try:
            async with asyncio.timeout(20):
                await caller.setLocalDescription(await caller.createOffer())
                offer = str(caller.localDescription.sdp)
                relay = await MediaRelay.open(
                    PROFILES["clean"], caller=loopback_host_candidate(offer)
                )
                async with relay:
                    relayed_offer, _ = rewrite_ice_candidates(offer, relay.agent_side)
                    await agent.setRemoteDescription(RTCSessionDescription(relayed_offer, "offer"))
                    agent.addTrack(AudioStreamTrack())
                    await agent.setLocalDescription(await agent.createAnswer())
                    answer = str(agent.localDescription.sdp)
                    relayed_answer, agent_address = rewrite_ice_candidates(
                        answer, relay.caller_side
                    )
                    relay.set_agent(agent_address)
                    await caller.setRemoteDescription(
                        RTCSessionDescription(relayed_answer, "answer")
                    )
                    await both_heard.wait()
                    stats = relay.stats()
        finally:
            await caller.close()
            await agent.close()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        for direction in (stats.to_agent, stats.to_caller):
            assert direction.media_packets >= 25  # SRTP went through the relay
            assert direction.passed_at_once > 0  # and so did ICE and DTLS
            assert direction.unroutable == 0

    _run(scenario)


# --- calibration --------------------------------------------------------------------------------


def test_calibration_measures_the_profile_it_is_given() -> None:
    measured = asyncio.run(measure_profile(CROSS_BORDER, packets=500))
    assert measured["profile"] == "cross-border"
    assert (measured["sent"], measured["received"]) == (1000, 970)  # both ways together
    assert measured["loss"] == pytest.approx(0.03)
    assert 110 <= measured["delay_mean_ms"] <= 200
    for direction in ("to_agent", "to_caller"):
        figures = measured[direction]
        assert (figures["sent"], figures["received"]) == (500, 485)
        assert figures["loss"] == pytest.approx(0.03)  # exact: 5 windows of 100
        assert figures["out_of_order"] == 0
        relay = {
            figure: measured["relay"][f"{direction}_delay_{figure}_ms"]
            for figure in ("p5", "mean", "p95")
        }
        assert 110 - 1e-6 <= relay["p5"] <= relay["mean"] <= relay["p95"] <= 190 + 1e-6
        # each packet reaches the receiver after the relay's delay, and not much later: the
        # slack is loose because a shared machine may stall the loop now and then
        for figure in ("p5", "mean", "p95"):
            assert figures[f"delay_{figure}_ms"] >= relay[figure]
        assert figures["delay_mean_ms"] <= relay["mean"] + 10
