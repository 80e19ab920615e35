"""The web console: mentors and supervisors review, replay and assign in a browser, over the same store as the CLI.

Server-rendered (Starlette + Jinja2, autoescaped); no script, no external asset. Every page is behind sign-in
(argon2id passwords set with ``users add --password-stdin``), sessions live in a signed cookie, every form carries
a CSRF token, and responses carry a strict Content-Security-Policy. What a person sees follows their role: a
trainee their own calls, a mentor their trainees', a supervisor everyone's.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import partial
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from core.errors import NotFound, TrainerError
from core.text import fmt_score
from simulator.console import pages
from simulator.console.web import Forbidden, Viewer, checked_form, csrf_token
from simulator.history.location import Location
from simulator.history.store import HistoryStore

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SESSION_HOURS = 12
ROLE_TITLES = {"trainee": "学员", "mentor": "导师", "supervisor": "主管"}


def create_app(db: str | Path | Location | None = None, *, store: HistoryStore | None = None) -> Starlette:
    """The console over the store ``db`` (a SQLite path or a PostgreSQL URL), opened once for the app's life."""
    store = store or HistoryStore(db, create=False)
    secret = hmac.new(store.pseudonym_secret(), b"hotline-console-session", hashlib.sha256).hexdigest()
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    templates.filters["score"] = fmt_score
    templates.filters["pct"] = lambda r: "—" if r is None else f"{round(100 * r)}%"
    templates.globals["role_titles"] = ROLE_TITLES
    ctx = pages.Context(store, templates)
    routes = [
        Route("/login", partial(_login, ctx=ctx), methods=["GET", "POST"]),
        Route("/logout", _logout, methods=["POST"]),
        Route("/", partial(_page, ctx=ctx, handler=pages.home)),
        Route("/team", partial(_page, ctx=ctx, handler=pages.team)),
        Route("/trainees/{name}", partial(_page, ctx=ctx, handler=pages.trainee)),
        Route("/calls/{call_id}", partial(_page, ctx=ctx, handler=pages.call)),
        Route("/calls/{call_id}/review", partial(_page, ctx=ctx, handler=pages.review), methods=["POST"]),
        Route("/calls/{call_id}/audio/{turn:int}", partial(_page, ctx=ctx, handler=pages.audio)),
        Route("/assign", partial(_page, ctx=ctx, handler=pages.assign), methods=["GET", "POST"]),
        Route("/scenarios", partial(_page, ctx=ctx, handler=pages.scenarios)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="hotline_console",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
                https_only=False,
            ),  # fmt: skip
        ],
    )
    app.state.store = store
    return app


class SecurityHeaders:
    """Every response: the Content-Security-Policy (nothing from outside, no script) and its companions."""

    HEADERS = (
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        return await self.app(scope, receive, with_headers)


def viewer_of(request: Request, ctx) -> Viewer | None:
    name = request.session.get("user")
    if not name:
        return None
    user = ctx.store.user(name)
    if user is None or not user.has_password:  # removed or locked since signing in
        request.session.clear()
        return None
    return Viewer(user.name, user.role)


async def _page(request: Request, ctx, handler) -> Response:
    viewer = viewer_of(request, ctx)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    try:
        return await handler(request, ctx, viewer)
    except Forbidden as exc:
        return ctx.render(request, viewer, "error.html", {"message": str(exc)}, status=403)
    except NotFound as exc:
        return ctx.render(request, viewer, "error.html", {"message": str(exc)}, status=404)
    except TrainerError as exc:
        return ctx.render(request, viewer, "error.html", {"message": str(exc)}, status=400)


async def _login(request: Request, ctx) -> Response:
    from simulator.people import verify_password

    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        target = "/"  # only pages of this console, never another site (browsers read /\\host as //host)
    if request.method == "GET":
        return ctx.render(request, None, "login.html", {"next": target, "error": ""})
    try:
        form = await checked_form(request)
    except Forbidden as exc:
        return ctx.render(request, None, "login.html", {"next": target, "error": str(exc)}, status=403)
    name = str(form.get("name", "")).strip()
    # The same work and the same message whether the name exists or not.
    if not verify_password(ctx.store.password_hash(name) if name else None, str(form.get("password", ""))):
        return ctx.render(request, None, "login.html", {"next": target, "error": "姓名或密码不对"}, status=401)
    request.session.clear()  # a new session and a new CSRF token on sign-in
    request.session["user"] = name
    csrf_token(request)
    return RedirectResponse(target, status_code=303)


async def _logout(request: Request) -> Response:
    try:
        await checked_form(request)
        request.session.clear()
    except Forbidden:
        pass  # a forged sign-out changes nothing
    return RedirectResponse("/login", status_code=303)
