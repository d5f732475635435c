"""Keeping the phone line registered with its trunk: the registrar's name resolved here, the
REGISTER exchanges and refreshes done by the user agent (protocol/sip/agent_registration.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from voice_agent.clock import Clock
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_events import (
    Event,
    Output,
    Registered,
    RegistrationFailed,
    Unregistered,
)
from voice_agent.protocol.sip.message import SipUri
from voice_agent.settings import SipTrunkSettings
from voice_agent.transport.sip.net import Address, resolve
from voice_agent.transport.sip_access import AccessControl

logger = logging.getLogger(__name__)

_UNREGISTER_WAIT_S = 5.0


class RegistrarLine(Protocol):
    clock: Clock
    access: AccessControl

    @property
    def agent(self) -> UserAgent: ...

    def act(self, step: Callable[[UserAgent, float], Output]) -> None: ...


class Registration:
    def __init__(self, line: RegistrarLine, trunk: SipTrunkSettings) -> None:
        self._line = line
        self._trunk = trunk
        self._registrar = SipUri.parse(trunk.registrar)
        self._task: asyncio.Task[None] | None = None
        self._unregistered = asyncio.Event()
        self.destination: Address | None = None
        self.registered = asyncio.Event()

    # what the user agent knows of it
    @property
    def registered_until(self) -> float | None:
        state = self._line.agent.registration
        return state.registered_until if state else None

    @property
    def successes(self) -> int:
        state = self._line.agent.registration
        return state.successes if state else 0

    @property
    def attempts(self) -> int:
        state = self._line.agent.registration
        return state.attempts if state else 0

    @property
    def algorithms(self) -> list[str]:
        """The digest algorithm of each challenge answered (MD5, SHA-256), in order."""
        state = self._line.agent.registration
        return list(state.algorithms) if state else []

    def start(self) -> None:
        self._task = asyncio.create_task(self._locate_and_register())

    async def stop(self) -> None:
        """Stop refreshing; unregister (Expires: 0) when registered, waiting a little."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        was_registered = self.registered_until is not None
        self._unregistered.clear()
        self._line.act(lambda agent, now: agent.unregister(now))
        if was_registered:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_UNREGISTER_WAIT_S):
                    await self._unregistered.wait()

    def on_event(self, event: Event) -> None:
        if isinstance(event, Registered):
            self.registered.set()
        elif isinstance(event, Unregistered) or (
            isinstance(event, RegistrationFailed) and event.retry_at is None
        ):
            self._unregistered.set()

    async def _locate_and_register(self) -> None:
        """Resolve the registrar (until it resolves), trust its address, and register."""
        port = self._registrar.port or 5060
        while True:
            try:
                destination = await resolve(self._registrar.host, port)
                break
            except OSError as error:
                logger.warning("registrar %s unreachable: %s", self._registrar, error)
                await self._line.clock.sleep(self._trunk.retry_s)
        self.destination = destination
        self._line.access.set_trunk(destination)
        self._line.act(lambda agent, now: agent.register(destination, now))
