"""A fake UDP network: datagram protocols wired to each other in memory, with scripted loss.

`FakeNetwork.attach(protocol, address)` gives the protocol a transport whose `sendto` hands
the datagram straight to the protocol bound at the destination (or records it as undeliverable),
so a test sees every datagram and decides which ones are lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Address = tuple[str, int]


@dataclass(frozen=True)
class Datagram:
    source: Address
    destination: Address
    data: bytes


class FakeDatagramTransport(asyncio.DatagramTransport):
    def __init__(self, network: FakeNetwork, address: Address) -> None:
        super().__init__()
        self._network = network
        self.address = address
        self._closing = False

    def sendto(self, data: bytes | bytearray | memoryview, addr: Any = None) -> None:
        if self._closing:
            return
        self._network.send(Datagram(self.address, (addr[0], addr[1]), bytes(data)))

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._network.detach(self.address)

    def is_closing(self) -> bool:
        return self._closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sockname":
            return self.address
        return default


@dataclass
class FakeNetwork:
    endpoints: dict[Address, asyncio.DatagramProtocol] = field(default_factory=dict)
    sent: list[Datagram] = field(default_factory=list)
    drop: Callable[[Datagram], bool] = lambda datagram: False

    def attach(self, protocol: asyncio.DatagramProtocol, address: Address) -> FakeDatagramTransport:
        transport = FakeDatagramTransport(self, address)
        self.endpoints[address] = protocol
        protocol.connection_made(transport)
        return transport

    def detach(self, address: Address) -> None:
        self.endpoints.pop(address, None)

    def send(self, datagram: Datagram) -> None:
        self.sent.append(datagram)
        receiver = self.endpoints.get(datagram.destination)
        if receiver is not None and not self.drop(datagram):
            receiver.datagram_received(datagram.data, datagram.source)

    def sent_to(self, address: Address) -> list[Datagram]:
        return [datagram for datagram in self.sent if datagram.destination == address]


class Recorder(asyncio.DatagramProtocol):
    """A peer that only listens."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, Address]] = []

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.received.append((data, addr))
