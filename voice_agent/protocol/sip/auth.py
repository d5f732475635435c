"""SIP digest authentication: RFC 3261 §22 with the RFC 8760 algorithms (MD5, SHA-256, -sess).

Client side: answer a 401/407 challenge by re-sending the request with credentials.
Server side: stateless nonces (an HMAC over the time they were issued, so any
worker can check them), challenge and verify, nonce-count replay protection.
Only ``qop=auth`` is spoken; ``auth-int`` is refused.  Random values (cnonce) can
be passed in for deterministic tests; by default they come from ``secrets``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Self

from voice_agent.protocol.sip.message import (
    SipParseError,
    SipRequest,
    SipResponse,
    Via,
    build_response,
    new_branch,
    split_header_list,
)

logger = logging.getLogger(__name__)

_HASHES = {"MD5": "md5", "SHA-256": "sha256"}  # RFC 8760 name -> hashlib name
SUPPORTED_ALGORITHMS = frozenset({"SHA-256", "MD5", "SHA-256-SESS", "MD5-SESS"})  # upper-cased
_AUTH_PARAM = re.compile(r'\s*([A-Za-z0-9\-_]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*')


class AuthError(ValueError):
    """A challenge we cannot answer (unknown algorithm, auth-int only, malformed)."""


def _hash(algorithm: str, text: str) -> str:
    base = algorithm.upper().removesuffix("-SESS")
    if base not in _HASHES:
        raise AuthError(f"unsupported digest algorithm {algorithm}")
    return hashlib.new(_HASHES[base], text.encode()).hexdigest()


def digest_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The ``response`` value of RFC 7616 §3.4.1 (RFC 2069 form when qop is None)."""
    ha1 = _hash(algorithm, f"{username}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = _hash(algorithm, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop is None:
        return _hash(algorithm, f"{ha1}:{nonce}:{ha2}")
    return _hash(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _parse_auth(text: str) -> dict[str, str]:
    """``Digest a=1, b="x, y"`` -> {"a": "1", "b": "x, y"}; names lower-cased, quotes removed."""
    scheme, _, rest = text.strip().partition(" ")
    if scheme.lower() != "digest":
        raise AuthError(f"not a Digest challenge or credentials: {text[:40]!r}")
    params: dict[str, str] = {}
    for item in split_header_list(rest):
        match = _AUTH_PARAM.fullmatch(item)
        if match is None:
            raise AuthError(f"bad auth parameter {item!r}")
        value = match[2]
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[match[1].lower()] = value
    return params


def _require(params: dict[str, str], *names: str) -> None:
    missing = [name for name in names if name not in params]
    if missing:
        raise AuthError(f"missing {', '.join(missing)}")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class DigestChallenge:
    """A WWW-Authenticate or Proxy-Authenticate value."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ("auth",)
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, text: str) -> Self:
        params = _parse_auth(text)
        _require(params, "realm", "nonce")
        qop = tuple(q.strip() for q in params["qop"].split(",")) if "qop" in params else ()
        return cls(
            realm=params["realm"],
            nonce=params["nonce"],
            algorithm=params.get("algorithm", "MD5"),
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
        )

    def __str__(self) -> str:
        parts = [f"realm={_quoted(self.realm)}", f"nonce={_quoted(self.nonce)}"]
        if self.opaque is not None:
            parts.append(f"opaque={_quoted(self.opaque)}")
        parts.append(f"algorithm={self.algorithm}")
        if self.qop:
            parts.append(f"qop={_quoted(','.join(self.qop))}")
        if self.stale:
            parts.append("stale=true")
        return "Digest " + ", ".join(parts)

    def __bytes__(self) -> bytes:
        return str(self).encode()


@dataclass(frozen=True)
class DigestCredentials:
    """An Authorization or Proxy-Authorization value."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str | None = None  # absent means MD5
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None

    @classmethod
    def parse(cls, text: str) -> Self:
        params = _parse_auth(text)
        _require(params, "username", "realm", "nonce", "uri", "response")
        if "qop" in params:
            _require(params, "cnonce", "nc")
        return cls(
            username=params["username"],
            realm=params["realm"],
            nonce=params["nonce"],
            uri=params["uri"],
            response=params["response"],
            algorithm=params.get("algorithm"),
            cnonce=params.get("cnonce"),
            opaque=params.get("opaque"),
            qop=params.get("qop"),
            nc=params.get("nc"),
        )

    def __str__(self) -> str:
        parts = [
            f"{name}={_quoted(getattr(self, name))}"
            for name in ("username", "realm", "nonce", "uri", "response")
        ]
        if self.algorithm is not None:
            parts.append(f"algorithm={self.algorithm}")
        if self.cnonce is not None:
            parts.append(f"cnonce={_quoted(self.cnonce)}")
        if self.opaque is not None:
            parts.append(f"opaque={_quoted(self.opaque)}")
        if self.qop is not None:
            parts += [f"qop={self.qop}", f"nc={self.nc}"]
        return "Digest " + ", ".join(parts)

    def __bytes__(self) -> bytes:
        return str(self).encode()

    def expected_response(self, password: str, method: str) -> str:
        return digest_response(
            algorithm=self.algorithm or "MD5",
            username=self.username,
            realm=self.realm,
            password=password,
            method=method,
            uri=self.uri,
            nonce=self.nonce,
            qop=self.qop,
            nc=self.nc,
            cnonce=self.cnonce,
        )


def _challenge_headers(status: int) -> tuple[str, str]:
    """(challenge header, credentials header) for a 401 or a 407."""
    if status == 407:
        return "Proxy-Authenticate", "Proxy-Authorization"
    return "WWW-Authenticate", "Authorization"


class DigestClient:
    """Answers challenges for one account, counting nonce uses (nc) per nonce."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._nonce_counts: dict[str, int] = {}

    def credentials(
        self, challenge: DigestChallenge, method: str, uri: str, *, cnonce: str | None = None
    ) -> DigestCredentials:
        if challenge.qop and "auth" not in challenge.qop:
            raise AuthError(f"only qop=auth is supported, offered {','.join(challenge.qop)}")
        qop = "auth" if challenge.qop else None
        count = self._nonce_counts.get(challenge.nonce, 0) + 1
        self._nonce_counts[challenge.nonce] = count
        nc = f"{count:08x}" if qop else None
        cnonce = (cnonce or secrets.token_hex(8)) if qop else None
        algorithm = challenge.algorithm
        return DigestCredentials(
            username=self.username,
            realm=challenge.realm,
            nonce=challenge.nonce,
            uri=uri,
            response=digest_response(
                algorithm=algorithm,
                username=self.username,
                realm=challenge.realm,
                password=self._password,
                method=method,
                uri=uri,
                nonce=challenge.nonce,
                qop=qop,
                nc=nc,
                cnonce=cnonce,
            ),
            # RFC 2617 clients may omit MD5; say it always except for plain MD5
            algorithm=None if algorithm.upper() == "MD5" else algorithm,
            cnonce=cnonce,
            opaque=challenge.opaque,
            qop=qop,
            nc=nc,
        )

    def authorize(
        self,
        request: SipRequest,
        response: SipResponse,
        *,
        cnonce: str | None = None,
        branch: str | None = None,
    ) -> SipRequest:
        """The request again, with credentials for ``response``'s challenge, a CSeq one higher
        and a new branch: a new transaction (RFC 3261 §22.2).

        RFC 8760 §2.4: the server lists challenges in order of preference; we take the first
        one whose algorithm we support.
        """
        challenge_name, credentials_name = _challenge_headers(response.status)
        challenge = next(
            (
                parsed
                for parsed in map(DigestChallenge.parse, response.headers.get_all(challenge_name))
                if parsed.algorithm.upper() in SUPPORTED_ALGORITHMS
            ),
            None,
        )
        if challenge is None:
            raise AuthError(f"no supported {challenge_name} in {response.status} response")
        credentials = self.credentials(challenge, request.method, request.uri, cnonce=cnonce)
        headers = request.headers.copy()
        top_via = Via.parse(headers.values("Via")[0])
        new_via = Via(
            top_via.host,
            top_via.port,
            top_via.transport,
            {**top_via.params, "branch": branch or new_branch()},
            top_via.protocol,
        )
        headers.set("Via", str(new_via))
        headers.set("CSeq", f"{request.cseq.seq + 1} {request.method}")
        headers.set(credentials_name, str(credentials))
        return SipRequest(
            headers=headers,
            body=request.body,
            method=request.method,
            uri=request.uri,
            version=request.version,
        )


class AuthOutcome(Enum):
    OK = "ok"
    MISSING = "missing"  # no credentials for our realm: challenge
    STALE = "stale"  # good credentials on an expired nonce: challenge with stale=true
    REJECTED = "rejected"  # wrong password, unknown user, forged nonce, replay: 403 or challenge


@dataclass(frozen=True)
class AuthResult:
    outcome: AuthOutcome
    username: str | None = None
    reason: str = ""


class DigestServer:
    """Challenges requests and verifies the answers for one realm.

    The nonce is ``<issued ms in hex>.<HMAC(secret, issued:realm)>``, so it needs no table;
    the highest nonce-count seen per nonce is kept to refuse replays.
    """

    def __init__(
        self,
        realm: str,
        secret: bytes,
        *,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
        nonce_lifetime: float = 300.0,
        proxy: bool = False,
    ) -> None:
        unknown = [a for a in algorithms if a.upper() not in _HASHES]
        if unknown or not algorithms:
            raise AuthError(f"unsupported server algorithms {unknown or algorithms}")
        self.realm = realm
        self._secret = secret
        self._algorithms = algorithms
        self._lifetime = nonce_lifetime
        self._status = 407 if proxy else 401
        self._nonce_counts: dict[str, int] = {}

    def nonce(self, now: float) -> str:
        issued = f"{round(now * 1000):x}"
        return f"{issued}.{self._mac(issued)}"

    def _mac(self, issued: str) -> str:
        message = f"{issued}:{self.realm}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def _nonce_age(self, nonce: str, now: float) -> float | None:
        """Seconds since we issued ``nonce``, or None if we did not issue it."""
        issued, dot, mac = nonce.partition(".")
        if not dot or not hmac.compare_digest(mac, self._mac(issued)):
            return None
        try:
            return now - int(issued, 16) / 1000
        except ValueError:
            return None

    def challenges(self, now: float, *, stale: bool = False) -> list[DigestChallenge]:
        nonce = self.nonce(now)
        return [
            DigestChallenge(self.realm, nonce, algorithm, ("auth",), stale=stale)
            for algorithm in self._algorithms
        ]

    def challenge(
        self, request: SipRequest, now: float, *, to_tag: str, stale: bool = False
    ) -> SipResponse:
        """A 401 (or 407 for a proxy) listing one challenge per algorithm, preferred first."""
        header, _ = _challenge_headers(self._status)
        fields = [(header, str(c)) for c in self.challenges(now, stale=stale)]
        return build_response(request, self._status, to_tag=to_tag, headers=fields)

    def verify(
        self, request: SipRequest, now: float, password_for: Callable[[str], str | None]
    ) -> AuthResult:
        """Check the request's credentials for our realm; ``password_for`` maps user -> password."""
        _, credentials_name = _challenge_headers(self._status)
        try:
            offered = [
                DigestCredentials.parse(v) for v in request.headers.get_all(credentials_name)
            ]
        except (AuthError, SipParseError) as error:
            return AuthResult(AuthOutcome.REJECTED, reason=f"malformed credentials: {error}")
        ours = [c for c in offered if c.realm == self.realm]
        if not ours:
            return AuthResult(AuthOutcome.MISSING, reason=f"no credentials for realm {self.realm}")
        return self._check(ours[0], request, now, password_for)

    def _check(
        self,
        credentials: DigestCredentials,
        request: SipRequest,
        now: float,
        password_for: Callable[[str], str | None],
    ) -> AuthResult:
        user = credentials.username
        algorithm = (credentials.algorithm or "MD5").upper()
        if algorithm not in {a.upper() for a in self._algorithms}:
            return AuthResult(AuthOutcome.REJECTED, user, f"algorithm {algorithm} not offered")
        if credentials.qop != "auth":
            return AuthResult(AuthOutcome.REJECTED, user, "qop=auth is required")
        if credentials.uri != request.uri:
            return AuthResult(AuthOutcome.REJECTED, user, "digest uri differs from Request-URI")
        age = self._nonce_age(credentials.nonce, now)
        if age is None:
            return AuthResult(AuthOutcome.REJECTED, user, "nonce was not issued here")
        password = password_for(user)
        if password is None:
            return AuthResult(AuthOutcome.REJECTED, user, "unknown user")
        expected = credentials.expected_response(password, request.method)
        if not hmac.compare_digest(expected, credentials.response.lower()):
            return AuthResult(AuthOutcome.REJECTED, user, "wrong response")
        if age > self._lifetime:
            return AuthResult(AuthOutcome.STALE, user, "nonce expired")
        if not self._count_is_new(credentials, now):
            return AuthResult(AuthOutcome.REJECTED, user, "nonce count replayed")
        return AuthResult(AuthOutcome.OK, user)

    def _count_is_new(self, credentials: DigestCredentials, now: float) -> bool:
        try:
            count = int(credentials.nc or "", 16)
        except ValueError:
            return False
        # forget nonces that have expired anyway, so the table stays small
        for nonce in [
            n for n in self._nonce_counts if (self._nonce_age(n, now) or 0) > self._lifetime
        ]:
            del self._nonce_counts[nonce]
        if count <= self._nonce_counts.get(credentials.nonce, 0):
            return False
        self._nonce_counts[credentials.nonce] = count
        return True
