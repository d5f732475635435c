"""The local target: found by its port, its CPU and memory sampled."""

from __future__ import annotations

import asyncio
import os
import socket

from voice_agent.bench.target import ProcessSampler, local_pid


def test_a_local_listener_is_found_by_its_port_and_a_remote_one_is_not() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert local_pid(f"http://127.0.0.1:{port}") == os.getpid()
        assert local_pid(f"sip:agent@127.0.0.1:{port}") == os.getpid()
    assert local_pid("http://192.0.2.1:8080") is None
    assert local_pid("http://127.0.0.1") is None


def test_the_sampler_reports_cpu_in_cores_and_peak_memory() -> None:
    async def busy() -> ProcessSampler:
        async with ProcessSampler(os.getpid(), every_s=0.05) as sampler:
            deadline = asyncio.get_running_loop().time() + 0.3
            while asyncio.get_running_loop().time() < deadline:
                sum(range(10_000))  # keep a core busy for a moment
                await asyncio.sleep(0)
        return sampler

    sampler = asyncio.run(busy())
    assert sampler.cpu_cores is not None and sampler.cpu_cores > 0.2
    assert sampler.peak_rss_mb > 10
