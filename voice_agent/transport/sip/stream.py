"""The phone line over TCP or TLS: a stream server feeding the same sans-I/O user agent.

`SipStreamEndpoint` is the UDP endpoint (endpoint.py) with a stream server instead of a
socket: each connection's bytes are framed by Content-Length (message.py's StreamReader)
and every message goes to its `UserAgent` with the peer's address as the source. What the
agent sends to an address goes back over that peer's connection, or over a new one (the
Contact of a peer whose connection dropped). The agent is configured with the transport, so
its Via says TCP or TLS, its Contact `;transport=tcp|tls`, and its transactions do not
retransmit (RFC 3261 §17: timers A, E and G run on unreliable transports only).

TLS (RFC 3261 §26.3.1, RFC 5630) serves the configured certificate; a connection we open
verifies the peer's certificate against the system's authorities.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterable, Sequence
from typing import cast

from voice_agent.agent.limits import CallLimiter
from voice_agent.clock import Clock
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.message import BadMessage, KeepAlive, SipLimits, StreamReader
from voice_agent.settings import SipSettings
from voice_agent.transport.forwarded import IpNetwork
from voice_agent.transport.sip.call import CallRunner
from voice_agent.transport.sip.endpoint import SipEndpoint
from voice_agent.transport.sip.net import Address

logger = logging.getLogger(__name__)

_MAX_CONNECTIONS = 256
_CONNECT_TIMEOUT_S = 10.0


class SipTlsError(RuntimeError):
    """The TLS certificate or key cannot be used (missing, unreadable, not matching)."""


def server_tls_context(certificate: str, private_key: str) -> ssl.SSLContext:
    """The server side of SIP over TLS; SipTlsError says what is wrong with the files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certificate, private_key)
    except (OSError, ssl.SSLError) as error:
        raise SipTlsError(
            f"cannot use the SIP TLS certificate {certificate!r} with the key "
            f"{private_key!r}: {error}"
        ) from None
    return context


class _Connection(asyncio.Protocol):
    """One peer's stream: bytes in are framed and handed to the endpoint."""

    def __init__(self, endpoint: SipStreamEndpoint, limits: SipLimits) -> None:
        self._endpoint = endpoint
        self._reader = StreamReader(limits)
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        address = transport.get_extra_info("peername")
        self.peer = (str(address[0]), int(address[1]))
        self._endpoint.connected(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._endpoint.disconnected(self)

    def data_received(self, data: bytes) -> None:
        try:
            framed = self._reader.feed(data)
        except ValueError as error:  # the stream cannot be resynchronised
            logger.info("SIP %s:%d: closing the connection: %s", *self.peer, error)
            self.close()
            return
        for item in framed:
            if isinstance(item, KeepAlive):
                self.write(b"\r\n")  # the pong (RFC 5626 §4.4.1)
            elif isinstance(item, BadMessage):
                self._endpoint.stream_received(item.data, self.peer)
            else:
                self._endpoint.stream_received(bytes(item), self.peer)
        if self._reader.broken is not None:
            logger.info("SIP %s:%d: closing the connection: %s", *self.peer, self._reader.broken)
            self.close()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SipStreamEndpoint(SipEndpoint):
    """SIP over TCP (`tls=False`) or TLS on listen_host at tcp_port or tls_port."""

    def __init__(
        self,
        settings: SipSettings,
        clock: Clock,
        limiter: CallLimiter,
        run_call: CallRunner,
        proxies: Sequence[IpNetwork] = (),
        *,
        tls: bool,
    ) -> None:
        super().__init__(settings, clock, limiter, run_call, proxies)
        self.transport_name = "TLS" if tls else "TCP"
        self._port = settings.tls_port if tls else settings.tcp_port
        self._server: asyncio.Server | None = None
        self._server_tls: ssl.SSLContext | None = None
        self._connections: dict[Address, _Connection] = {}
        self._waiting: dict[Address, list[bytes]] = {}
        """Messages for a peer we are connecting to."""
        if tls:
            if not settings.tls_certificate or not settings.tls_private_key:
                raise SipTlsError("SIP over TLS needs tls_certificate and tls_private_key")
            self._server_tls = server_tls_context(
                settings.tls_certificate, settings.tls_private_key
            )

    async def start(self, register: bool = False) -> None:
        """Listen, start the timers. (Registration goes over UDP, from the main endpoint.)"""
        loop = asyncio.get_running_loop()
        limits = SipLimits(max_message_size=65_535)
        self._server = await loop.create_server(
            lambda: _Connection(self, limits),
            self.settings.listen_host,
            self._port,
            ssl=self._server_tls,
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        self.address = (host, port)
        self._agent = UserAgent(self._agent_config(port), self.screen)
        self._timer_task = asyncio.create_task(self._fire_timers())
        logger.info("SIP listening on %s:%s:%d", self.transport_name.lower(), host, port)

    async def aclose(self) -> None:
        await super().aclose()
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            connection.close()
        if self._server is not None:
            await self._server.wait_closed()

    def receive_drops(self) -> int | None:
        return None  # a stream's kernel buffer pushes back instead of dropping

    # --- connections -----------------------------------------------------------------------

    @property
    def connections(self) -> Iterable[Address]:
        return list(self._connections)

    def connected(self, connection: _Connection) -> None:
        if self._closing or len(self._connections) >= _MAX_CONNECTIONS:
            logger.warning(
                "SIP %s: refusing a connection from %s:%d", self.transport_name, *connection.peer
            )
            connection.close()
            return
        self._connections[connection.peer] = connection
        for data in self._waiting.pop(connection.peer, []):
            connection.write(data)

    def disconnected(self, connection: _Connection) -> None:
        if self._connections.get(connection.peer) is connection:
            del self._connections[connection.peer]

    def stream_received(self, data: bytes, source: Address) -> None:
        """One framed message from a connection's peer (the UDP path's datagram_received)."""
        self.datagram_received(data, source)

    def _send(self, data: bytes, destination: Address) -> None:
        connection = self._connections.get(destination)
        if connection is not None:
            connection.write(data)
            return
        if self._closing:
            return
        waiting = self._waiting.get(destination)
        if waiting is not None:
            waiting.append(data)
            return
        self._waiting[destination] = [data]
        self.spawn(self._connect(destination))

    async def _connect(self, destination: Address) -> None:
        """A connection of ours to a peer whose own one is gone (its Contact or Via)."""
        loop = asyncio.get_running_loop()
        limits = SipLimits(max_message_size=65_535)
        client_tls = ssl.create_default_context() if self._server_tls is not None else None
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT_S):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, limits),
                    destination[0],
                    destination[1],
                    ssl=client_tls,
                )
        except (OSError, TimeoutError, ssl.SSLError) as error:
            dropped = len(self._waiting.pop(destination, []))
            logger.warning(
                "SIP %s: cannot connect to %s:%d (%s); %d messages dropped",
                self.transport_name,
                *destination,
                error,
                dropped,
            )
            return
        # the peer's address as we dialled it is where the agent sends
        if connection.peer != destination:
            self._connections[destination] = connection
            for data in self._waiting.pop(destination, []):
                connection.write(data)
