"""Captured and captured-style SIP/SDP texts under tests/data/sip (see its README)."""

from pathlib import Path

SIP_DATA = Path(__file__).parent.parent / "data" / "sip"


def sip_fixture(name: str) -> bytes:
    return (SIP_DATA / name).read_bytes()


def all_sip_fixtures() -> list[str]:
    return sorted(path.name for path in SIP_DATA.glob("*.sip"))


def rtp_fixture(name: str) -> list[tuple[float, bytes]]:
    """(arrival seconds, packet bytes) per line of tests/data/sip/rtp_*.txt."""
    packets = []
    for line in (SIP_DATA / name).read_text().splitlines():
        if line and not line.startswith("#"):
            arrival, packet = line.split()
            packets.append((float(arrival), bytes.fromhex(packet)))
    return packets
