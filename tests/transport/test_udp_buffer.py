"""A UDP socket's receive buffer, and its drop counter read from the kernel's UDP tables."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from voice_agent.transport.udp_buffer import enlarge_receive_buffer, receive_drops, udp_drops

PROC = Path(__file__).parent.parent / "data" / "proc"
"""/proc/net/udp and /proc/net/udp6 as Linux 6 writes them (trailing blanks included)."""


@pytest.mark.parametrize(
    ("table", "inode", "drops"),
    [
        ("udp", 13793, 0),
        ("udp", 5512, 1274),
        ("udp6", 27001, 9),
        ("udp", 27001, None),
        ("udp", 1379, None),  # a prefix of an inode is not the inode
    ],
)
def test_a_sockets_drop_count_is_found_by_its_inode(
    table: str, inode: int, drops: int | None
) -> None:
    assert udp_drops((PROC / table).read_text(), inode) == drops


def test_a_table_without_the_socket_or_the_column_says_nothing() -> None:
    header = (PROC / "udp").read_text().splitlines()[0]
    assert udp_drops("", 13793) is None
    assert udp_drops(header + "\n  1: 0100007F:13C4 00000000:0000 07", 13793) is None


def test_a_socket_gets_a_larger_buffer_and_its_drops_are_read() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        default = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        assert enlarge_receive_buffer(sock) > default
        assert receive_drops(sock) == (0 if sys.platform == "linux" else None)
