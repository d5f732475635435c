"""The desk in headless Chromium, on the real server with a seeded SQLite file: signing in,
the hand-off queue and the cases worked with the keyboard only at phone width, the history
searched, the statistics' plots, and the gate seen from a browser."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.desk.browser import (
    LAPTOP,
    PHONE,
    chromium,
    fits_the_width,
    press_on,
    screenshot,
    sign_in_by_keyboard,
    tab_to,
)
from tests.desk.conftest import desk_server
from tests.desk.seed import ANNA_ORDER, PASSWORD, SIP_NUMBER, Seeded
from tests.desk.test_web import FORMS, PAGES, SCRIPT_ENDPOINTS
from voice_agent.app import App
from voice_agent.store.desk import DeskRepository


def test_the_desk_is_worked_with_the_keyboard_alone_at_phone_width(
    desk_app: App, seeded: Seeded, tmp_path: Path
) -> None:
    overdue, claim = seeded.overdue_handoff, seeded.claim

    async def scenario() -> None:
        async with desk_server(desk_app) as url, chromium() as browser:
            page = await browser.new_page(viewport=PHONE)
            await page.goto(f"{url}/desk/handoffs")
            assert "/desk/login" in page.url
            await sign_in_by_keyboard(page, "bob", PASSWORD)
            assert page.url.endswith("/desk/handoffs")
            card = page.locator(f"#handoff-{overdue}")
            assert await card.locator(".badge.overdue").count() == 1
            assert await card.locator(".reach").inner_text() == SIP_NUMBER
            assert await fits_the_width(page)
            await screenshot(page, tmp_path, "screenshot-desk-mobile.png")
            await page.keyboard.press("Tab")  # the first stop skips the navigation
            assert await page.evaluate("() => document.activeElement.className") == "skip"
            await page.keyboard.press("Enter")
            assert await page.evaluate("() => document.activeElement.id") == "main"

            await press_on(page, f"#handoff-{overdue} form[action$='/take'] button")
            assert "Done: taken" in await page.locator(".notice").inner_text()
            await tab_to(page, f"#note-{overdue}")
            await page.keyboard.type("Left a voicemail")
            await press_on(page, f"#handoff-{overdue} form.note button")
            await press_on(page, f"#handoff-{overdue} form[action$='/close'] button")
            closed = page.locator(f"#handoff-{overdue}")
            assert await closed.locator(".badge.status-closed").count() == 1
            await tab_to(page, f"#handoff-{overdue} .history summary")
            await page.keyboard.press("Enter")  # opens the case's history
            history = await closed.locator(".history").inner_text()
            assert "Left a voicemail" in history and "status → closed" in history

            await press_on(page, "nav a[href='/desk/cases']")
            tab = page.locator("a[href='/desk/cases/address_change']")
            assert await tab.inner_text() == "Address changes 1 unconfirmed"
            options = page.locator(f"#status-claim-{claim} option")
            assert await options.all_inner_texts() == ["in review"]  # open: only review next
            await tab_to(page, f"#status-note-claim-{claim}")
            await page.keyboard.type("photos asked for")
            await press_on(page, f"#claim-{claim} form.status button")
            badge = page.locator(f"#claim-{claim} .badge")
            assert await badge.inner_text() == "in review"
            assert await options.all_inner_texts() == ["accepted", "rejected"]
            await tab_to(page, f"#status-claim-{claim}")
            await page.keyboard.press("ArrowDown")  # accepted → rejected
            await press_on(page, f"#claim-{claim} form.status button")
            assert await badge.inner_text() == "rejected"
            assert await fits_the_width(page)

            await press_on(page, "nav a[href='/desk/calls']")
            await tab_to(page, "#order")
            await page.keyboard.type(ANNA_ORDER)
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            rows = page.locator("table.calls tbody tr")
            assert await rows.count() == 1
            await press_on(page, f"a[href='/desk/calls/{seeded.web_call}']")
            transcript = await page.locator(".transcript").inner_text()
            assert "The caller heard: “I am sorry to hear that.”" in transcript
            assert "first audio sent 410" in transcript
            assert await fits_the_width(page)

            await press_on(page, "form.logout button")
            assert page.url.endswith("/desk/login")

    asyncio.run(scenario())
    desk = DeskRepository(desk_app.database)
    assert desk.handoff(overdue).status == "closed"
    assert [event.status for event in desk.cases("claim")[0].events] == ["in_review", "rejected"]


def test_a_browser_without_a_session_gets_nothing_and_a_tokenless_form_is_refused(
    desk_app: App, seeded: Seeded
) -> None:
    async def scenario() -> None:
        async with desk_server(desk_app) as url, chromium() as browser:
            page = await browser.new_page(viewport=LAPTOP)
            for path in PAGES:
                await page.goto(url + path)
                assert "/desk/login?next=" in page.url, path
                assert await page.locator("h1").inner_text() == "Sign in to the desk"
            for path in SCRIPT_ENDPOINTS:
                assert (await page.request.get(url + path)).status == 401, path
            for path in FORMS:
                assert (await page.request.post(url + path)).status == 401, path
            await sign_in_by_keyboard(page, "alice", PASSWORD)
            take = f"{url}/desk/handoffs/{seeded.later_handoff}/take"
            refused = await page.request.post(take, form={"note": "no token"})
            assert refused.status == 403
            assert "CSRF" in await refused.text()

    asyncio.run(scenario())
    assert DeskRepository(desk_app.database).handoff(seeded.later_handoff).status == "open"


def test_the_statistics_draw_their_plots_beside_tables(
    desk_app: App, seeded: Seeded, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with desk_server(desk_app) as url, chromium() as browser:
            page = await browser.new_page(viewport=LAPTOP)
            await page.goto(f"{url}/desk/handoffs")
            await sign_in_by_keyboard(page, "alice", PASSWORD)
            await screenshot(page, tmp_path, "screenshot-desk.png")
            await press_on(page, "nav a[href='/desk/stats']")
            plots = page.locator("svg.chart[role=img]")
            assert await plots.count() == 4
            titles = [await plots.nth(n).locator("title").first.text_content() for n in range(4)]
            assert titles[3] == "Agent reply latency, server-side"
            bars = await plots.first.locator("rect > title").all_text_contents()
            assert f"calls {seeded.now:%b %d}: 2" in bars  # today's bar: both calls
            for name in ("calls", "resolution", "verification", "latency"):
                assert await page.locator(f"#{name}-table tbody tr").count() == 14
            notice = await page.locator("#h-latency + p").inner_text()
            assert "not as heard by the caller" in notice

    asyncio.run(scenario())
