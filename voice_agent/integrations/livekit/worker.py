"""`voice-agent livekit-worker`: our pipeline as a LiveKit Agents worker.

The worker registers with the LiveKit server and is sent a job for each room that wants an
agent. Each call runner is prewarmed once: it gets the process's `App` (built and warmed up
once per process: models, inference scheduler, store), so a call waits for no model. A job
starts a stored conversation for the participant who joined, runs an `AgentSession` of our
parts (agent.py) in the room, and at its end stores what the end implies and closes the
conversation.

The worker reports its load as calls under way over `[session] max_concurrent_calls`; at 1 it
is full and the server sends the next room elsewhere. On SIGTERM or SIGINT it drains: it
takes no new jobs and waits up to `[livekit] drain_timeout_s` for the calls under way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from livekit.agents import (
    AgentServer,
    AutoSubscribe,
    JobContext,
    JobExecutorType,
    JobProcess,
    WorkerOptions,
)

from voice_agent.app import App
from voice_agent.integrations.livekit.agent import ShopAgent, Stages, build_session
from voice_agent.integrations.livekit.config import Connection
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.integrations.livekit.turns import DialogueTurns
from voice_agent.settings import Settings

logger = logging.getLogger(__name__)

CHANNEL = "livekit"
"""The conversations' channel in the store."""
APP_KEY = "voice_agent_app"

_apps: dict[int, App] = {}
_apps_lock = threading.Lock()


def shared_app(settings: Settings) -> App:
    """The process's App for these settings, built and warmed up on first use. Call runners
    that are threads of one process share it, as the calls of `serve` do."""
    with _apps_lock:
        app = _apps.get(id(settings))
        if app is None:
            app = App(settings)
            _warm_up(app)
            _apps[id(settings)] = app
        return app


def _warm_up(app: App) -> None:
    """Models loaded and run once, on a loop of its own: the runner calling prewarm may
    already be inside one. The stages keep no loop; each call uses the loop it runs on."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(app.warm_up())
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    worker = threading.Thread(target=run, name="voice-agent-warm-up")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def prewarm(settings: Settings, proc: JobProcess) -> None:
    proc.userdata[APP_KEY] = shared_app(settings)


def call_load(limit: int, server: AgentServer) -> float:
    """Calls under way over the call limit: 1.0 is full (the load threshold)."""
    return len(server.active_jobs) / limit


def stages_of(app: App) -> Stages:
    settings = app.settings
    return Stages(
        asr=app.call_asr,
        tts=app.tts,
        new_vad=app.new_vad,
        streaming=app.asr_streaming,
        vad_engine=settings.vad.engine,
        asr_model=settings.asr.model,
        end_of_turn_s=settings.session.turn.hold_complete_s,
    )


async def entrypoint(ctx: JobContext) -> None:
    app: App = ctx.proc.userdata[APP_KEY]
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    participant = await ctx.wait_for_participant()
    # LiveKit carries the audio and we keep none of it: the caller hears no recording notice
    dialogue, recorder = await asyncio.to_thread(
        functools.partial(app.conversation, CHANNEL, participant.identity, recordable=False)
    )
    turns = DialogueTurns(dialogue, recorder, CallContext())
    session = build_session(stages_of(app), turns)

    async def end_conversation() -> None:
        now = datetime.now(UTC)
        try:
            if turns.state is not None:  # else nothing was said, nothing is implied
                writes = await asyncio.to_thread(dialogue.call_ended, turns.state, now)
                if writes:
                    await asyncio.to_thread(recorder.apply, writes)
        finally:
            await asyncio.to_thread(app.repository.end_conversation, recorder.conversation_id, now)

    ctx.add_shutdown_callback(end_conversation)
    # the dialogue's goodbye closes the session; the job (and its stored call) end with it
    session.on("close", lambda _event: ctx.shutdown(reason="the call ended"))
    await session.start(agent=ShopAgent(turns), room=ctx.room)


def worker_options(settings: Settings, connection: Connection) -> WorkerOptions:
    livekit = settings.livekit
    executor = JobExecutorType.THREAD if livekit.executor == "thread" else JobExecutorType.PROCESS
    return WorkerOptions(
        entrypoint_fnc=entrypoint,
        prewarm_fnc=functools.partial(prewarm, settings),
        load_fnc=functools.partial(call_load, settings.session.max_concurrent_calls),
        load_threshold=1.0,
        job_executor_type=executor,
        num_idle_processes=livekit.idle_processes,
        initialize_process_timeout=livekit.prewarm_timeout_s,
        drain_timeout=livekit.drain_timeout_s,
        agent_name=livekit.agent_name,
        ws_url=connection.url,
        api_key=connection.api_key,
        api_secret=connection.api_secret,
        host=livekit.health_host,
        port=livekit.health_port,
    )


async def run_worker(options: WorkerOptions) -> None:
    """Run the worker until it fails or a signal asks it to stop; then drain and close."""
    server = AgentServer.from_server_options(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)
    running = asyncio.create_task(server.run(devmode=False), name="livekit-worker")
    stopping = asyncio.create_task(stop.wait(), name="livekit-worker-stop")
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            await _drain(server)
    finally:
        stopping.cancel()
        await server.aclose()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(stop_signal)
    failed = running.exception() if running.done() and not running.cancelled() else None
    if failed is not None:
        raise failed


async def _drain(server: AgentServer) -> None:
    logger.info("stopping: no new calls; waiting for the calls under way")
    try:
        await server.drain()
    except TimeoutError:
        logger.warning("the calls under way did not end within the drain timeout")


def describe(options: WorkerOptions) -> dict[str, Any]:
    """What the worker was started with, for its first log line (no secret)."""
    return {
        "url": options.ws_url,
        "agent_name": options.agent_name or "(automatic dispatch)",
        "executor": options.job_executor_type.value,
        "drain_timeout_s": options.drain_timeout,
    }
