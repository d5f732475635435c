"""Who may use the phone line: trusted networks, digest users, and a rate limit per source.

Scanners sweep the internet's port 5060 with OPTIONS and INVITE floods and guess passwords
with REGISTER. The line accepts requests from the trunk's address and the configured networks;
anyone else must authenticate as one of the configured users (digest, SHA-256 or MD5), or is
refused with 403. Every source address has a token bucket; what overflows it is dropped
unanswered (answering a flood is how a flood is amplified), and a malformed message costs more
than a good one. Every refusal is logged with its reason; drops are logged once per source and
interval with their count, so a flood cannot flood the log either.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from voice_agent.clock import Clock
from voice_agent.protocol.sip.auth import AuthOutcome, DigestServer
from voice_agent.protocol.sip.message import SipRequest, SipResponse, build_response, new_tag
from voice_agent.settings import SipSettings

logger = logging.getLogger(__name__)

Address = tuple[str, int]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX_SOURCES = 10_000
"""Buckets kept; the least recently seen source is forgotten first."""
_DROP_LOG_INTERVAL_S = 10.0
MALFORMED_COST = 5.0


@dataclass
class _Bucket:
    tokens: float
    updated: float
    dropped: int = 0
    logged_at: float | None = None


class RateLimiter:
    """A token bucket per source IP: `rate` messages per second, bursts of `burst`."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self.dropped = 0

    def allow(self, source: str, cost: float = 1.0) -> bool:
        now = self._clock.now()
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = _Bucket(self._burst, now)
            self._buckets[source] = bucket
            if len(self._buckets) > _MAX_SOURCES:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(source)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
            bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return True
        self._dropped(source, bucket, now)
        return False

    def _dropped(self, source: str, bucket: _Bucket, now: float) -> None:
        self.dropped += 1
        bucket.dropped += 1
        if bucket.logged_at is None or now - bucket.logged_at >= _DROP_LOG_INTERVAL_S:
            logger.warning(
                "dropping messages from %s: over the rate limit (%g/s, burst %d); "
                "%d dropped from it so far",
                source,
                self._rate,
                self._burst,
                bucket.dropped,
            )
            bucket.logged_at = now


@dataclass(frozen=True)
class Verdict:
    """The outcome of the access check: allowed, or the response that refuses (and why)."""

    allowed: bool
    reason: str
    response: SipResponse | None = None
    user: str | None = None


class AccessControl:
    def __init__(self, settings: SipSettings, clock: Clock, trunk: Address | None = None) -> None:
        self._networks: tuple[IpNetwork, ...] = tuple(
            ipaddress.ip_network(network, strict=False) for network in settings.allowed_networks
        )
        self._trunk = trunk
        self._clock = clock
        self._passwords = {user.username: user.password for user in settings.auth_users}
        self._digest = (
            DigestServer(
                settings.auth_realm,
                secrets.token_bytes(32),
                algorithms=settings.auth_algorithms,
            )
            if self._passwords
            else None
        )

    def set_trunk(self, trunk: Address | None) -> None:
        self._trunk = trunk

    def trusted(self, source: Address) -> bool:
        if self._trunk is not None and source == self._trunk:
            return True
        try:
            address = ipaddress.ip_address(source[0])
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def screen(self, request: SipRequest, source: Address) -> tuple[SipResponse, str] | None:
        """`check` as the user agent asks it (protocol/sip/agent.py): the refusal and why, or
        None to serve the request."""
        verdict = self.check(request, source)
        if verdict.allowed or verdict.response is None:
            return None
        return verdict.response, verdict.reason

    def check(self, request: SipRequest, source: Address) -> Verdict:
        """May this out-of-dialog request from `source` be served?"""
        if self.trusted(source):
            return Verdict(True, "trusted source")
        if self._digest is None:
            return Verdict(
                False,
                f"{source[0]} is not an allowed network and no users are configured",
                build_response(request, 403, to_tag=new_tag()),
            )
        now = self._clock.now()
        result = self._digest.verify(request, now, self._passwords.get)
        if result.outcome is AuthOutcome.OK:
            return Verdict(True, f"authenticated as {result.username}", user=result.username)
        if result.outcome is AuthOutcome.REJECTED:
            # a wrong answer gets a fresh challenge (a typo), but is logged as a refusal
            reason = f"authentication failed for {result.username or '?'}: {result.reason}"
        else:
            reason = (
                "authentication required"
                if result.outcome is AuthOutcome.MISSING
                else ("nonce expired")
            )
        stale = result.outcome is AuthOutcome.STALE
        challenge = self._digest.challenge(request, now, to_tag=new_tag(), stale=stale)
        return Verdict(False, reason, challenge)
