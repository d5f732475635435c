"""The cluster of tests/deploy/test_cluster.py: agent processes on 127.0.0.x sharing one
PostgreSQL server, and Kamailio and HAProxy run from the files in deploy/ as they ship, given
this test's addresses through their own override mechanisms (Kamailio's -A defines, HAProxy's
environment). Every process stops when the test ends: the agents on SIGTERM (SIGKILL after
20 s), Kamailio and HAProxy on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from tests.conftest import PROJECT_ROOT, free_port
from tests.store.postgres import PostgresServer
from tests.transport.sip.support import KAMAILIO_MODULES, free_udp_port
from tests.transport.sip.tls_support import self_signed_pems

DEPLOY = PROJECT_ROOT / "deploy"
KAMAILIO_CFG = DEPLOY / "kamailio" / "kamailio.cfg"
HAPROXY_CFG = DEPLOY / "haproxy" / "haproxy.cfg"
T = TypeVar("T")
START_LIMIT_S = 240.0
"""Three agents load their models at once on two cores: ~60 s here; a slow disk takes longer."""


@dataclass
class Instance:
    """One agent process: its name (server.instance_id), loopback address and ports."""

    name: str
    host: str
    web_port: int
    sip_port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    @property
    def sip_uri(self) -> str:
        return f"sip:{self.host}:{self.sip_port}"

    def start(self, command: tuple[str, ...], env: Mapping[str, str]) -> None:
        with self.log.open("ab") as output:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                command, env=dict(env), stdout=output, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
            )

    def wait_healthy(self, deadline: float) -> None:
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting: {self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.web_url}/healthz", timeout=1) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not come up: {self.log_tail()}")

    def health(self) -> str | None:
        """The "status" of its /healthz ("ok", "draining", ...) whatever the HTTP status (503
        while draining); None when it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.web_url}/healthz", timeout=1) as response:
                body = response.read()
        except urllib.error.HTTPError as refused:  # before OSError: it is one, with a body
            body = refused.read()
        except OSError:
            return None
        return str(json.loads(body)["status"])

    def terminate(self) -> None:
        """SIGTERM, as systemd stops it: the instance drains, and exits once its calls end."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def process_exit(self, limit_s: float) -> int:
        """Its exit code, once it has exited by itself (subprocess.TimeoutExpired if not)."""
        assert self.process is not None
        return self.process.wait(timeout=limit_s)

    def kill(self) -> None:
        """kill -9: no goodbye, no closing of its conversations."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process, grace_s=20)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 10) -> None:
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def instance_env(
    base: Mapping[str, str], instance: Instance, extra: Mapping[str, str]
) -> dict[str, str]:
    """What an operator sets per instance (docs/scale-out.md): its name, its addresses and
    ports, and `extra`; the rest of `base` (the database URL among it) is the same for all."""
    return {
        **base,
        "VOICE_AGENT_SERVER__INSTANCE_ID": instance.name,
        "VOICE_AGENT_SERVER__HOST": instance.host,
        "VOICE_AGENT_SERVER__PORT": str(instance.web_port),
        "VOICE_AGENT_SIP__LISTEN_HOST": instance.host,
        "VOICE_AGENT_SIP__LISTEN_PORT": str(instance.sip_port),
        **extra,
    }


def new_instance(name: str, host: str, work: Path) -> Instance:
    return Instance(name, host, free_port(), free_udp_port(host), work / f"{name}.log")


# --- the database, as the test reads it ----------------------------------------------------------


class Store:
    """Plain SQL on the cluster's database: what the agents committed, read from outside."""

    def __init__(self, server: PostgresServer, database: str) -> None:
        self.conninfo = f"host=127.0.0.1 port={server.port} user=postgres dbname={database}"

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            return list(connection.execute(query, params).fetchall())

    def conversations(self, caller_prefix: str) -> list[tuple[Any, ...]]:
        """(caller_id, instance_id, started_at, ended_at, turns) of the calls whose caller's
        user part starts with caller_prefix."""
        return self.rows(
            "SELECT c.caller_id, c.instance_id, c.started_at, c.ended_at,"
            " (SELECT count(*) FROM turns t WHERE t.conversation_id = c.id)"
            " FROM conversations c WHERE c.caller_id LIKE %s ORDER BY c.id",
            f"{caller_prefix}%",
        )

    def connections(self) -> int:
        """Connections to the cluster's database now (the agents' pools, and ours)."""
        found = self.rows(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        )
        return int(found[0][0])


def until(check: Callable[[], T], limit_s: float, what: str) -> T:
    """Poll `check()` until it returns something true; AssertionError naming `what` if not."""
    deadline = time.monotonic() + limit_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit_s:.0f} s (last: {found!r})")
        time.sleep(0.25)


# --- Kamailio -------------------------------------------------------------------------------------


@dataclass
class Kamailio:
    process: subprocess.Popen[bytes]
    address: tuple[str, int]
    log: Path

    def down_events(self) -> dict[str, float]:
        """The destinations the dispatcher took out (a probe or a call found them silent), with
        the time (epoch seconds) its event route logged: "instance sip:127.0.0.4:5080 is down
        at 1764730000.123456"."""
        text = self.log.read_text(errors="replace")
        return {
            uri: float(at) for uri, at in re.findall(r"instance (\S+) is down at ([\d.]+)", text)
        }

    def down_cause(self, uri: str) -> str:
        """What took `uri` out first: a call that found it silent, or the OPTIONS probe."""
        text = self.log.read_text(errors="replace")
        down = text.find(f"instance {uri} is down")
        by_call = text.find(f"instance {uri} did not answer the call")
        if 0 <= by_call < down:
            return "a call that found it silent (the failure route's ds_mark_dst)"
        return "its OPTIONS probe"

    def first_choices(self) -> dict[str, str]:
        """Each new call's caller (the From user, sipp's -s) and the instance Kamailio offered
        it to first: "new call CALL-ID from CALLER via ADDRESS to sip:127.0.0.3:5080"."""
        text = self.log.read_text(errors="replace")
        return dict(re.findall(r"new call \S+ from (\S+) via \S+ to (\S+)", text))

    def calls_that_found_dead(self, uri: str) -> int:
        """How many calls Kamailio sent to `uri` and moved on from after it stayed silent."""
        return self.log.read_text(errors="replace").count(f"instance {uri} did not answer the call")


@contextlib.contextmanager
def kamailio(work: Path, instances: list[Instance], trunks: list[str]) -> Iterator[Kamailio]:
    """deploy/kamailio/kamailio.cfg on a free 127.0.0.1 port, dispatching to `instances`,
    accepting calls from the `trunks` addresses."""
    dispatcher = work / "dispatcher.list"
    dispatcher.write_text(
        "".join(f"1 {instance.sip_uri} 0 0 duid={instance.name}\n" for instance in instances)
    )
    trunks_file = work / "trunks.list"
    trunks_file.write_text("".join(f"1 {address} 32 0 test-trunk\n" for address in trunks))
    run_dir = work / "kamailio-run"
    run_dir.mkdir(exist_ok=True)
    port = free_udp_port()
    log = work / "kamailio.log"
    command = [
        "kamailio", "-f", str(KAMAILIO_CFG), "-DD", "-E", "-L", str(KAMAILIO_MODULES),
        "-Y", str(run_dir), "-l", f"udp:127.0.0.1:{port}",
        "-A", f'DISPATCHER_LIST="{dispatcher}"', "-A", f'TRUNKS_LIST="{trunks_file}"',
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=work)
    try:
        _until_sip_answers(("127.0.0.1", port), process, log)
        yield Kamailio(process, ("127.0.0.1", port), log)
    finally:
        stop_process(process)


def options_request(target: tuple[str, int], source: tuple[str, int], call_id: str) -> bytes:
    host, port = source
    return (
        f"OPTIONS sip:{target[0]}:{target[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{call_id};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{host}:{port}>;tag=probe\r\n"
        f"To: <sip:{target[0]}:{target[1]}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def sip_status(target: tuple[str, int], source_host: str, wait_s: float = 0.5) -> int | None:
    """The status of the answer to one OPTIONS sent from `source_host`, None if none came."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((source_host, 0))
        probe.settimeout(wait_s)
        source = probe.getsockname()
        probe.sendto(options_request(target, source, f"probe{time.monotonic_ns()}"), target)
        try:
            answer = probe.recv(65535).decode("utf-8", "replace")
        except TimeoutError:
            return None
    status = re.match(r"SIP/2\.0 (\d{3})", answer)
    return int(status.group(1)) if status else None


def _until_sip_answers(
    address: tuple[str, int], process: subprocess.Popen[bytes], log: Path
) -> None:
    for _ in range(80):
        if process.poll() is not None:
            raise RuntimeError(f"kamailio exited: {log.read_text(errors='replace')[-3000:]}")
        if sip_status(address, "127.0.0.1", 0.25) is not None:
            return
    raise RuntimeError(f"kamailio did not answer: {log.read_text(errors='replace')[-3000:]}")


# --- HAProxy --------------------------------------------------------------------------------------


@dataclass
class Haproxy:
    https_url: str
    http_url: str
    log: Path


def self_signed_pem(path: Path, host: str) -> Path:
    """A certificate for `host` and its key in one PEM file, as HAProxy's `crt` wants them."""
    certificate, key = self_signed_pems(host)
    path.write_bytes(certificate + key)
    return path


@contextlib.contextmanager
def haproxy(
    work: Path, https_port: int, http_port: int, backends: list[Instance]
) -> Iterator[Haproxy]:
    """deploy/haproxy/haproxy.cfg on 127.0.0.1, its two servers `backends` (checked with
    `haproxy -c` first), until it passes requests to them."""
    env = {
        **os.environ,
        "VA_HTTPS_BIND": f"127.0.0.1:{https_port}",
        "VA_HTTP_BIND": f"127.0.0.1:{http_port}",
        "VA_TLS_PEM": str(self_signed_pem(work / "haproxy.pem", "127.0.0.1")),
        **{f"VA_AGENT_{n}": f"{b.host}:{b.web_port}" for n, b in enumerate(backends, 1)},
    }
    check = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    assert check.returncode == 0, f"haproxy -c: {check.stdout}{check.stderr}"
    log = work / "haproxy.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["haproxy", "-db", "-f", str(HAPROXY_CFG)], env=env, stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    proxy = Haproxy(f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", log)
    try:
        _until_proxying(proxy, process)
        yield proxy
    finally:
        stop_process(process)


def _until_proxying(proxy: Haproxy, process: subprocess.Popen[bytes]) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"haproxy exited: {proxy.log.read_text(errors='replace')}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{proxy.https_url}/healthz", timeout=1, context=context) as r,
        ):
            # /healthz also reports the instance's load: only its status matters here
            if json.loads(r.read())["status"] == "ok":
                return
        time.sleep(0.3)
    raise RuntimeError(f"haproxy passed no request: {proxy.log.read_text(errors='replace')}")
