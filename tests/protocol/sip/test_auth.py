import hashlib

import pytest

from tests.protocol.fixtures import sip_fixture
from voice_agent.protocol.sip.auth import (
    AuthError,
    AuthOutcome,
    DigestChallenge,
    DigestClient,
    DigestCredentials,
    DigestServer,
    digest_response,
)
from voice_agent.protocol.sip.message import SipRequest, SipResponse, build_response

RFC7616_EXAMPLE = {
    "username": "Mufasa",
    "realm": "http-auth@example.org",
    "password": "Circle of Life",
    "method": "GET",
    "uri": "/dir/index.html",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "qop": "auth",
    "nc": "00000001",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
}
USERS = {"alice": "wonderland"}


def test_rfc2617_md5_example() -> None:
    response = digest_response(
        algorithm="MD5",
        username="Mufasa",
        realm="testrealm@host.com",
        password="Circle Of Life",
        method="GET",
        uri="/dir/index.html",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        qop="auth",
        nc="00000001",
        cnonce="0a4f113b",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_rfc7616_examples_for_both_algorithms() -> None:
    assert digest_response(algorithm="MD5", **RFC7616_EXAMPLE) == "8ca523f5e9506fed4657c9700eebdbec"
    assert (
        digest_response(algorithm="SHA-256", **RFC7616_EXAMPLE)
        == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_sha256_and_sess_against_an_independent_computation() -> None:
    fields = {
        "username": "agent",
        "realm": "shop.example",
        "password": "pa:ss wörd",
        "method": "REGISTER",
        "uri": "sip:shop.example",
        "nonce": "abc123",
        "qop": "auth",
        "nc": "0000000a",
        "cnonce": "xyz",
    }
    ha1 = _sha256("agent:shop.example:pa:ss wörd")
    ha2 = _sha256("REGISTER:sip:shop.example")
    expected = _sha256(f"{ha1}:abc123:0000000a:xyz:auth:{ha2}")
    assert digest_response(algorithm="SHA-256", **fields) == expected
    sess_ha1 = _sha256(f"{ha1}:abc123:xyz")
    expected_sess = _sha256(f"{sess_ha1}:abc123:0000000a:xyz:auth:{ha2}")
    assert digest_response(algorithm="SHA-256-sess", **fields) == expected_sess
    rfc2069 = _sha256(f"{ha1}:abc123:{ha2}")
    without_qop = {name: value for name, value in fields.items() if name != "qop"}
    assert digest_response(algorithm="SHA-256", qop=None, **without_qop) == rfc2069


def test_captured_baresip_credentials_verify() -> None:
    register = SipRequest.parse(sip_fixture("baresip_register_auth.sip"))
    header = register.header("Authorization")
    credentials = DigestCredentials.parse(header)
    assert str(credentials) == header  # written back exactly as baresip wrote it
    assert (credentials.username, credentials.qop, credentials.nc) == ("alice", "auth", "00000001")
    assert credentials.expected_response("wonderland", "REGISTER") == credentials.response
    assert credentials.expected_response("alice", "REGISTER") != credentials.response


def test_challenge_parse_and_write() -> None:
    response = SipResponse.parse(sip_fixture("register_401_sha256.sip"))
    first, second = (DigestChallenge.parse(v) for v in response.headers.get_all("WWW-Authenticate"))
    assert (first.algorithm, second.algorithm) == ("SHA-256", "MD5")
    assert first.realm == "shop.example" and first.qop == ("auth",)
    assert first.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    assert DigestChallenge.parse(str(first)) == first
    stale = DigestChallenge.parse(
        'Digest realm="r", nonce="n, with comma", stale=TRUE, qop="auth,auth-int"'
    )
    assert stale.stale and stale.nonce == "n, with comma" and stale.qop == ("auth", "auth-int")
    for bad in ('Basic realm="r"', 'Digest realm="r"', "Digest realm"):
        with pytest.raises(AuthError):
            DigestChallenge.parse(bad)


def test_client_answers_the_first_supported_challenge() -> None:
    register = SipRequest.parse(sip_fixture("baresip_register.sip"))
    challenge = SipResponse.parse(sip_fixture("register_401_sha256.sip"))
    client = DigestClient("alice", "wonderland")
    retry = client.authorize(register, challenge, cnonce="c1", branch="z9hG4bKretry")
    credentials = DigestCredentials.parse(retry.header("Authorization"))
    assert credentials.algorithm == "SHA-256"
    assert credentials.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    assert credentials.uri == register.uri and credentials.cnonce == "c1"
    expected = digest_response(
        algorithm="SHA-256",
        username="alice",
        realm="shop.example",
        password="wonderland",
        method="REGISTER",
        uri=register.uri,
        nonce="YmRhNDk2ZTQ2ZjNmYjgwMjUwMzU0ZjE0Yjc0MGQ0ODI",
        qop="auth",
        nc="00000001",
        cnonce="c1",
    )
    assert credentials.response == expected
    assert retry.cseq.seq == register.cseq.seq + 1
    assert retry.top_via.branch == "z9hG4bKretry" and "rport" in retry.top_via.params
    assert retry.call_id == register.call_id and retry.from_addr == register.from_addr
    assert register.headers.get("Authorization") is None  # the original is left alone
    again = client.authorize(retry, challenge, cnonce="c2")
    assert DigestCredentials.parse(again.header("Authorization")).nc == "00000002"
    assert len(again.headers.get_all("Authorization")) == 1


def test_client_refuses_what_it_cannot_answer() -> None:
    register = SipRequest.parse(sip_fixture("baresip_register.sip"))
    client = DigestClient("alice", "wonderland")
    only_int = build_response(
        register, 401, headers=[("WWW-Authenticate", 'Digest realm="r", nonce="n", qop="auth-int"')]
    )
    with pytest.raises(AuthError, match="qop=auth"):
        client.authorize(register, only_int)
    unknown = build_response(
        register,
        401,
        headers=[("WWW-Authenticate", 'Digest realm="r", nonce="n", algorithm=SHA-512-256')],
    )
    with pytest.raises(AuthError, match="no supported WWW-Authenticate"):
        client.authorize(register, unknown)


def test_server_challenge_then_verify() -> None:
    server = DigestServer("shop.example", b"server secret")
    register = SipRequest.parse(sip_fixture("baresip_register.sip"))
    assert server.verify(register, 10.0, USERS.get).outcome is AuthOutcome.MISSING
    challenge = server.challenge(register, 10.0, to_tag="t1")
    assert challenge.status == 401
    assert [
        DigestChallenge.parse(v).algorithm for v in challenge.headers.get_all("WWW-Authenticate")
    ] == [
        "SHA-256",
        "MD5",
    ]
    retry = DigestClient("alice", "wonderland").authorize(register, challenge)
    result = server.verify(retry, 12.0, USERS.get)
    assert (result.outcome, result.username) == (AuthOutcome.OK, "alice")
    assert server.verify(retry, 12.5, USERS.get).reason == "nonce count replayed"


def test_server_rejections() -> None:
    server = DigestServer("shop.example", b"server secret", nonce_lifetime=60.0)
    register = SipRequest.parse(sip_fixture("baresip_register.sip"))
    challenge = server.challenge(register, 0.0, to_tag="t1")

    def attempt(user: str, password: str, at: float, tamper: str = "") -> str:
        retry = DigestClient(user, password).authorize(register, challenge)
        if tamper:
            header = retry.header("Authorization")
            retry.headers.set("Authorization", header.replace('nonce="', f'nonce="{tamper}'))
        result = server.verify(retry, at, USERS.get)
        return f"{result.outcome.value}: {result.reason}"

    assert attempt("alice", "wrong", 1.0) == "rejected: wrong response"
    assert attempt("mallory", "x", 1.0) == "rejected: unknown user"
    assert attempt("alice", "wonderland", 61.0) == "stale: nonce expired"
    assert attempt("alice", "wonderland", 1.0, tamper="1") == "rejected: nonce was not issued here"
    other_realm = DigestServer("other.example", b"server secret")
    retry = DigestClient("alice", "wonderland").authorize(register, challenge)
    assert other_realm.verify(retry, 1.0, USERS.get).outcome is AuthOutcome.MISSING
    moved = SipRequest.parse(
        bytes(retry).replace(b"REGISTER sip:127.0.0.1:5099", b"REGISTER sip:evil", 1)
    )
    assert server.verify(moved, 1.0, USERS.get).reason == "digest uri differs from Request-URI"


def test_md5_only_server_and_proxy_challenges() -> None:
    proxy = DigestServer("trunk.example", b"k", algorithms=("MD5",), proxy=True)
    invite = SipRequest.parse(sip_fixture("baresip_invite.sip"))
    challenge = proxy.challenge(invite, 5.0, to_tag="p1")
    assert challenge.status == 407 and "WWW-Authenticate" not in challenge.headers
    retry = DigestClient("alice", "wonderland").authorize(invite, challenge)
    credentials = DigestCredentials.parse(retry.header("Proxy-Authorization"))
    assert credentials.algorithm is None  # plain MD5 is left implicit, as RFC 2617 clients do
    assert proxy.verify(retry, 6.0, USERS.get).outcome is AuthOutcome.OK
    sha_only = DigestServer("trunk.example", b"k", algorithms=("SHA-256",), proxy=True)
    assert sha_only.verify(retry, 6.0, USERS.get).reason == "algorithm MD5 not offered"
    with pytest.raises(AuthError):
        DigestServer("r", b"k", algorithms=("SHA-1",))
