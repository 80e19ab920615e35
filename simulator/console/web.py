"""What every console page shares: who is signed in, the CSRF check of a form, rendering a template, serving a
recording. Imported by ``app`` (routing, sign-in) and ``pages`` (each page)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse

from core.errors import TrainerError
from simulator.history.pseudonyms import Identity


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str

    @property
    def reviews(self) -> bool:
        return self.role in ("mentor", "supervisor")


class Forbidden(TrainerError):
    """A form without a valid CSRF token, or an action the viewer's role may not take."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request):
    """The posted form (``FormData``), after its CSRF token matched the session's; a forged or stale form changes
    nothing."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    expected = request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("表单已过期或来源不明 - 请刷新页面后再提交 (没有做任何修改)")
    return form


def render(templates: Environment, request: Request, viewer: Viewer | None, name: str, data: dict,
           status: int = 200) -> HTMLResponse:  # fmt: skip
    page = templates.get_template(name).render(viewer=viewer, csrf=csrf_token(request), names=Identity(), **data)
    return HTMLResponse(page, status_code=status)


def audio_file(path: str | None) -> FileResponse | None:
    if not path or not Path(path).is_file():
        return None
    return FileResponse(path, media_type="audio/wav")
