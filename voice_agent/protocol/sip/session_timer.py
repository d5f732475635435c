"""SIP session timers (RFC 4028): a call that nobody refreshes ends by itself.

One side, the refresher, repeats a re-INVITE (or UPDATE) before half the interval is over;
the other ends the call with BYE when no refresh came by the interval minus min(32, a third
of it) seconds (§10). Trunks use it to clear calls whose other end has silently gone.

Here: reading and writing Session-Expires and Min-SE, the agreement for a request we answer
or a response we read, and `SessionTimer`, the per-call clock the user agent (agent.py) asks
when a refresh is due and when the call has expired. No sockets, no clock: times come in.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_agent.protocol.numbers import delta_seconds
from voice_agent.protocol.sip.message import SipParseError, SipRequest, SipResponse, parse_params

TIMER = "timer"
"""The option tag of RFC 4028, in Supported and Require."""

EXPIRY_MARGIN_MAX_S = 32.0
GLARE_RETRY_S = 2.5
"""A refresh met by 491 (both sides re-INVITE at once) is tried again this much later."""


def option_tags(message: SipRequest | SipResponse, header: str) -> set[str]:
    return {value.strip().lower() for value in message.headers.values(header)}


def supports_timer(message: SipRequest | SipResponse) -> bool:
    return TIMER in option_tags(message, "Supported") | option_tags(message, "Require")


def allows_update(message: SipRequest | SipResponse) -> bool:
    """The peer's Allow names UPDATE: refreshes may use it (RFC 4028 §7.4, RFC 3311)."""
    return "UPDATE" in (method.strip().upper() for method in message.headers.values("Allow"))


@dataclass(frozen=True)
class SessionExpires:
    """A Session-Expires value: `interval` seconds; `refresher` "uac", "uas" or None."""

    interval: int
    refresher: str | None = None

    @classmethod
    def read(cls, message: SipRequest | SipResponse) -> SessionExpires | None:
        """The message's Session-Expires (or x), None when absent; SipParseError when bad."""
        value = message.headers.get("Session-Expires")
        if value is None:
            return None
        number, _, params_text = value.partition(";")
        interval = delta_seconds(number)
        if interval is None or interval == 0:
            raise SipParseError(f"Session-Expires must be a positive number of seconds: {value!r}")
        refresher = parse_params(";" + params_text).get("refresher") if params_text else None
        refresher = refresher.lower() if refresher else None
        if refresher not in (None, "uac", "uas"):
            raise SipParseError(f"Session-Expires refresher must be uac or uas: {value!r}")
        return cls(interval, refresher)

    def __str__(self) -> str:
        return (
            f"{self.interval};refresher={self.refresher}" if self.refresher else str(self.interval)
        )


def read_min_se(message: SipRequest | SipResponse) -> int | None:
    value = message.headers.get("Min-SE")
    if value is None:
        return None
    seconds = delta_seconds(value.partition(";")[0])
    if seconds is None:
        raise SipParseError(f"Min-SE must be a number of seconds: {value!r}")
    return seconds


@dataclass(frozen=True)
class Agreement:
    """The session timer agreed for a call: its interval and whether we refresh it."""

    interval: int
    we_refresh: bool
    peer_supports: bool = True
    """The peer named `timer` in Supported or Require: our 2xx may Require it."""

    def response_headers(self) -> list[tuple[str, str]]:
        """For our 2xx to the peer's request: we are the UAS of that transaction."""
        refresher = "uas" if self.we_refresh else "uac"
        headers = [("Session-Expires", f"{self.interval};refresher={refresher}")]
        if self.peer_supports:
            headers.append(("Require", TIMER))
        return headers


@dataclass(frozen=True)
class TooSmall:
    """The peer asked for an interval below our Min-SE: 422 with this Min-SE."""

    min_se: int


def agree_to_request(
    request: SipRequest, session_expires_s: int, min_se_s: int
) -> Agreement | TooSmall | None:
    """What to answer an INVITE, re-INVITE or UPDATE we received (§9); None: no session timer
    (the peer neither asked for one nor supports one)."""
    asked = SessionExpires.read(request)
    peer_supports = supports_timer(request)
    if asked is None and not peer_supports:
        return None
    if asked is not None and asked.interval < min_se_s:
        return TooSmall(min_se_s)
    floor = max(min_se_s, read_min_se(request) or 0)
    wanted = asked.interval if asked is not None else session_expires_s
    interval = max(floor, min(wanted, session_expires_s))
    if not peer_supports:
        we_refresh = True  # a proxy asked for timers the caller cannot refresh (§9)
    elif asked is not None and asked.refresher is not None:
        we_refresh = asked.refresher == "uas"
    else:
        we_refresh = False  # ours to choose: the caller refreshes, as most trunks expect
    return Agreement(interval, we_refresh, peer_supports)


def agree_to_response(response: SipResponse) -> Agreement | None:
    """The session timer in the 2xx to our INVITE, re-INVITE or UPDATE (§7.2): without
    Session-Expires the peer does not do timers and neither do we."""
    granted = SessionExpires.read(response)
    if granted is None:
        return None
    return Agreement(granted.interval, granted.refresher != "uas", supports_timer(response))


def request_headers(
    session_expires_s: int, min_se_s: int, refresher: str | None
) -> list[tuple[str, str]]:
    """For an INVITE, re-INVITE or UPDATE we send (we are its UAC)."""
    return [
        ("Supported", TIMER),
        ("Session-Expires", str(SessionExpires(session_expires_s, refresher))),
        ("Min-SE", str(min_se_s)),
    ]


class SessionTimer:
    """One call's session timer: when we must refresh, when the call has expired."""

    def __init__(self, agreement: Agreement, use_update: bool, now: float) -> None:
        self.use_update = use_update
        """The peer allows UPDATE: refresh with it (no SDP, no ACK) rather than re-INVITE."""
        self.interval = agreement.interval
        self.we_refresh = agreement.we_refresh
        self.refresh_at: float | None = None
        self.expires_at = now
        self.restart(agreement, now)

    def restart(self, agreement: Agreement, now: float) -> None:
        """A refresh succeeded (ours answered 2xx, or the peer's answered by us)."""
        self.interval = agreement.interval
        self.we_refresh = agreement.we_refresh
        self.expires_at = now + self.interval - min(EXPIRY_MARGIN_MAX_S, self.interval / 3)
        self.refresh_at = now + self.interval / 2 if self.we_refresh else None

    @property
    def deadline(self) -> float:
        if self.refresh_at is None:
            return self.expires_at
        return min(self.refresh_at, self.expires_at)

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def refresh_due(self, now: float) -> bool:
        return self.refresh_at is not None and now >= self.refresh_at

    def refresh_sent(self) -> None:
        self.refresh_at = None  # until its answer; without one the call expires

    def retry_at(self, when: float) -> None:
        self.refresh_at = min(when, self.expires_at)
