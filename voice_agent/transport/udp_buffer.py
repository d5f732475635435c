"""A UDP socket's receive buffer: sized for bursts, and its overflows counted.

A burst of datagrams that arrives faster than the event loop reads them waits in the
socket's receive buffer; what does not fit is dropped by the kernel, unseen by the program.
SIP servers ask for a large buffer (Linux grants at most net.core.rmem_max, and reports twice
what it granted: its bookkeeping is counted in) and watch the kernel's drop counter, which
Linux shows per socket in the last column of /proc/net/udp and /proc/net/udp6.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
_UDP_TABLES = (Path("/proc/net/udp"), Path("/proc/net/udp6"))
_INODE_COLUMN = 9
"""sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode"""


def enlarge_receive_buffer(sock: socket.socket, size: int = RECEIVE_BUFFER_BYTES) -> int:
    """Ask for a receive buffer of `size` bytes; returns what the kernel reports it granted."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    granted: int = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    return granted


def udp_drops(table: str, inode: int) -> int | None:
    """The drop count of the socket with this inode in a /proc/net/udp table, or None."""
    for line in table.splitlines()[1:]:
        columns = line.split()
        if len(columns) > _INODE_COLUMN + 1 and columns[_INODE_COLUMN] == str(inode):
            drops = columns[-1]
            return int(drops) if drops.isdigit() else None
    return None


def receive_drops(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for this socket (its buffer was full); None where the
    system does not tell (not Linux)."""
    inode = os.fstat(sock.fileno()).st_ino
    for table in _UDP_TABLES:
        try:
            text = table.read_text()
        except OSError:
            continue
        drops = udp_drops(text, inode)
        if drops is not None:
            return drops
    return None
