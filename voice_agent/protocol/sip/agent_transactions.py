"""The user agent's transaction layer: the server and client transaction tables (transaction.py
keyed by branch), their timers, and what is to be sent and told by the next `Output`.

It is the `Wire` the outbound calls and the registration use; agent.py is the core above it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from voice_agent.protocol.sip.agent_calls import AgentConfig, ResponseHandler, TimeoutHandler
from voice_agent.protocol.sip.agent_events import Address, Datagram, Event, Output
from voice_agent.protocol.sip.message import SipRequest, SipResponse
from voice_agent.protocol.sip.transaction import (
    ClientTransaction,
    ServerTransaction,
    TransactionKey,
    TransactionOutput,
    TransactionState,
    client_transaction,
    server_transaction,
    transaction_key,
)

logger = logging.getLogger(__name__)


@dataclass
class ServerEntry:
    transaction: ServerTransaction
    source: Address


@dataclass
class ClientEntry:
    transaction: ClientTransaction
    destination: Address
    on_response: ResponseHandler
    on_timeout: TimeoutHandler


class TransactionLayer:
    def __init__(self, config: AgentConfig) -> None:
        self._config = config
        self.server: dict[TransactionKey, ServerEntry] = {}
        self.client: dict[TransactionKey, ClientEntry] = {}
        self._send: list[Datagram] = []
        self._events: list[Event] = []

    # --- Wire -----------------------------------------------------------------------------------

    def request(
        self,
        request: SipRequest,
        destination: Address,
        on_response: ResponseHandler,
        on_timeout: TimeoutHandler,
        now: float,
    ) -> None:
        """Send a request through a new client transaction; its final response (or timeout)
        goes to the handlers."""
        request.headers.set("User-Agent", self._config.user_agent)
        transaction = client_transaction(
            request, reliable=self._config.reliable, timers=self._config.timers
        )
        entry = ClientEntry(transaction, destination, on_response, on_timeout)
        self.client[transaction.key] = entry
        self._apply(transaction.start(now), destination)

    def send(self, message: SipRequest | SipResponse, destination: Address) -> None:
        """Send outside any transaction (ACK for a 2xx, the 2xx's retransmissions)."""
        self.send_bytes(bytes(message), destination)

    def send_bytes(self, data: bytes, destination: Address) -> None:
        self._send.append(Datagram(data, destination))

    def emit(self, event: Event) -> None:
        self._events.append(event)

    # --- requests we receive --------------------------------------------------------------------

    def open(self, request: SipRequest, source: Address, now: float) -> ServerEntry | None:
        """A new server transaction for `request` (100 Trying sent for INVITE), or None when it
        is a retransmission of a known one, which answers it again by itself."""
        key = transaction_key(request)
        known = self.server.get(key)
        if known is not None:
            self._apply(known.transaction.receive(request, now), known.source)
            return None
        transaction = server_transaction(
            request, reliable=self._config.reliable, timers=self._config.timers
        )
        entry = ServerEntry(transaction, source)
        self.server[key] = entry
        self._apply(entry.transaction.start(now), source)
        return entry

    def respond(
        self, entry: ServerEntry, response: SipResponse, why: str | None, now: float
    ) -> None:
        """Send a response through its server transaction; refusals are logged with why."""
        request = entry.transaction.request
        if response.status >= 300:
            logger.info(
                "refused %s from %s:%d: %d %s (%s)",
                request.method,
                *entry.source,
                response.status,
                response.reason,
                why or "no reason given",
            )
        response.headers.set("Server", self._config.user_agent)
        self._apply(entry.transaction.respond(response, now), entry.source)

    def absorb_ack(self, ack: SipRequest, now: float) -> bool:
        """An ACK for a refusal of ours (its transaction stops retransmitting); False when it
        belongs to a 2xx, which the dialog's core handles."""
        entry = self.server.get(transaction_key(ack))
        if entry is None or entry.transaction.state is not TransactionState.COMPLETED:
            return False
        self._apply(entry.transaction.receive(ack, now), entry.source)
        return True

    # --- responses we receive -------------------------------------------------------------------

    def deliver(self, response: SipResponse, now: float) -> bool:
        """Hand a response to its client transaction; False when there is none."""
        entry = self.client.get(transaction_key(response))
        if entry is None:
            return False
        output = entry.transaction.receive(response, now)
        self._apply(output, entry.destination)
        for message in output.deliver:
            assert isinstance(message, SipResponse)
            entry.on_response(message, now)
        return True

    # --- time -----------------------------------------------------------------------------------

    def on_timer(self, now: float) -> list[TransactionKey]:
        """Fire the timers due; the keys of the server transactions that ended."""
        ended = []
        for key, server in list(self.server.items()):
            if due(server.transaction.deadline, now):
                self._apply(server.transaction.on_timer(now), server.source)
            if server.transaction.terminated:
                del self.server[key]
                ended.append(key)
        for key, client in list(self.client.items()):
            output = None
            if due(client.transaction.deadline, now):
                output = client.transaction.on_timer(now)
                self._apply(output, client.destination)
            if client.transaction.terminated:
                del self.client[key]
            if output is not None and output.timed_out:
                client.on_timeout(now)
        return ended

    def deadlines(self) -> list[float | None]:
        deadlines = [entry.transaction.deadline for entry in self.server.values()]
        return deadlines + [entry.transaction.deadline for entry in self.client.values()]

    def flush(self, deadline: float | None) -> Output:
        """Everything to send and tell since the last flush."""
        output = Output(tuple(self._send), tuple(self._events), deadline)
        self._send.clear()
        self._events.clear()
        return output

    def _apply(self, output: TransactionOutput, destination: Address) -> None:
        for message in output.send:
            self.send(message, destination)


def due(deadline: float | None, now: float) -> bool:
    return deadline is not None and deadline <= now
