"""Helpers for the SIP over TCP/TLS tests: a self-signed certificate for 127.0.0.1, and a
scripted SIP peer on a stream connection."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from voice_agent.protocol.sip.message import (
    KeepAlive,
    SipMessage,
    SipRequest,
    SipResponse,
    StreamReader,
)

WAIT_S = 5.0


def self_signed_pems(host: str = "127.0.0.1") -> tuple[bytes, bytes]:
    """A certificate for `host` (an IP address; and localhost), valid for a day, and its key:
    (certificate PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), valid for a day: (its PEM, the key's)."""
    certificate, key = self_signed_pems()
    cert_path = directory / "sip.crt"
    key_path = directory / "sip.key"
    cert_path.write_bytes(certificate)
    key_path.write_bytes(key)
    return cert_path, key_path


class StreamPeer:
    """A SIP peer on one TCP or TLS connection: writes what the test sends, frames what comes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._framing = StreamReader()
        self._framed: list[SipMessage | KeepAlive] = []
        host, port = writer.get_extra_info("sockname")[:2]
        self.address = (str(host), int(port))

    @classmethod
    async def connect(cls, port: int, trust: Path | None = None) -> StreamPeer:
        """To the agent on 127.0.0.1:`port`, over TLS trusting `trust` when given."""
        context = None
        if trust is not None:
            context = ssl.create_default_context(cafile=str(trust))
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
        return cls(reader, writer)

    def send(self, message: SipMessage | bytes) -> None:
        self._writer.write(message if isinstance(message, bytes) else bytes(message))

    async def next(self, wait: float = WAIT_S) -> SipMessage | KeepAlive:
        async with asyncio.timeout(wait):
            while not self._framed:
                data = await self._reader.read(65_536)
                if not data:
                    raise ConnectionError("the agent closed the connection")
                for item in self._framing.feed(data):
                    if isinstance(item, SipRequest | SipResponse | KeepAlive):
                        self._framed.append(item)
        return self._framed.pop(0)

    async def response(self, final: bool = True) -> SipResponse:
        while True:
            message = await self.next()
            if isinstance(message, SipResponse) and (not final or message.status >= 200):
                return message

    async def request(self, method: str) -> SipRequest:
        while True:
            message = await self.next()
            if isinstance(message, SipRequest) and message.method == method:
                return message

    async def closed(self, wait: float = WAIT_S) -> bool:
        """Whether the agent closes the connection within `wait` seconds."""
        try:
            async with asyncio.timeout(wait):
                return await self._reader.read(65_536) == b""
        except TimeoutError:
            return False

    async def aclose(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await self._writer.wait_closed()
