"""A bad network on 127.0.0.1: a UDP relay that loses and delays media as a profile says.

This kernel has no netem, so the benchmark puts its own relay between a caller and the agent's
media port. The relay has two sockets:

    caller ──▶ caller_side ┐          ┌ agent_side ──▶ agent
    caller ◀── caller_side ┘  relay   └ agent_side ◀── agent

Each side's datagrams leave out of the other side's socket, so both ends see a single peer (the
relay) and ICE connectivity checks flow through it like the media.

Only media is impaired: datagrams whose first byte is 128..191 (RTP and RTCP, RFC 7983
demultiplexing). STUN and DTLS pass at once, so call set-up is not what the benchmark measures.

The impairment itself is sans-I/O and seeded (`voice_agent.bench.impairment`): it is given
arrival times and says which packets are lost and when the others leave. `MediaRelay` is the
thin asyncio shell around it, on the loop's monotonic clock. This module also points WebRTC
SDP at the relay (`rewrite_ice_candidates`) and measures a profile through a real relay
(`measure_profile`); it re-exports the profiles, so callers need import from here only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, cast

import numpy as np

from voice_agent.bench.impairment import (
    PROFILES,
    DirectionStats,
    Impairment,
    Profile,
    RelayStats,
    is_media,
    profile_named,
)

__all__ = [
    "LOOPBACK",
    "PROFILES",
    "Address",
    "DirectionStats",
    "MediaRelay",
    "Profile",
    "RelayStats",
    "loopback_host_candidate",
    "measure_profile",
    "profile_named",
    "rewrite_ice_candidates",
]

logger = logging.getLogger(__name__)

Address = tuple[str, int]

LOOPBACK = "127.0.0.1"


# --- the asyncio shell ----------------------------------------------------------------------------


class _Socket(asyncio.DatagramProtocol):
    """One UDP socket of the relay, bound to 127.0.0.1 (any free port)."""

    def __init__(self) -> None:
        self.on_datagram: Callable[[bytes, Address], None] = lambda data, source: None
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def bind(cls) -> _Socket:
        sock = cls()
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: sock, local_addr=(LOOPBACK, 0))
        return sock

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (CPython's UDP transport does not subclass DatagramTransport, though it is one)
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.on_datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: an end that is not listening (yet, or any more)
        logger.debug("relay socket: %s", exc)

    @property
    def address(self) -> Address:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def send(self, data: bytes, destination: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, destination)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class _Lane:
    """One direction through the relay: impair, queue in departure order, send out.

    One timer per lane, armed for the head of the queue, sends whatever is due: the heap
    behind `call_at` does not keep equal times in order, and departures are often equal (a
    packet held behind the one ahead leaves with it)."""

    def __init__(self, impairment: Impairment, out: _Socket) -> None:
        self._impairment = impairment
        self._out = out
        self._loop = asyncio.get_running_loop()
        self._queue: deque[tuple[float, bytes, Address]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.passed_at_once = 0
        self.unroutable = 0

    def carry(self, data: bytes, destination: Address | None) -> None:
        if destination is None:
            self.unroutable += 1
            return
        if not is_media(data):
            self.passed_at_once += 1
            self._out.send(data, destination)
            return
        departure = self._impairment.departure(data, self._loop.time())
        if departure is None:
            return
        self._queue.append((departure, data, destination))
        if self._timer is None:
            self._timer = self._loop.call_at(departure, self._send_due)

    def _send_due(self) -> None:
        self._timer = None
        # the loop may run a timer a hair before its time (clock resolution): the head is due
        due = max(self._loop.time(), self._queue[0][0])
        while self._queue and self._queue[0][0] <= due:
            _, data, destination = self._queue.popleft()
            self._out.send(data, destination)
        if self._queue:
            self._timer = self._loop.call_at(self._queue[0][0], self._send_due)

    def stats(self) -> DirectionStats:
        return self._impairment.stats(self.passed_at_once, self.unroutable)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()


class MediaRelay:
    """The impaired link between one caller and the agent (see the module's docstring).

    The caller sends to `caller_side`; the agent is told the caller is at `agent_side`. Until
    `set_agent` names the agent's address, the relay latches onto the source of the first
    datagram that reaches `agent_side`; the caller's datagrams that arrive before either are
    dropped (counted as `unroutable`): their senders retry (ICE) or the agent is not
    listening yet anyway. Datagrams are accepted on each side from any source."""

    def __init__(
        self,
        profile: Profile,
        caller: Address,
        seed: int,
        caller_side: _Socket,
        agent_side: _Socket,
    ) -> None:
        self.profile = profile
        self.caller = caller
        self.agent: Address | None = None
        self._caller_side = caller_side
        self._agent_side = agent_side
        self._to_agent = _Lane(Impairment(profile, seed, "to_agent"), out=agent_side)
        self._to_caller = _Lane(Impairment(profile, seed, "to_caller"), out=caller_side)
        caller_side.on_datagram = self._from_caller
        agent_side.on_datagram = self._from_agent

    @classmethod
    async def open(cls, profile: Profile, caller: Address, seed: int = 0) -> MediaRelay:
        caller_side = await _Socket.bind()
        try:
            agent_side = await _Socket.bind()
        except BaseException:
            caller_side.close()
            raise
        relay = cls(profile, caller, seed, caller_side, agent_side)
        logger.debug(
            "relay (%s): caller %s:%d <-> %s:%d | %s:%d <-> agent",
            profile.name,
            *caller,
            *relay.caller_side,
            *relay.agent_side,
        )
        return relay

    @property
    def caller_side(self) -> Address:
        """Where the caller sends its media; the agent's media reaches the caller from here."""
        return self._caller_side.address

    @property
    def agent_side(self) -> Address:
        """Where the agent sends its media; the caller's media reaches the agent from here."""
        return self._agent_side.address

    def set_agent(self, address: Address) -> None:
        """Where the caller's datagrams go (overrides a latched address)."""
        self.agent = address

    def _from_caller(self, data: bytes, source: Address) -> None:
        self._to_agent.carry(data, self.agent)

    def _from_agent(self, data: bytes, source: Address) -> None:
        if self.agent is None:
            self.agent = source
            logger.debug("relay: the agent sends from %s:%d", *source)
        self._to_caller.carry(data, self.caller)

    def stats(self) -> RelayStats:
        return RelayStats(to_agent=self._to_agent.stats(), to_caller=self._to_caller.stats())

    def close(self) -> None:
        """Stop (idempotent): datagrams still held back are discarded, both sockets close."""
        self._to_agent.stop()
        self._to_caller.stop()
        self._caller_side.close()
        self._agent_side.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# --- WebRTC through the relay --------------------------------------------------------------------


def loopback_host_candidate(sdp: str) -> Address:
    """The first UDP host candidate on 127.0.0.1 of the SDP's first media section with one."""
    return rewrite_ice_candidates(sdp, (LOOPBACK, 9))[1]


def rewrite_ice_candidates(sdp: str, address: Address) -> tuple[str, Address]:
    """Point the SDP's ICE at `address`; returns the new SDP and the address it replaced.

    In each media section the first UDP host candidate on 127.0.0.1 is kept, rewritten to
    `address`, and every other candidate line is dropped (`a=end-of-candidates` stays); the
    section's `c=` and `m=` port follow. A bundled offer names one transport per section, but
    the answer keeps only the first (RFC 8843), so every section points at the relay and the
    first section's candidate is the one returned. Lines end in CRLF.

    Raises ValueError when a media section with candidates has no UDP host one on 127.0.0.1,
    when a candidate line is malformed, or when there are no candidates at all."""
    original: Address | None = None
    lines: list[str] = []
    for number, section in enumerate(_sections(sdp.splitlines())):
        rewritten, replaced = _rewrite_section(section, address, number)
        lines.extend(rewritten)
        if original is None:
            original = replaced
    if original is None:
        raise ValueError("the SDP has no ICE candidates (no a=candidate lines)")
    return "\r\n".join(lines) + "\r\n", original


def _sections(lines: list[str]) -> list[list[str]]:
    """The session part, then one list of lines per `m=` section."""
    sections: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    return sections


_CANDIDATE = "a=candidate:"


@dataclass(frozen=True, slots=True)
class _Candidate:
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, line: str) -> _Candidate:
        # foundation component transport priority address port "typ" type [extensions]
        fields = line.removeprefix(_CANDIDATE).split()
        if len(fields) < 8 or fields[6] != "typ" or not fields[5].isdigit():
            raise ValueError(f"malformed ICE candidate line: {line!r}")
        return cls(tuple(fields))

    @property
    def is_loopback_udp_host(self) -> bool:
        component, transport, host, kind = (
            self.fields[1],
            self.fields[2],
            self.fields[4],
            self.fields[7],
        )
        return (
            component == "1" and transport.lower() == "udp" and host == LOOPBACK and kind == "host"
        )

    @property
    def address(self) -> Address:
        return self.fields[4], int(self.fields[5])

    def moved_to(self, address: Address) -> str:
        fields = [*self.fields[:4], address[0], str(address[1]), *self.fields[6:]]
        return _CANDIDATE + " ".join(fields)


def _rewrite_section(
    section: list[str], address: Address, number: int
) -> tuple[list[str], Address | None]:
    candidates = [_Candidate.parse(line) for line in section if line.startswith(_CANDIDATE)]
    if not candidates:
        return section, None
    kept = next((candidate for candidate in candidates if candidate.is_loopback_udp_host), None)
    if kept is None:
        raise ValueError(
            f"media section {number} ({section[0]!r}) has no UDP host candidate on {LOOPBACK}"
            " (is the peer restricted to loopback?)"
        )
    rewritten: list[str] = []
    placed = False
    for line in section:
        if line.startswith(_CANDIDATE):
            if not placed:  # where the first candidate was
                rewritten.append(kept.moved_to(address))
                placed = True
        elif line.startswith("m="):
            rewritten.append(_with_port(line, address[1]))
        elif line.startswith("c="):
            rewritten.append(f"c=IN IP4 {address[0]}")
        else:
            rewritten.append(line)
    return rewritten, kept.address


def _with_port(media_line: str, port: int) -> str:
    kind, old_port, rest = media_line.split(" ", 2)
    if old_port == "0":
        return media_line  # a rejected section stays rejected
    return f"{kind} {port} {rest}"


# --- calibration --------------------------------------------------------------------------------

_PROBE = struct.Struct("!BBHIId")  # an RTP header (V=2, PCMU) and a monotonic send time


class _Probe(asyncio.DatagramProtocol):
    """One end of the calibration stream: sends numbered, stamped packets; notes arrivals."""

    def __init__(self) -> None:
        self.received: list[tuple[float, int, float]] = []  # receive time, number, send stamp
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def bind(cls) -> _Probe:
        probe = cls()
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: probe, local_addr=(LOOPBACK, 0))
        return probe

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if len(data) == _PROBE.size:
            _, _, number, _, _, stamp = _PROBE.unpack(data)
            self.received.append((time.monotonic(), number, stamp))

    @property
    def address(self) -> Address:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def send(self, number: int, destination: Address) -> None:
        assert self._transport is not None
        packet = _PROBE.pack(0x80, 0, number & 0xFFFF, number * 160, 0x5EED, time.monotonic())
        self._transport.sendto(packet, destination)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def measure_profile(
    profile: Profile, packets: int = 3000, seed: int = 0, interval_s: float = 0.002
) -> dict[str, Any]:
    """Send `packets` RTP-looking datagrams each way through a real relay and measure them.

    The delay model runs on elapsed time, so the quick pace (2 ms, not a call's 20 ms) leaves
    the delays as a call would meet them; 3000 packets (30 loss windows) take about 6 s.
    Returns what the receivers measured, both directions together at the top level (sent,
    received, loss, delay_mean_ms / p5 / p95: receive time - send stamp) and each under
    `to_agent` / `to_caller` (the same, and out_of_order); and under `relay` the relay's own
    stats (`RelayStats.as_dict`)."""
    caller = await _Probe.bind()
    agent = await _Probe.bind()
    try:
        async with await MediaRelay.open(profile, caller=caller.address, seed=seed) as relay:
            relay.set_agent(agent.address)
            await _paced(packets, interval_s, caller, agent, relay)
            await _until_delivered(relay, caller, agent, profile, packets)
            relay_stats = relay.stats()
    finally:
        caller.close()
        agent.close()
    return {
        "profile": profile.name,
        "packets": packets,
        **_received_figures(agent.received + caller.received, sent=2 * packets),
        "to_agent": _received_figures(agent.received, sent=packets) | _order(agent.received),
        "to_caller": _received_figures(caller.received, sent=packets) | _order(caller.received),
        "relay": relay_stats.as_dict(),
    }


def _received_figures(received: list[tuple[float, int, float]], sent: int) -> dict[str, float]:
    """Loss and one-way delays (receive time - send stamp) of the packets received."""
    delays = np.asarray([(at - stamp) * 1000 for at, _, stamp in received])
    figures = {"sent": sent, "received": len(received), "loss": 1 - len(received) / sent}
    if len(delays):
        figures |= {
            "delay_mean_ms": float(delays.mean()),
            "delay_p5_ms": float(np.percentile(delays, 5)),
            "delay_p95_ms": float(np.percentile(delays, 95)),
        }
    return figures


def _order(received: list[tuple[float, int, float]]) -> dict[str, float]:
    """How often one stream's packet arrived after a later-numbered one."""
    numbers = [number for _, number, _ in received]
    return {"out_of_order": sum(later < earlier for earlier, later in itertools.pairwise(numbers))}


async def _paced(
    packets: int, interval_s: float, caller: _Probe, agent: _Probe, relay: MediaRelay
) -> None:
    """Both streams at once, packet n due at start + n x interval (a late loop catches up)."""
    start = time.monotonic()
    for number in range(packets):
        await asyncio.sleep(max(0.0, start + number * interval_s - time.monotonic()))
        caller.send(number, relay.caller_side)
        agent.send(number, relay.agent_side)


async def _until_delivered(
    relay: MediaRelay, caller: _Probe, agent: _Probe, profile: Profile, packets: int
) -> None:
    """Until every packet the relay did not drop has arrived, or the longest delay is past."""
    limit_s = (profile.delay_ms + profile.jitter_ms) / 1000 + 0.5
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(limit_s):
            while True:
                if _delivered(relay.stats().to_agent, agent, packets) and _delivered(
                    relay.stats().to_caller, caller, packets
                ):
                    return
                await asyncio.sleep(0.01)


def _delivered(stats: DirectionStats, receiver: _Probe, sent: int) -> bool:
    """The relay has seen all `sent` and the receiver has all it did not drop."""
    return stats.media_packets >= sent and len(receiver.received) >= sent - stats.dropped
