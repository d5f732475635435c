"""`voice-agent livekit-worker`: registers the command; LiveKit is imported only when it runs."""

from __future__ import annotations

import argparse
import asyncio
import logging

from voice_agent.errors import CliError
from voice_agent.settings import Settings

logger = logging.getLogger(__name__)


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    worker = sub.add_parser(
        "livekit-worker",
        parents=[common],
        help="run the agent as a LiveKit Agents worker (LIVEKIT_URL, LIVEKIT_API_KEY, "
        "LIVEKIT_API_SECRET)",
    )
    worker.set_defaults(command=_livekit_worker)


def _livekit_worker(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.integrations.livekit.config import connection

    # refused here, before LiveKit is even imported, let alone connected to
    server = connection(settings.livekit)
    from voice_agent.integrations.livekit.worker import describe, run_worker, worker_options

    options = worker_options(settings, server)
    logger.info("LiveKit worker starting: %s", describe(options))
    try:
        asyncio.run(run_worker(options))
    except (OSError, RuntimeError, ValueError) as error:
        raise CliError(f"livekit-worker: {error}") from None
    return 0
