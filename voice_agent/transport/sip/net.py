"""Addresses for the SIP shells: names resolved off the state machine, our own address."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from voice_agent.protocol.sip.agent_calls import is_ip

logger = logging.getLogger(__name__)

Address = tuple[str, int]
_DROPS_CHECK_S = 1.0


async def resolve(host: str, port: int) -> Address:
    """An IP host as it is; a name through the resolver (the first address)."""
    if is_ip(host):
        return (host.strip("[]"), port)
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError(f"cannot resolve {host}")
    address = infos[0][4]
    return (str(address[0]), int(address[1]))


def local_address_towards(peer: str) -> str:
    """The local address the OS would use to reach `peer` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((peer, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


class DropWatch:
    """Warns when the kernel dropped datagrams since the last look (at most once a second)."""

    def __init__(self, drops: Callable[[], int | None]) -> None:
        self._drops = drops
        self._seen = 0
        self._checked_at: float | None = None

    def check(self, now: float) -> None:
        if self._checked_at is not None and now - self._checked_at < _DROPS_CHECK_S:
            return
        self._checked_at = now
        drops = self._drops()
        if drops is not None and drops > self._seen:
            logger.warning(
                "SIP socket: %d datagrams dropped, its receive buffer was full (%d in all)",
                drops - self._seen,
                drops,
            )
            self._seen = drops
