"""The desk over real HTTP on 127.0.0.1: the sign-in gate, CSRF, cookies, the throttle, roles,
refusals with a clear message, the recording route and the live event stream."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.desk.conftest import client, desk_server, desk_settings, sign_in
from tests.desk.seed import PASSWORD, Seeded, seed_operators
from voice_agent.agent.events import CallerSaid
from voice_agent.app import App
from voice_agent.desk.pages import recording_file
from voice_agent.server import build_web_app
from voice_agent.store.desk import DeskRepository
from voice_agent.store.models import Conversation

PAGES = [
    "/desk",
    "/desk/",
    "/desk/live",
    "/desk/calls",
    "/desk/calls/1",
    "/desk/handoffs",
    "/desk/cases",
    "/desk/cases/claim",
    "/desk/stats",
    "/desk/users",
]
SCRIPT_ENDPOINTS = ["/desk/live/events", "/desk/calls/1/recording"]
FORMS = [
    "/desk/handoffs/1/take",
    "/desk/handoffs/1/note",
    "/desk/handoffs/1/close",
    "/desk/handoffs/1/status",
    "/desk/cases/claim/1/status",
    "/desk/cases/claim/1/note",
    "/desk/users",
    "/desk/users/bob/disable",
    "/desk/logout",
]


def _run(app: App, check: Callable[[str, aiohttp.ClientSession], Awaitable[None]]) -> None:
    async def scenario() -> None:
        async with desk_server(app) as url, client() as http:
            await check(url, http)

    asyncio.run(scenario())


def test_without_a_session_pages_redirect_and_the_rest_answers_401(
    desk_app: App, seeded: Seeded
) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        for path in PAGES:
            async with http.get(url + path, allow_redirects=False) as response:
                assert response.status == 303, path
                assert response.headers["Location"].startswith("/desk/login?next="), path
        for path in SCRIPT_ENDPOINTS:
            async with http.get(url + path) as response:
                assert response.status == 401, path
                assert "sign in" in (await response.json())["error"]
        for path in FORMS:
            async with http.post(url + path, data={"note": "x"}) as response:
                assert response.status == 401, path
        async with http.get(url + "/desk/login") as login:
            assert login.status == 200
            assert login.headers["Content-Security-Policy"].startswith("default-src 'self'")

    _run(desk_app, check)
    assert DeskRepository(desk_app.database).handoff(seeded.overdue_handoff).status == "open"


def test_signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_it(
    desk_app: App, seeded: Seeded
) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        async with http.get(f"{url}/desk/login") as page:
            form_cookie = page.cookies["desk_login"]
            assert form_cookie["httponly"] and form_cookie["samesite"] == "Strict"
        csrf = await sign_in(http, url, "bob")
        session = next(c for c in http.cookie_jar if c.key == "desk_session")
        assert session["httponly"] and session["samesite"] == "Strict"
        assert not session["secure"]  # plain HTTP on 127.0.0.1: auto leaves it off
        assert session["path"] == "/desk"
        stolen = session.value
        await _check_replay(url, stolen, 200)
        data = {"csrf_token": csrf}
        async with http.post(f"{url}/desk/logout", data=data, allow_redirects=False) as out:
            assert out.status == 303 and out.headers["Location"] == "/desk/login"
        await _check_replay(url, stolen, 303)  # the old cookie, replayed

    _run(desk_app, check)


async def _check_replay(url: str, token: str, status: int) -> None:
    async with (
        aiohttp.ClientSession(cookies={"desk_session": token}) as replay,
        replay.get(f"{url}/desk/handoffs", allow_redirects=False) as response,
    ):
        assert response.status == status


def test_signing_in_again_replaces_the_earlier_session(desk_app: App, seeded: Seeded) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        await sign_in(http, url, "bob")
        first = next(c for c in http.cookie_jar if c.key == "desk_session").value
        await sign_in(http, url, "bob")
        second = next(c for c in http.cookie_jar if c.key == "desk_session").value
        assert second != first
        await _check_replay(url, first, 303)
        await _check_replay(url, second, 200)

    _run(desk_app, check)


def test_behind_tls_the_cookie_is_secure(tmp_path: Path) -> None:
    app = App(desk_settings(tmp_path, VOICE_AGENT_DESK__SECURE_COOKIE="always"))
    seed_operators(app.database, datetime.now(UTC))

    async def check(url: str, http: aiohttp.ClientSession) -> None:
        async with http.get(f"{url}/desk/login") as page:
            assert page.cookies["desk_login"]["secure"]
            token = page.cookies["desk_login"].value
        data = {"username": "alice", "password": PASSWORD, "csrf_token": token}
        cookies = {"desk_login": token}
        async with (
            aiohttp.ClientSession(cookies=cookies) as fresh,
            fresh.post(f"{url}/desk/login", data=data, allow_redirects=False) as response,
        ):
            assert response.status == 303
            assert response.cookies["desk_session"]["secure"]

    try:
        _run(app, check)
    finally:
        app.close()


def test_plain_http_from_another_machine_is_warned_about(desk_app: App, seeded: Seeded) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        async with http.get(f"{url}/desk/login") as local:
            assert "plain HTTP" not in await local.text()
        remote = {"Host": "desk.shop.example"}
        async with http.get(f"{url}/desk/login", headers=remote) as elsewhere:
            assert "plain HTTP from another machine" in await elsewhere.text()
            assert elsewhere.cookies["desk_login"]["secure"]

    _run(desk_app, check)


def test_the_sign_in_form_needs_its_own_token_and_slows_down_guessing(
    desk_app: App, seeded: Seeded
) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        forged = {"username": "alice", "password": PASSWORD, "csrf_token": "made-up"}
        async with http.post(f"{url}/desk/login", data=forged, allow_redirects=False) as r:
            assert r.status == 403
            assert "CSRF" in await r.text()
        for _ in range(5):
            async with http.get(f"{url}/desk/login") as page:
                token = page.cookies["desk_login"].value
            data = {"username": "alice", "password": "wrong password", "csrf_token": token}
            async with http.post(f"{url}/desk/login", data=data) as wrong:
                assert wrong.status == 401
                assert "wrong user name or password" in await wrong.text()
        async with http.get(f"{url}/desk/login") as page:
            token = page.cookies["desk_login"].value
        right = {"username": "alice", "password": PASSWORD, "csrf_token": token}
        async with http.post(f"{url}/desk/login", data=right, allow_redirects=False) as held:
            assert held.status == 429
            assert "too many failed sign-ins" in await held.text()

    _run(desk_app, check)


def test_a_post_without_the_sessions_csrf_token_is_refused(desk_app: App, seeded: Seeded) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        csrf = await sign_in(http, url, "bob")
        take = f"{url}/desk/handoffs/{seeded.overdue_handoff}/take"
        for data in ({}, {"csrf_token": ""}, {"csrf_token": csrf[:-1] + "x"}):
            async with http.post(take, data=data) as refused:
                assert refused.status == 403
                assert "CSRF" in await refused.text()
        headers = {"X-CSRF-Token": "wrong"}
        async with http.post(take, headers=headers) as refused:
            assert refused.status == 403
            assert "CSRF" in (await refused.json())["error"]
        assert DeskRepository(desk_app.database).handoff(seeded.overdue_handoff).status == "open"
        headers = {"X-CSRF-Token": csrf}
        async with http.post(take, headers=headers, allow_redirects=False) as taken:
            assert taken.status == 303

    _run(desk_app, check)
    case = DeskRepository(desk_app.database).handoff(seeded.overdue_handoff)
    assert (case.status, case.taken_by) == ("taken", "bob")


def test_an_unknown_status_is_refused_with_the_allowed_ones(desk_app: App, seeded: Seeded) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        csrf = await sign_in(http, url, "bob")
        data = {"csrf_token": csrf, "status": "lost", "note": "", "seen": "open"}
        async with http.post(f"{url}/desk/cases/claim/{seeded.claim}/status", data=data) as r:
            assert r.status == 400
            text = await r.text()
            assert "&#39;lost&#39; is not a status of a claim" in text
            assert "in_review" in text

    _run(desk_app, check)
    (claim,) = DeskRepository(desk_app.database).cases("claim")
    assert (claim.status, claim.events) == ("open", ())


CLAIM_OPTIONS = re.compile(r'<select id="status-claim-\d+" name="status">(.*?)</select>', re.S)


async def _claim_form(http: aiohttp.ClientSession, url: str) -> tuple[str, list[str]]:
    """The status the claim's form says its operator saw, and the statuses it offers."""
    async with http.get(f"{url}/desk/cases/claim") as page:
        text = await page.text()
    seen = re.search(r'name="seen" value="([a-z_]+)"', text)
    options = CLAIM_OPTIONS.search(text)
    assert seen is not None and options is not None, text
    return seen.group(1), re.findall(r'<option value="([a-z_]+)">', options.group(1))


def test_the_cases_page_offers_only_the_next_statuses_and_refuses_the_others(
    desk_app: App, seeded: Seeded
) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        csrf = await sign_in(http, url, "bob")
        assert await _claim_form(http, url) == ("open", ["in_review"])
        status_url = f"{url}/desk/cases/claim/{seeded.claim}/status"
        data = {"csrf_token": csrf, "status": "closed", "note": "done", "seen": "open"}
        async with http.post(status_url, data=data) as skipped:
            assert skipped.status == 400
            assert "claim CL-1001 is open; it may go to in review next, not closed" in (
                await skipped.text()
            )
        del data["seen"]
        async with http.post(status_url, data=data) as unsaid:
            assert unsaid.status == 400
            assert "does not say which status you saw" in await unsaid.text()
        data |= {"status": "in_review", "seen": "open"}
        async with http.post(status_url, data=data, allow_redirects=False) as moved:
            assert moved.status == 303
        assert await _claim_form(http, url) == ("in_review", ["accepted", "rejected"])

    _run(desk_app, check)
    (claim,) = DeskRepository(desk_app.database).cases("claim")
    assert [(e.status, e.text) for e in claim.events] == [("in_review", "done")]


def test_a_form_for_a_status_changed_meanwhile_is_refused_naming_who_changed_it(
    desk_app: App, seeded: Seeded
) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        bob_csrf = await sign_in(http, url, "bob")
        bob_saw, _ = await _claim_form(http, url)
        async with client() as alice:
            alice_csrf = await sign_in(alice, url, "alice")
            alice_saw, offered = await _claim_form(alice, url)
            data = {"csrf_token": alice_csrf, "status": offered[0], "seen": alice_saw}
            status_url = f"{url}/desk/cases/claim/{seeded.claim}/status"
            async with alice.post(status_url, data=data, allow_redirects=False) as first:
                assert first.status == 303
        stale = {"csrf_token": bob_csrf, "status": "in_review", "seen": bob_saw, "note": "mine"}
        async with http.post(status_url, data=stale) as refused:
            assert refused.status == 400
            text = await refused.text()
            assert "was changed meanwhile by alice: it is in review now, not open" in text

    _run(desk_app, check)
    (claim,) = DeskRepository(desk_app.database).cases("claim")
    assert [(e.operator, e.status, e.text) for e in claim.events] == [("alice", "in_review", "")]


def test_a_hand_off_is_closed_as_seen_given_back_and_reopened_by_an_admin_only(
    desk_app: App, seeded: Seeded
) -> None:
    handoff = seeded.overdue_handoff
    base = f"/desk/handoffs/{handoff}"

    async def check(url: str, http: aiohttp.ClientSession) -> None:
        bob = await sign_in(http, url, "bob")  # bob's page shows the hand-off open
        async with client() as alice:
            alice_csrf = await sign_in(alice, url, "alice")
            async with alice.post(url + base + "/take", data={"csrf_token": alice_csrf}) as took:
                assert took.status == 200
            closing = {"csrf_token": bob, "seen": "open", "note": "sorted"}
            async with http.post(url + base + "/close", data=closing) as stale:
                assert stale.status == 400
                assert "changed meanwhile by alice: it is taken now, not open" in (
                    await stale.text()
                )
            back = {"csrf_token": alice_csrf, "seen": "taken", "status": "open"}
            async with alice.post(url + base + "/status", data=back) as released:
                assert released.status == 200
            closing["seen"] = "open"
            async with http.post(url + base + "/close", data=closing) as closed:
                assert closed.status == 200
            async with http.get(f"{url}/desk/handoffs") as page:
                assert f'action="{base}/status" class="reopen"' not in await page.text()
            reopen = {"csrf_token": bob, "seen": "closed", "status": "open"}
            async with http.post(url + base + "/status", data=reopen) as refused:
                assert refused.status == 400
                assert "only an admin may reopen it" in await refused.text()
            async with alice.get(f"{url}/desk/handoffs") as page:
                assert f'action="{base}/status" class="reopen"' in await page.text()
            reopen["csrf_token"] = alice_csrf
            async with alice.post(url + base + "/status", data=reopen) as reopened:
                assert reopened.status == 200

    _run(desk_app, check)
    case = DeskRepository(desk_app.database).handoff(handoff)
    assert (case.status, case.taken_by, case.closed_at) == ("open", None, None)
    assert [(e.operator, e.status) for e in case.events] == [
        ("alice", "taken"),
        ("alice", "open"),
        ("bob", "closed"),
        ("alice", "open"),
    ]


def test_only_admins_manage_operators(desk_app: App, seeded: Seeded) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        csrf = await sign_in(http, url, "bob")
        async with http.get(f"{url}/desk/users") as page:
            assert page.status == 403
        data = {"csrf_token": csrf, "username": "mallory", "role": "admin", "password": "x" * 12}
        async with http.post(f"{url}/desk/users", data=data) as refused:
            assert refused.status == 403
        async with client() as admin:
            admin_csrf = await sign_in(admin, url, "alice")
            data["csrf_token"] = admin_csrf
            data["password"] = "short"
            async with admin.post(f"{url}/desk/users", data=data) as weak:
                assert weak.status == 400
                assert "at least 10 characters" in await weak.text()
            data["password"] = "a long enough password"
            async with admin.post(f"{url}/desk/users", data=data) as added:
                assert added.status == 200 and "mallory" in await added.text()
            form = {"csrf_token": admin_csrf}
            async with admin.post(f"{url}/desk/users/bob/disable", data=form) as disabled:
                assert disabled.status == 200
        async with http.get(f"{url}/desk/handoffs", allow_redirects=False) as signed_out:
            assert signed_out.status == 303  # bob's session ended with his account

    _run(desk_app, check)


def test_after_signing_in_only_desk_pages_of_this_site_are_followed(
    desk_app: App, seeded: Seeded
) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        for target, expected in (
            ("/desk/stats", "/desk/stats"),
            ("//evil.example/desk/", "/desk/"),
            ("https://evil.example/", "/desk/"),
        ):
            async with http.get(f"{url}/desk/login") as page:
                token = page.cookies["desk_login"].value
            data = {"username": "alice", "password": PASSWORD, "csrf_token": token}
            data["next"] = target
            async with http.post(f"{url}/desk/login", data=data, allow_redirects=False) as r:
                assert r.headers["Location"] == expected

    _run(desk_app, check)


def test_a_recording_is_served_from_the_recordings_folder_only(
    desk_app: App, seeded: Seeded
) -> None:
    folder = desk_app.settings.recordings.dir
    folder.mkdir(parents=True)
    (folder / "call-1.wav").write_bytes(b"RIFF....WAVEfmt ")
    (folder.parent / "secret.wav").write_bytes(b"not yours")

    def record(call: int, path: str) -> None:
        with desk_app.database.transaction(write=True) as session:
            row = session.get(Conversation, call)
            assert row is not None
            row.recording_path = path

    record(seeded.web_call, "call-1.wav")
    record(seeded.sip_call, "../secret.wav")

    async def check(url: str, http: aiohttp.ClientSession) -> None:
        await sign_in(http, url, "bob")
        async with http.get(f"{url}/desk/calls/{seeded.web_call}") as page:
            assert f'<audio controls preload="none" src="/desk/calls/{seeded.web_call}/' in (
                await page.text()
            )
        async with http.get(f"{url}/desk/calls/{seeded.web_call}/recording") as served:
            assert served.status == 200
            assert served.headers["Content-Type"] == "audio/wav"
            assert await served.read() == b"RIFF....WAVEfmt "
        async with http.get(f"{url}/desk/calls/{seeded.sip_call}/recording") as escaping:
            assert escaping.status == 403
            assert "outside" in (await escaping.json())["error"]
        record(seeded.web_call, "gone.wav")
        async with http.get(f"{url}/desk/calls/{seeded.web_call}/recording") as gone:
            assert gone.status == 404
        desk_app.repository.set_recording(seeded.sip_call, None, False)
        async with http.get(f"{url}/desk/calls/{seeded.sip_call}") as objected:
            text = await objected.text()
            assert "Not recorded: the caller objected." in text and "<audio" not in text

    _run(desk_app, check)


def test_recording_paths_stay_inside_their_folder(tmp_path: Path) -> None:
    assert recording_file(tmp_path, "2026/12/call-1.wav") == tmp_path / "2026/12/call-1.wav"
    assert recording_file(tmp_path, "../x.wav") is None
    assert recording_file(tmp_path, "/etc/passwd") is None
    assert recording_file(tmp_path, ".") is None


def test_the_live_stream_sends_a_snapshot_then_each_change(desk_app: App, seeded: Seeded) -> None:
    async def check(url: str, http: aiohttp.ClientSession) -> None:
        await sign_in(http, url, "bob")
        running = desk_app.live_calls.start("sip", "sip:+4930@host", datetime.now(UTC), None)
        async with http.get(f"{url}/desk/live/events") as stream:
            assert stream.headers["Content-Type"] == "text/event-stream"
            first = await _event(stream)
            assert first[0] == "snapshot"
            assert [call["caller_id"] for call in first[1]["calls"]] == ["sip:+4930@host"]
            running.observe(CallerSaid(1.0, "where is my parcel"))
            kind, change = await _event(stream)
            assert kind == "call"
            assert change["lines"] == [
                {
                    "speaker": "caller",
                    "text": "where is my parcel",
                    "interrupted": False,
                    "heard": None,
                }
            ]

    _run(desk_app, check)


def test_shutting_down_ends_the_live_streams(desk_app: App, seeded: Seeded) -> None:
    async def scenario() -> None:
        web_app = build_web_app(desk_app)
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        try:
            async with client() as http:
                await sign_in(http, url, "bob")
                async with http.get(f"{url}/desk/live/events") as stream:
                    assert (await _event(stream))[0] == "snapshot"
                    await web_app.shutdown()  # what the runner's cleanup does first
                    assert await stream.content.read() == b""  # the stream ended
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


async def _event(stream: aiohttp.ClientResponse) -> tuple[str, dict[str, Any]]:
    kind, data = "", ""
    while True:
        line = (await stream.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and kind:
            return kind, json.loads(data)


def test_the_desk_can_be_turned_off(tmp_path: Path) -> None:
    app = App(desk_settings(tmp_path, VOICE_AGENT_DESK__ENABLED="false"))

    async def check(url: str, http: aiohttp.ClientSession) -> None:
        async with http.get(f"{url}/desk/login") as response:
            assert response.status == 404

    try:
        _run(app, check)
    finally:
        app.close()
