"""The call's task bookkeeping: failures logged not raised, work counted, all ended together."""

import asyncio
import logging

import pytest

from voice_agent.agent.tasks import CallTasks


async def _fail() -> None:
    raise RuntimeError("one turn's work broke")


def test_a_failed_task_is_logged_and_the_call_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        tasks = CallTasks()
        failing = tasks.spawn(_fail())
        await asyncio.wait([failing])
        assert isinstance(failing.exception(), RuntimeError)  # its waiter sees it failed

    with caplog.at_level(logging.ERROR, logger="voice_agent.agent.tasks"):
        asyncio.run(scenario())
    assert [record.getMessage() for record in caplog.records] == ["call task failed"]


def test_settled_waits_until_no_work_is_under_way() -> None:
    async def scenario() -> list[str]:
        tasks = CallTasks()
        done: list[str] = []
        release = asyncio.Event()

        async def work() -> None:
            await tasks.work(release.wait())
            done.append("work")

        tasks.spawn(work())
        waiting = asyncio.create_task(tasks.settled())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        release.set()
        await waiting
        return done

    assert asyncio.run(scenario()) == ["work"]


def test_cancel_all_ends_every_task_still_running() -> None:
    async def scenario() -> bool:
        tasks = CallTasks()
        never = tasks.spawn(asyncio.Event().wait())
        await asyncio.sleep(0)
        await tasks.cancel_all()
        return never.cancelled()

    assert asyncio.run(scenario())
