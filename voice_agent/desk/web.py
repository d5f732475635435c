"""The desk's web app at /desk: set-up, the sign-in gate, CSRF, sign-in and sign-out.

Every route of the desk's sub-application passes `_gate`: without a valid session a page
redirects to the sign-in page (303) and an API or event stream answers 401; a POST without
its session's CSRF token is refused with 403. Only the sign-in page and the static files are
open, and the sign-in form carries its own CSRF token (a cookie and a hidden field that must
match), so another site cannot sign a browser in under its own account either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import jinja2
from aiohttp import web

from voice_agent.agent.live import LiveCalls
from voice_agent.clock import Clock, RealClock
from voice_agent.desk import auth
from voice_agent.desk.auth import CSRF_FIELD, CSRF_HEADER, LOGIN_COOKIE, SESSION_COOKIE
from voice_agent.desk.passwords import dummy_verify, hash_password, needs_rehash, verify_password
from voice_agent.settings import Settings
from voice_agent.store.db import Database
from voice_agent.store.desk import DeskError, DeskRepository
from voice_agent.store.desk_views import DeskSessionView

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PREFIX = "/desk"
OPEN_PATHS = (f"{PREFIX}/login", f"{PREFIX}/static/")
API_SUFFIXES = ("/events", "/recording")
"""Paths answered with 401 (not a redirect) without a session: what scripts and players
fetch, not pages people open."""
LOGIN_FORM_S = 3600
NOTICE_CHARS = 80
"""A notice after an action ("taken", "status changed") is a few words, never more."""
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "media-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Desk:
    """What the desk's handlers share."""

    settings: Settings
    database: Callable[[], Database]
    """Opened on first use (blocking), so only ever called off the event loop."""
    live: LiveCalls
    wall_clock: Callable[[], datetime]
    clock: Clock
    throttle: auth.LoginThrottle = field(default_factory=auth.LoginThrottle)
    templates: jinja2.Environment = field(default_factory=lambda: _templates())

    async def store(self, work: Callable[[DeskRepository], T]) -> T:
        """Run `work` on the desk's repository, off the event loop."""
        return await asyncio.to_thread(lambda: work(DeskRepository(self.database())))

    async def blocking(self, work: Callable[[Database], T]) -> T:
        return await asyncio.to_thread(lambda: work(self.database()))

    def now(self) -> datetime:
        return self.wall_clock().astimezone(UTC)


DESK: web.AppKey[Desk] = web.AppKey("desk", Desk)
SESSION_KEY: web.RequestKey[DeskSessionView] = web.RequestKey("desk_session", DeskSessionView)


def add_desk(
    web_app: web.Application,
    settings: Settings,
    database: Callable[[], Database],
    live: LiveCalls,
    wall_clock: Callable[[], datetime] | None = None,
    clock: Clock | None = None,
) -> Desk:
    """Mount the desk at /desk on the server's web app."""
    from voice_agent.desk import pages, stats

    desk = Desk(
        settings, database, live, wall_clock or (lambda: datetime.now(UTC)), clock or RealClock()
    )
    desk_app = web.Application(middlewares=[_gate])
    desk_app[DESK] = desk
    desk_app.on_response_prepare.append(_security_headers)
    desk_app.on_shutdown.append(_end_streams)
    desk_app.router.add_get("/login", _login_page)
    desk_app.router.add_post("/login", _login)
    desk_app.router.add_post("/logout", _logout)
    desk_app.router.add_static("/static/", HERE / "static")
    pages.add_routes(desk_app)
    stats.add_routes(desk_app)
    web_app.add_subapp(PREFIX, desk_app)
    return desk


async def _end_streams(desk_app: web.Application) -> None:
    desk_app[DESK].live.end_streams()


def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = _when
    environment.filters["words"] = lambda name: str(name).replace("_", " ")
    return environment


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    desk = request.app[DESK]
    session: DeskSessionView | None = request.get(SESSION_KEY)
    page = desk.templates.get_template(template).render(
        operator=None if session is None else session.operator,
        csrf=None if session is None else session.csrf_token,
        csrf_field=CSRF_FIELD,
        path=request.path,
        notice=request.query.get("done", "")[:NOTICE_CHARS],
        **context,
    )
    return web.Response(text=page, status=status, content_type="text/html")


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    """A clear refusal: JSON for scripts, a page for people."""
    if _wants_json(request):
        return web.json_response({"error": message}, status=status)
    return render(request, "error.html", status=status, message=message)


def session_of(request: web.Request) -> DeskSessionView:
    session: DeskSessionView = request[SESSION_KEY]
    return session


def back_to(location: str, done: str) -> web.HTTPSeeOther:
    """After a POST: see the page again (with a word of what was done)."""
    path, _, anchor = location.partition("#")
    joiner = "&" if "?" in path else "?"
    return web.HTTPSeeOther(f"{path}{joiner}done={quote(done)}" + (f"#{anchor}" if anchor else ""))


@web.middleware
async def _gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(OPEN_PATHS):
        return await handler(request)
    desk = request.app[DESK]
    token = request.cookies.get(SESSION_COOKIE, "")
    session = None
    if token:
        digest = auth.token_hash(token)
        session = await desk.store(lambda store: store.session(digest, desk.now()))
    if session is None:
        if _is_api(request) or request.method != "GET":
            return web.json_response(
                {"error": "sign in at /desk/login first (no valid desk session)"}, status=401
            )
        raise web.HTTPSeeOther(f"{PREFIX}/login?next={quote(request.path_qs)}")
    request[SESSION_KEY] = session
    if request.method == "POST" and not await _csrf_ok(request, session.csrf_token):
        return refuse(
            request,
            403,
            "refused: this form's security token is missing or wrong (CSRF). "
            "Reload the page and try again.",
        )
    try:
        return await handler(request)
    except DeskError as error:
        return refuse(request, 400, str(error))


def _is_api(request: web.Request) -> bool:
    return request.path.startswith(f"{PREFIX}/api/") or request.path.endswith(API_SUFFIXES)


def _wants_json(request: web.Request) -> bool:
    return _is_api(request) or CSRF_HEADER in request.headers


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.post()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return auth.same_token(expected, given)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(f"{PREFIX}/static/"):
        response.headers["Cache-Control"] = "no-store"


def _secure(request: web.Request) -> bool:
    setting = request.app[DESK].settings.desk.secure_cookie
    return auth.secure_cookie(setting, request.scheme, request.host)


def _plain_http_elsewhere(request: web.Request) -> bool:
    """Whether a browser would drop the Secure session cookie: plain HTTP from another
    machine with secure_cookie "auto" ("always" means a TLS proxy is in front)."""
    setting = request.app[DESK].settings.desk.secure_cookie
    return setting == "auto" and request.scheme == "http" and _secure(request)


def _local_next(target: str) -> str:
    """Where to go after signing in: a desk page of this site only (no open redirect)."""
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/"


async def _login_page(request: web.Request) -> web.StreamResponse:
    form_token = auth.new_token()
    response = render(
        request,
        "login.html",
        form_token=form_token,
        next=_local_next(request.query.get("next", "")),
        error="",
        plain_http=_plain_http_elsewhere(request),
    )
    _set_login_cookie(request, response, form_token)
    return response


def _set_login_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        path=f"{PREFIX}/login",
        max_age=LOGIN_FORM_S,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
    )


async def _login(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    form = await request.post()
    username = str(form.get("username", "")).strip().lower()
    target = _local_next(str(form.get("next", "")))
    if not auth.same_token(request.cookies.get(LOGIN_COOKIE, ""), str(form.get(CSRF_FIELD, ""))):
        return refuse(
            request,
            403,
            "refused: the sign-in form expired or came from another site (CSRF). "
            "Open the sign-in page again.",
        )
    keys = auth.throttle_keys(username, request.remote)
    wait = desk.throttle.wait_s(keys, desk.clock.now())
    if wait > 0:
        minutes = max(1, round(wait / 60))
        message = f"too many failed sign-ins: try again in {minutes} min"
        return await _login_again(request, 429, message, target)
    operator_id = await _check_password(desk, username, str(form.get("password", "")))
    if operator_id is None:
        desk.throttle.failed(keys, desk.clock.now())
        return await _login_again(request, 401, "wrong user name or password", target)
    desk.throttle.succeeded(keys)
    logger.info("desk: %s signed in", username)
    raise await _signed_in(request, operator_id, target)


async def _signed_in(request: web.Request, operator_id: int, target: str) -> web.HTTPSeeOther:
    """A new session (a fresh token: one set before signing in never becomes one), and the
    redirect that hands its cookie to the browser."""
    desk = request.app[DESK]
    token, csrf = auth.new_token(), auth.new_token()
    earlier = auth.token_hash(request.cookies.get(SESSION_COOKIE, ""))
    now, hours = desk.now(), desk.settings.desk.session_hours

    def start(store: DeskRepository) -> None:
        store.end_session(earlier)
        expires = now + timedelta(hours=hours)
        store.start_session(operator_id, auth.token_hash(token), csrf, now, expires)

    await desk.store(start)
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=PREFIX,
        max_age=round(hours * 3600),
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
    )
    response.del_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    return response


async def _check_password(desk: Desk, username: str, password: str) -> int | None:
    """The operator's id when the password is theirs and they may sign in; else None."""

    def check(store: DeskRepository) -> int | None:
        found = store.credentials(username)
        if found is None:
            dummy_verify(password)
            return None
        if not verify_password(found.password_hash, password) or found.operator.disabled:
            return None
        if needs_rehash(found.password_hash):
            store.set_password_hash(found.operator.id, hash_password(password))
        return found.operator.id

    return await desk.store(check)


async def _login_again(
    request: web.Request, status: int, error: str, target: str
) -> web.StreamResponse:
    form_token = auth.new_token()
    response = render(
        request,
        "login.html",
        status=status,
        form_token=form_token,
        next=target,
        error=error,
        plain_http=_plain_http_elsewhere(request),
    )
    _set_login_cookie(request, response, form_token)
    return response


async def _logout(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    digest = auth.token_hash(request.cookies.get(SESSION_COOKIE, ""))
    await desk.store(lambda store: store.end_session(digest))
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    raise response
