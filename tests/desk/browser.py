"""Driving the desk in headless Chromium with the keyboard only, and saving screenshots."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from tests.conftest import PROJECT_ROOT
from tests.transport.browser_support import chromium_binary

MAX_TABS = 80
UPDATE_SCREENSHOTS = "VOICE_AGENT_UPDATE_SCREENSHOTS"
PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1280, "height": 860}


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_binary(),
            headless=True,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches `selector`, and check that focus shows."""
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement.matches(s)", selector):
            outline = await page.evaluate(
                "() => getComputedStyle(document.activeElement).outlineStyle"
            )
            assert outline != "none", f"{selector} has focus but shows none"
            return
    raise AssertionError(f"{selector} cannot be reached with Tab on {page.url}")


async def press_on(page: Page, selector: str, key: str = "Enter") -> None:
    """Tab to the element and press a key on it (Enter follows a link or presses a button);
    waits for the page it leads to."""
    await tab_to(page, selector)
    async with page.expect_navigation():
        await page.keyboard.press(key)


async def sign_in_by_keyboard(page: Page, username: str, password: str) -> None:
    await tab_to(page, "#username")
    await page.keyboard.type(username)
    await tab_to(page, "#password")
    await page.keyboard.type(password)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def fits_the_width(page: Page) -> bool:
    """No sideways scrolling of the page itself (wide tables scroll inside their box)."""
    width: int = await page.evaluate("() => document.documentElement.scrollWidth")
    return width <= (page.viewport_size or PHONE)["width"]


async def screenshot(page: Page, folder: Path, name: str) -> Path:
    """Save a screenshot to `folder`; copy it into docs/ only when asked to (so that running
    the tests changes nothing in the tree)."""
    path = folder / name
    await page.screenshot(path=str(path), full_page=False)
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        shutil.copyfile(path, PROJECT_ROOT / "docs" / name)
    return path
