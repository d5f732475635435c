"""SRTP and SRTCP for one call's media (RFC 3711) with libsrtp (pylibsrtp), keyed by the SDES
keys the SDP offer/answer agreed (protocol/sdp_crypto.py).

Outbound packets are protected with our key, inbound ones checked and decrypted with the
peer's; a packet that fails (forged, replayed, keyed otherwise) is dropped by the caller.
"""

from __future__ import annotations

import pylibsrtp

from voice_agent.protocol.rtp import is_rtcp
from voice_agent.protocol.sdp_crypto import SrtpKeys

_PROFILES = {
    "AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    "AES_CM_128_HMAC_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
}


class SrtpError(ValueError):
    """A packet that did not authenticate or decrypt."""


class SrtpContext:
    """Both directions of one stream's SRTP: protect what we send, unprotect what we get."""

    def __init__(self, keys: SrtpKeys) -> None:
        profile = _PROFILES.get(keys.suite)
        if profile is None:
            raise ValueError(f"unsupported SRTP suite {keys.suite}")
        self.keys = keys
        self._outbound = pylibsrtp.Session(
            pylibsrtp.Policy(
                key=keys.local_key,
                ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
                srtp_profile=profile,
            )
        )
        self._inbound = pylibsrtp.Session(
            pylibsrtp.Policy(
                key=keys.remote_key,
                ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
                srtp_profile=profile,
            )
        )

    def protect(self, packet: bytes) -> bytes:
        """An RTP or RTCP packet of ours, encrypted and authenticated."""
        if is_rtcp(packet):
            return bytes(self._outbound.protect_rtcp(packet))
        return bytes(self._outbound.protect(packet))

    def unprotect(self, packet: bytes) -> bytes:
        """The peer's SRTP or SRTCP packet in clear; SrtpError when it does not check out."""
        try:
            if is_rtcp(packet):
                return bytes(self._inbound.unprotect_rtcp(packet))
            return bytes(self._inbound.unprotect(packet))
        except pylibsrtp.Error as error:
            raise SrtpError(str(error)) from None
