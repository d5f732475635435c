"""Helpers for the SIP tests: a scripted SIP peer on loopback, free UDP ports, session stand-ins."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import DtmfInput, HoldChanged
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.protocol.sdp import PCMU, LocalMedia, SessionDescription, create_offer
from voice_agent.protocol.sip.message import (
    SipMessage,
    SipParseError,
    SipRequest,
    SipResponse,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)
from voice_agent.settings import load_settings
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.transport.sip import SipCall

Address = tuple[str, int]
WAIT_S = 5.0


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class SipPeer(asyncio.DatagramProtocol):
    """A scripted SIP user agent: sends what the test writes, queues what arrives."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[SipMessage] = asyncio.Queue()
        self.raw: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.address: Address = ("127.0.0.1", 0)

    @classmethod
    async def open(cls, host: str = "127.0.0.1") -> SipPeer:
        loop = asyncio.get_running_loop()
        peer = cls()
        transport, _ = await loop.create_datagram_endpoint(lambda: peer, local_addr=(host, 0))
        peer.address = transport.get_extra_info("sockname")[:2]
        return peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.raw.append(data)
        with contextlib.suppress(SipParseError):  # the test reads `raw` for those
            self.received.put_nowait(parse_message(data))

    def send(self, message: SipMessage | bytes, to: Address) -> None:
        assert self.transport is not None
        self.transport.sendto(message if isinstance(message, bytes) else bytes(message), to)

    async def next(self, wait: float = WAIT_S) -> SipMessage:
        return await asyncio.wait_for(self.received.get(), wait)

    async def response(self, final: bool = True, wait: float = WAIT_S) -> SipResponse:
        """The next response (the next final one unless `final` is False)."""
        while True:
            message = await self.next(wait)
            if isinstance(message, SipResponse) and (not final or message.status >= 200):
                return message

    async def request(self, method: str, wait: float = WAIT_S) -> SipRequest:
        while True:
            message = await self.next(wait)
            if isinstance(message, SipRequest) and message.method == method:
                return message

    async def quiet(self, seconds: float) -> list[SipMessage]:
        """Everything that arrives in the next `seconds` (real time)."""
        messages: list[SipMessage] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    messages.append(await self.received.get())
        except TimeoutError:
            return messages

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class Dialogue:
    """The peer's side of one call it places: ids and numbering for its requests."""

    peer: SipPeer
    agent: Address
    call_id: str = field(default_factory=lambda: new_call_id("127.0.0.1"))
    from_tag: str = field(default_factory=new_tag)
    to_tag: str | None = None
    seq: int = 0
    user: str = "shopper"
    """The caller's user part (a phone number from a trunk)."""

    def request(
        self,
        method: str,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        seq: int | None = None,
        branch: str | None = None,
    ) -> SipRequest:
        if seq is None:
            self.seq += 1
            seq = self.seq
        host, port = self.peer.address
        to = f"<sip:agent@{self.agent[0]}:{self.agent[1]}>"
        fields = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={branch or new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f'"Shopper" <sip:{self.user}@{host}:{port}>;tag={self.from_tag}'),
            ("To", to if self.to_tag is None else f"{to};tag={self.to_tag}"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{seq} {method}"),
            ("Contact", f"<sip:{self.user}@{host}:{port}>"),
            *headers,
        ]
        if content_type is not None:
            fields.append(("Content-Type", content_type))
        return SipRequest.create(method, f"sip:agent@{self.agent[0]}:{self.agent[1]}", fields, body)

    def ack(self, invite: SipRequest, response: SipResponse) -> SipRequest:
        """ACK for a final response to `invite` (a 2xx: new branch; else the INVITE's)."""
        branch = None if response.is_success else invite.top_via.branch
        return self.request("ACK", seq=invite.cseq.seq, branch=branch)

    def send(self, message: SipMessage) -> None:
        self.peer.send(message, self.agent)


def offer(rtp_port: int, codecs: tuple[object, ...] = (PCMU,), direction: str = "") -> bytes:
    local = LocalMedia("127.0.0.1", rtp_port, "4242", codecs=codecs)  # type: ignore[arg-type]
    text = str(create_offer(local))
    if direction:
        text = text.replace("a=sendrecv", f"a={direction}")
    return text.encode()


def sdp_of(message: SipMessage) -> SessionDescription:
    return SessionDescription.parse(message.body)


@dataclass
class Session:
    """Stands in for the call session: reads the call's inputs, may act on the call."""

    frames: list[AudioFrame] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    holds: list[bool] = field(default_factory=list)
    """What each HoldChanged said: True on hold, False resumed."""
    calls: list[SipCall] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    action: Callable[[SipCall, Playout, int], Awaitable[None]] | None = None

    async def __call__(self, call: SipCall, playout: Playout, caller_id: str) -> None:
        self.calls.append(call)
        self.started.set()
        async for item in call.inputs():
            if isinstance(item, DtmfInput):
                self.digits.append(item.digits)
            elif isinstance(item, HoldChanged):
                self.holds.append(item.held)
            else:
                self.frames.append(item)
            if self.action is not None:
                await self.action(call, playout, len(self.frames))


class RtpSink(asyncio.DatagramProtocol):
    """Counts the RTP packets that reach a port (and sends the caller's, from it)."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.port = 0
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls) -> RtpSink:
        sink = cls()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: sink, local_addr=("127.0.0.1", 0)
        )
        sink.port = transport.get_extra_info("sockname")[1]
        sink.transport = transport
        return sink

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.packets.append(data)

    def send(self, data: bytes, to: Address) -> None:
        assert self.transport is not None
        self.transport.sendto(data, to)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


# --- real SIP software ---------------------------------------------------------------------------

SIPP_SCENARIOS = Path(__file__).resolve().parents[2] / "data" / "sipp"
KAMAILIO_CFG = Path(__file__).resolve().parents[2] / "data" / "kamailio" / "kamailio.cfg"
KAMAILIO_MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
SIPP_PCAPS = Path("/usr/share/sip-tester")


@dataclass
class PeerRun:
    returncode: int
    output: str


async def run_program(
    command: list[str], cwd: Path, limit_s: float, stdin: bytes | None = None
) -> PeerRun:
    """Run a peer program to its end (killed if it outlives `limit_s`)."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(limit_s):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        return PeerRun(-9, output.decode("utf-8", "replace") + f"\n(killed after {limit_s} s)")
    except asyncio.CancelledError:  # the test gave up on it: the peer goes too
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        raise
    return PeerRun(process.returncode or 0, output.decode("utf-8", "replace"))


async def run_sipp(
    agent: Address, cwd: Path, *args: str, calls: int = 1, limit_s: float = 40.0
) -> PeerRun:
    """sipp against the agent, from its own free loopback ports; its errors in the output."""
    errors = cwd / "sipp_errors.log"
    command = [
        "sipp",
        *args,
        f"{agent[0]}:{agent[1]}",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_udp_port()),
        "-mp",
        str(free_udp_port() & ~1),
        "-m",
        str(calls),
        "-timeout",
        f"{int(limit_s)}s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        "-error_file",
        str(errors),
    ]
    run = await run_program(command, cwd, limit_s + 10)
    if errors.exists():
        run.output += "\n" + errors.read_text(errors="replace")
    return run


class Baresip:
    """A baresip user agent configured in its own directory: a WAV as its microphone, both
    directions recorded (`sndfile`: dump-*-enc.wav is what it sent, dump-*-dec.wav what it
    heard), no sound card (ALSA's null device). With `controlled`, `command` drives it while it
    runs (its ctrl_tcp module: /hold, /resume, ... as the menu names them)."""

    def __init__(
        self, directory: Path, microphone: Path, account: str, controlled: bool = False
    ) -> None:
        self.directory = directory
        self.port = free_udp_port()
        self.control_port = free_udp_port()  # its TCP twin is as likely free
        self.recordings = directory / "recordings"
        self.recordings.mkdir(parents=True, exist_ok=True)
        config = [
            "poll_method epoll",
            f"sip_listen 127.0.0.1:{self.port}",
            "audio_player alsa,null",
            f"audio_source aufile,{microphone}",
            "audio_alert alsa,null",
            "module_path /usr/lib/baresip/modules",
            "module g711.so",
            "module aufile.so",
            "module sndfile.so",
            "module alsa.so",
            "module_app menu.so",
            "module_app account.so",
            f"snd_path {self.recordings}",
            "rtp_timeout 0",
        ]
        if controlled:
            config += ["module_app ctrl_tcp.so", f"ctrl_tcp_listen 127.0.0.1:{self.control_port}"]
        (directory / "config").write_text("\n".join(config) + "\n")
        (directory / "accounts").write_text(account + "\n")

    async def run(self, seconds: int, *commands: str) -> PeerRun:
        command = ["baresip", "-4", "-n", "127.0.0.1", "-f", str(self.directory)]
        for item in commands:
            command += ["-e", item]
        command += ["-t", str(seconds)]
        return await run_program(command, self.directory, seconds + 20)

    async def command(self, name: str) -> str:
        """Run one menu command in the running baresip; returns its response (a netstring of
        JSON, which says whether it was done)."""
        body = json.dumps({"command": name, "params": "", "token": name}).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.control_port)
        try:
            writer.write(b"%d:%s," % (len(body), body))
            await writer.drain()
            async with asyncio.timeout(WAIT_S):
                received = b""
                while b'"response"' not in received:  # events may come first
                    chunk = await reader.read(4096)
                    if not chunk:
                        break
                    received += chunk
            return received.decode("utf-8", "replace")
        finally:
            writer.close()

    def heard(self) -> Path:
        """The recording of what baresip received (the agent's voice)."""
        found = sorted(self.recordings.glob("dump-*-dec.wav"))
        assert found, f"baresip recorded nothing in {self.recordings}"
        return found[-1]


@asynccontextmanager
async def kamailio(directory: Path, password: str, sha256: bool) -> AsyncIterator[Address]:
    """kamailio (tests/data/kamailio/kamailio.cfg) as a registrar on a free loopback port."""
    port = free_udp_port()
    run_dir = directory / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    command = [
        "kamailio",
        "-f",
        str(KAMAILIO_CFG),
        "-DD",
        "-E",
        "-L",
        str(KAMAILIO_MODULES),
        "-Y",
        str(run_dir),
        "-l",
        f"udp:127.0.0.1:{port}",
        "-A",
        f'AGENT_PASSWORD="{password}"',
    ]
    if sha256:
        command += ["-A", "WITH_SHA256"]
    log = (directory / "kamailio.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        *command, cwd=directory, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
    )
    try:
        await _until_answering(("127.0.0.1", port), process)
        yield ("127.0.0.1", port)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


async def _until_answering(address: Address, process: asyncio.subprocess.Process) -> None:
    """Probe with OPTIONS until the server answers anything (it is up) or the limit passes."""
    probe = await SipPeer.open()
    try:
        for _ in range(100):
            if process.returncode is not None:
                raise RuntimeError(f"kamailio exited with {process.returncode}")
            dialogue = Dialogue(probe, address)
            dialogue.send(dialogue.request("OPTIONS"))
            try:
                await probe.response(wait=0.2)
                return
            except TimeoutError:
                continue
        raise RuntimeError("kamailio did not answer within 20 s")
    finally:
        probe.close()


@contextlib.contextmanager
def demo_shop_agent(data: Path, environ: Mapping[str, str] | None = None) -> Iterator[App]:
    """The real agent (models, dialogue, the demo shop) keeping its data in `data`, its line
    on a free UDP port; `environ` adds or overrides VOICE_AGENT_* settings."""
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(data),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{data / 'calls.sqlite3'}",
            "VOICE_AGENT_SIP__LISTEN_PORT": "0",
            **(environ or {}),
        }
    )
    app = App(settings)
    import_document(app.database, demo_document(datetime.now(UTC)), "demo")
    asyncio.run(app.warm_up())
    try:
        yield app
    finally:
        app.close()
