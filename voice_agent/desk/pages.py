"""The desk's pages: live calls, call history and detail, the hand-off queue, cases, users.

Every handler here runs behind the sign-in gate (web.py); store work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from voice_agent.desk.commands import check_username
from voice_agent.desk.passwords import WeakPasswordError, check_strength, hash_password
from voice_agent.desk.web import DESK, PREFIX, Desk, back_to, refuse, render, session_of
from voice_agent.errors import CliError
from voice_agent.store.desk import DeskError, DeskRepository
from voice_agent.store.desk_calls import CallHistory
from voice_agent.store.desk_views import CallQuery, CaseItem
from voice_agent.store.views import OPERATOR_ROLES, next_statuses

KEEP_ALIVE_S = 15.0

LATENCY_LABELS = {
    "endpoint": "turn committed",
    "asr_final": "speech recognized",
    "reply_first_text": "reply's first words",
    "tts_first_audio": "first audio synthesized",
    "first_audio_sent": "first audio sent",
}
"""The latency marks of an agent turn, in order, as the desk names them (ms after the end of
the caller's speech, measured on the server)."""

CASE_TABS = {
    "claim": ("claim", "Claims"),
    "return": ("return", "Returns"),
    "cancellation": ("shop_request", "Cancellations"),
    "shop_request": ("shop_request", "Other shop requests"),
    "address_change": ("address_change", "Address changes"),
}
"""Each tab of the cases page: the case kind it lists, and its name."""


def add_routes(desk_app: web.Application) -> None:
    router = desk_app.router
    router.add_get("", _home)
    router.add_get("/", _live_page)
    router.add_get("/live", _live_page)
    router.add_get("/live/events", _live_events)
    router.add_get("/calls", _calls_page)
    router.add_get("/calls/{id:\\d+}", _call_page)
    router.add_get("/calls/{id:\\d+}/recording", _recording)
    router.add_get("/handoffs", _handoffs_page)
    router.add_post("/handoffs/{id:\\d+}/take", _take)
    router.add_post("/handoffs/{id:\\d+}/note", _handoff_note)
    router.add_post("/handoffs/{id:\\d+}/close", _close)
    router.add_post("/handoffs/{id:\\d+}/status", _handoff_status)
    router.add_get("/cases", _cases_home)
    router.add_get("/cases/{tab}", _cases_page)
    router.add_post("/cases/{kind}/{id:\\d+}/status", _case_status)
    router.add_post("/cases/{kind}/{id:\\d+}/note", _case_note)
    router.add_get("/users", _users_page)
    router.add_post("/users", _add_user)
    router.add_post("/users/{name}/disable", _disable_user)
    router.add_post("/users/{name}/enable", _enable_user)


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"{PREFIX}/")


# --- live calls -------------------------------------------------------------------------------


async def _live_page(request: web.Request) -> web.StreamResponse:
    calls = [call.to_json() for call in request.app[DESK].live.calls()]
    return render(request, "live.html", calls=calls, section="live")


async def _live_events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: a snapshot of the calls now, then each call as it changes; the
    stream ends with the session (the browser then needs to sign in again)."""
    desk = request.app[DESK]
    remaining = (session_of(request).expires_at - desk.now()).total_seconds()
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    with contextlib.suppress(TimeoutError, ConnectionResetError), desk.live.subscribe() as queue:
        async with asyncio.timeout(max(0.0, remaining)):
            snapshot = [call.to_json() for call in desk.live.calls()]
            await response.write(_sse("snapshot", {"calls": snapshot}))
            while (message := await _next_change(queue, response)) is not None:
                await response.write(_sse("call", message))
    # None: too slow; the browser reconnects and gets a snapshot.
    return response


async def _next_change(
    queue: asyncio.Queue[dict[str, Any] | None], response: web.StreamResponse
) -> dict[str, Any] | None:
    """The next call change, writing a keep-alive comment while there is none (a closed
    connection then shows)."""
    while True:
        try:
            async with asyncio.timeout(KEEP_ALIVE_S):
                return await queue.get()
        except TimeoutError:
            await response.write(b": keep-alive\n\n")


def _sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


# --- call history -----------------------------------------------------------------------------


async def _calls_page(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    form = {name: request.query.get(name, "").strip() for name in _SEARCH_FIELDS}
    try:
        query = CallQuery(
            order_number=form["order"],
            phone=form["phone"],
            email=form["email"],
            since=_day(form["since"], "from"),
            until=_day(form["until"], "to"),
            page=_page_number(request.query.get("page", "1")),
        )
        result = await desk.blocking(lambda database: CallHistory(database).search(query))
    except DeskError as error:
        return render(
            request,
            "calls.html",
            400,
            form=form,
            result=None,
            error=str(error),
            section="calls",
            links={},
        )
    links = {
        "previous": _page_link(form, result.page - 1) if result.page > 1 else None,
        "next": _page_link(form, result.page + 1) if result.page < result.pages else None,
    }
    return render(
        request, "calls.html", form=form, result=result, error="", section="calls", links=links
    )


_SEARCH_FIELDS = ("order", "phone", "email", "since", "until")


def _day(text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DeskError(f"{what} {text!r} is not a date like 2026-03-31") from None


MAX_PAGE_DIGITS = 7
"""Far beyond any history; many more digits overflow the database's offset, or int() itself."""


def _page_number(text: str) -> int:
    # ASCII digits only: str.isdigit() also passes "²", which int() then refuses
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit() and 1 <= len(digits) <= MAX_PAGE_DIGITS):
        raise DeskError(f"page {text[:20]!r} is not a page number")
    return int(digits)


def _page_link(form: dict[str, str], page: int) -> str:
    fields = {name: value for name, value in form.items() if value}
    return f"{PREFIX}/calls?{urlencode({**fields, 'page': page})}"


async def _call_page(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    call_id = int(request.match_info["id"])
    detail = await desk.blocking(lambda database: CallHistory(database).detail(call_id))
    return render(request, "call.html", call=detail, labels=LATENCY_LABELS, section="calls")


async def _recording(request: web.Request) -> web.StreamResponse:
    """The call's WAV file, from the recordings folder only."""
    desk = request.app[DESK]
    call_id = int(request.match_info["id"])
    detail = await desk.blocking(lambda database: CallHistory(database).detail(call_id))
    if detail.recording_path is None:
        return refuse(request, 404, f"call {call_id} was not recorded")
    recordings = desk.settings.recordings
    folder = desk.settings.paths.resolve(recordings.dir).resolve()
    path = recording_file(folder, detail.recording_path)
    if path is None:
        return refuse(request, 403, f"call {call_id}: its recording is outside {recordings.dir}")
    if not path.is_file():
        return refuse(request, 404, f"call {call_id}: its recording is gone (purged?)")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


def recording_file(folder: Path, stored: str) -> Path | None:
    """The recording's file inside `folder`; None when the stored path would leave it."""
    path = (folder / stored).resolve()
    return path if path.is_relative_to(folder) and path != folder else None


# --- hand-offs --------------------------------------------------------------------------------


async def _handoffs_page(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    queue = await desk.store(DeskRepository.handoff_queue)
    now = desk.now()
    waiting = [case for case in queue if case.status != "closed"]
    closed = [case for case in queue if case.status == "closed"]
    return render(
        request, "handoffs.html", waiting=waiting, closed=closed, now=now, section="handoffs"
    )


async def _take(request: web.Request) -> web.StreamResponse:
    desk, case_id, who = _action(request)
    await desk.store(lambda store: store.take_handoff(case_id, who, desk.now()))
    raise back_to(f"{PREFIX}/handoffs#handoff-{case_id}", "taken")


async def _handoff_note(request: web.Request) -> web.StreamResponse:
    desk, case_id, who = _action(request)
    text = await _field(request, "note")
    await desk.store(lambda store: store.add_note("handoff", case_id, who, text, desk.now()))
    raise back_to(f"{PREFIX}/handoffs#handoff-{case_id}", "note added")


async def _close(request: web.Request) -> web.StreamResponse:
    desk, case_id, who = _action(request)
    text = await _field(request, "note")
    seen = await _field(request, "seen") or None  # the page's form always says; scripts may not
    await desk.store(lambda store: store.close_handoff(case_id, who, desk.now(), text, seen=seen))
    raise back_to(f"{PREFIX}/handoffs#handoff-{case_id}", "closed")


async def _handoff_status(request: web.Request) -> web.StreamResponse:
    """A hand-off given back to the queue, or (by an admin) reopened."""
    await _change_status(request, "handoff")
    raise back_to(f"{PREFIX}/handoffs#handoff-{request.match_info['id']}", "status changed")


def _action(request: web.Request) -> tuple[Desk, int, str]:
    return request.app[DESK], int(request.match_info["id"]), session_of(request).operator.username


async def _field(request: web.Request, name: str) -> str:
    value = (await request.post()).get(name, "")
    return value.strip() if isinstance(value, str) else ""


# --- cases ------------------------------------------------------------------------------------


async def _cases_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"{PREFIX}/cases/claim")


async def _cases_page(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    tab = request.match_info["tab"]
    if tab not in CASE_TABS:
        return refuse(request, 404, f"no case list {tab!r}; one of {', '.join(CASE_TABS)}")
    kind, title = CASE_TABS[tab]
    items = await desk.store(lambda store: store.cases(kind))
    items = [item for item in items if _on_tab(tab, item)]
    unconfirmed = await desk.store(DeskRepository.unconfirmed_address_changes)
    admin = session_of(request).operator.role == "admin"
    return render(
        request,
        "cases.html",
        tab=tab,
        tabs=CASE_TABS,
        title=title,
        items=items,
        moves={item.id: next_statuses(kind, item.status, admin) for item in items},
        unconfirmed=unconfirmed,
        section="cases",
    )


def _on_tab(tab: str, item: CaseItem) -> bool:
    if item.kind != "shop_request":
        return True
    return (item.title == "cancellation") == (tab == "cancellation")


def _tab_of(kind: str, request: web.Request) -> str:
    tab = request.query.get("tab", kind)
    return tab if tab in CASE_TABS else kind


async def _case_status(request: web.Request) -> web.StreamResponse:
    kind = request.match_info["kind"]
    await _change_status(request, kind)
    if kind == "handoff":
        raise back_to(f"{PREFIX}/handoffs#handoff-{request.match_info['id']}", "status changed")
    case = f"{kind}-{request.match_info['id']}"
    raise back_to(f"{PREFIX}/cases/{_tab_of(kind, request)}#{case}", "status changed")


async def _change_status(request: web.Request, kind: str) -> None:
    desk, case_id, who = _action(request)
    status, note = await _field(request, "status"), await _field(request, "note")
    # The status the operator saw: the change is refused if the case has moved on since.
    seen = await _field(request, "seen")
    if not seen:
        raise DeskError("the form does not say which status you saw; reload the page")
    admin = session_of(request).operator.role == "admin"
    await desk.store(
        lambda store: store.set_status(
            kind, case_id, status, who, desk.now(), note, seen=seen, admin=admin
        )
    )


async def _case_note(request: web.Request) -> web.StreamResponse:
    desk, case_id, who = _action(request)
    kind = request.match_info["kind"]
    text = await _field(request, "note")
    await desk.store(lambda store: store.add_note(kind, case_id, who, text, desk.now()))
    raise back_to(f"{PREFIX}/cases/{_tab_of(kind, request)}#{kind}-{case_id}", "note added")


# --- users (admins only) ----------------------------------------------------------------------


def _admin_refusal(request: web.Request) -> web.Response | None:
    if session_of(request).operator.role != "admin":
        return refuse(request, 403, "only an admin manages operators")
    return None


async def _users_page(
    request: web.Request, error: str = "", status: int = 200
) -> web.StreamResponse:
    refusal = _admin_refusal(request)
    if refusal is not None:
        return refusal
    operators = await request.app[DESK].store(DeskRepository.operators)
    return render(
        request,
        "users.html",
        status=status,
        operators=operators,
        roles=OPERATOR_ROLES,
        error=error,
        section="users",
    )


async def _add_user(request: web.Request) -> web.StreamResponse:
    refusal = _admin_refusal(request)
    if refusal is not None:
        return refusal
    desk = request.app[DESK]
    form = await request.post()
    role, password = str(form.get("role", "")), str(form.get("password", ""))
    try:
        username = check_username(str(form.get("username", "")))
        check_strength(password, username)
        password_hash = await asyncio.to_thread(hash_password, password)
        await desk.store(
            lambda store: store.add_operator(username, password_hash, role, desk.now())
        )
    except (CliError, WeakPasswordError, DeskError) as error:
        return await _users_page(request, str(error), 400)
    raise back_to(f"{PREFIX}/users", f"added {username}")


async def _disable_user(request: web.Request) -> web.StreamResponse:
    return await _set_disabled(request, True)


async def _enable_user(request: web.Request) -> web.StreamResponse:
    return await _set_disabled(request, False)


async def _set_disabled(request: web.Request, disabled: bool) -> web.StreamResponse:
    refusal = _admin_refusal(request)
    if refusal is not None:
        return refusal
    name = request.match_info["name"]
    if disabled and name == session_of(request).operator.username:
        return refuse(request, 400, "you cannot disable yourself; ask another admin")
    desk = request.app[DESK]
    await desk.store(lambda store: store.set_disabled(name, disabled))
    raise back_to(f"{PREFIX}/users", f"{'disabled' if disabled else 'enabled'} {name}")
