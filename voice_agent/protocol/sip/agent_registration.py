"""Keeping the agent registered with its trunk: REGISTER, answer one challenge, refresh.

The registration is refreshed at half the lifetime granted (so a lost REGISTER can be retried
before it expires), retried `retry_s` after a failure, and asked again at once with the
registrar's minimum after 423 Interval Too Brief.
"""

from __future__ import annotations

import logging

from voice_agent.protocol.numbers import delta_seconds
from voice_agent.protocol.sip.agent_calls import ALLOWED, AgentConfig, TrunkAccount, Wire
from voice_agent.protocol.sip.agent_events import (
    Address,
    Registered,
    RegistrationFailed,
    Unregistered,
)
from voice_agent.protocol.sip.auth import AuthError, DigestClient, DigestCredentials
from voice_agent.protocol.sip.message import (
    NameAddr,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
)

logger = logging.getLogger(__name__)


class Registration:
    def __init__(
        self, wire: Wire, config: AgentConfig, trunk: TrunkAccount, destination: Address
    ) -> None:
        self._wire = wire
        self._config = config
        self._trunk = trunk
        self.destination = destination
        self._registrar = SipUri.parse(trunk.registrar)
        self._domain = trunk.domain or self._registrar.host
        self._digest = DigestClient(trunk.username, trunk.password)
        self._call_id = new_call_id(config.host)
        self._from_tag = new_tag()
        self._seq = 0
        self._expires = trunk.expires_s
        self._challenged = False  # this exchange answered its one challenge
        self._algorithm: str | None = None
        self._in_flight = False
        self._stopping = False
        self.due: float | None = None
        """When the next REGISTER goes (a refresh or a retry); None while one is in flight."""
        self.registered_until: float | None = None
        self.attempts = 0
        self.successes = 0
        self.algorithms: list[str] = []
        """The digest algorithm of each challenge answered (MD5, SHA-256), in order."""

    @property
    def registrar(self) -> str:
        return str(self._registrar)

    def start(self, now: float) -> None:
        self._stopping = False
        self._begin(self._trunk.expires_s, now)

    def stop(self, now: float) -> None:
        """Unregister (Expires: 0) if registered; no more refreshes either way."""
        self._stopping = True
        self.due = None
        if self.registered_until is not None:
            self._begin(0, now)

    def on_timer(self, now: float) -> None:
        if self.due is not None and now >= self.due and not self._in_flight:
            self._begin(self._expires, now)

    # --- one exchange ---------------------------------------------------------------------------

    def _begin(self, expires: int, now: float) -> None:
        self.due = None
        self._expires = expires
        self._challenged = False
        self._algorithm = None
        self.attempts += 1
        self._send(self._request(expires), now)

    def _send(self, request: SipRequest, now: float) -> None:
        self._in_flight = True
        self._wire.request(
            request,
            self.destination,
            lambda response, at: self._on_response(request, response, at),
            lambda at: self._on_response(request, build_response(request, 408), at),
            now,
        )

    def _on_response(self, request: SipRequest, response: SipResponse, now: float) -> None:
        if response.is_provisional:
            return
        self._in_flight = False
        if response.status in (401, 407) and not self._challenged:
            self._answer_challenge(request, response, now)
            return
        minimum = delta_seconds(response.headers.get("Min-Expires"))
        if response.status == 423 and minimum is not None and minimum > self._expires:
            self._begin(minimum, now)  # the registrar's minimum: ask again at once
            return
        if not response.is_success:
            self._failed(f"refused: {response.status} {response.reason}", now)
            return
        if self._expires == 0:
            logger.info("unregistered from %s", self.registrar)
            self.registered_until = None
            self._wire.emit(Unregistered(self.registrar))
            return
        granted = self._granted(response)
        self.registered_until = now + granted
        self.successes += 1
        self.due = None if self._stopping else now + granted / 2
        logger.info("registered with %s for %d s", self.registrar, granted)
        self._wire.emit(Registered(self.registrar, granted, now + granted, self._algorithm))

    def _answer_challenge(self, request: SipRequest, response: SipResponse, now: float) -> None:
        self._challenged = True
        if not self._realm_ok(response):
            self._failed("challenged for a realm other than the configured one", now)
            return
        try:
            authorized = self._digest.authorize(request, response)
        except AuthError as error:
            self._failed(f"cannot answer the challenge: {error}", now)
            return
        self._algorithm = _algorithm_of(authorized)
        self.algorithms.append(self._algorithm)
        self._seq = authorized.cseq.seq
        self._send(authorized, now)

    def _failed(self, reason: str, now: float) -> None:
        logger.warning("registration with %s failed: %s", self.registrar, reason)
        if self._expires != 0:
            self.registered_until = None
        retry_at = None if self._stopping else now + self._trunk.retry_s
        self.due = retry_at
        self._wire.emit(RegistrationFailed(self.registrar, reason, retry_at))

    # --- the REGISTER -----------------------------------------------------------------------------

    def _contact(self) -> NameAddr:
        config = self._config
        params = config.contact.uri.params
        return NameAddr(SipUri(config.host, self._trunk.username, config.port, params=params))

    def _request(self, expires: int) -> SipRequest:
        config = self._config
        self._seq += 1
        aor = SipUri(self._domain, self._trunk.username)
        via = Via(
            config.host, config.port, config.transport, {"branch": new_branch(), "rport": None}
        )
        fields = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            ("From", f"<{aor}>;tag={self._from_tag}"),
            ("To", f"<{aor}>"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._seq} REGISTER"),
            ("Contact", str(self._contact())),
            ("Expires", str(expires)),
            ("Allow", ", ".join(ALLOWED)),
        ]
        request_uri = SipUri(self._registrar.host, None, self._registrar.port)
        return SipRequest.create("REGISTER", str(request_uri), fields)

    def _realm_ok(self, response: SipResponse) -> bool:
        wanted = self._trunk.realm
        if wanted is None:
            return True
        challenges = response.headers.get_all("WWW-Authenticate") + response.headers.get_all(
            "Proxy-Authenticate"
        )
        return any(f'realm="{wanted}"' in challenge for challenge in challenges)

    def _granted(self, response: SipResponse) -> int:
        ours = self._contact().uri
        for contact in response.contacts:
            if (contact.uri.host, contact.uri.port) == (ours.host, ours.port):
                granted = delta_seconds(contact.params.get("expires"))
                if granted is not None:
                    return granted
        granted = delta_seconds(response.headers.get("Expires"))
        return self._expires if granted is None else granted


def _algorithm_of(request: SipRequest) -> str:
    value = request.headers.get("Authorization") or request.headers.get("Proxy-Authorization")
    algorithm = DigestCredentials.parse(value).algorithm if value else None
    return (algorithm or "MD5").upper()
