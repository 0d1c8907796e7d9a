"""What every route shares: the app's state, the one Jinja2 environment, pages, errors and CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData
from starlette.responses import Response

from alerts.templating import make_environment
from config import Settings
from web import csrf
from web.forms import LABELS


@dataclass
class WebState:
    """Built once by `create_app` and kept on `app.state.web`; no globals."""

    settings: Settings
    engine: Engine
    templates: Jinja2Templates
    secret: str

    @property
    def https(self) -> bool:
        return self.settings.base_url.startswith("https://")


def environment() -> Environment:
    """The web pages' Jinja2 environment: the shared one, plus the form-label filter."""
    return make_environment(
        filters={"label": lambda v: LABELS.get(v, str(v).replace("_", " ").capitalize())}
    )


def state(request: Request) -> WebState:
    return request.app.state.web


class PageError(Exception):
    """Stop a request and show an error page (or a JSON error under /api)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def page(request: Request, name: str, *, status: int = 200, **context: Any) -> Response:
    """Render `templates/web/<name>` with a CSRF token for its forms (a cookie set when new)."""
    web = state(request)
    cookie = request.cookies.get(csrf.COOKIE)
    fresh = None
    if not cookie or len(cookie) > 64:
        cookie = fresh = csrf.new_cookie_value()
    context.setdefault("csrf_token", csrf.form_token(web.secret, cookie))
    context.setdefault("postal_address", web.settings.postal_line())
    response = web.templates.TemplateResponse(request, f"web/{name}", context, status_code=status)
    if fresh is not None:
        response.set_cookie(
            csrf.COOKIE, fresh, httponly=True, samesite="lax", secure=web.https, path="/"
        )
    return response


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return page(request, "error.html", status=status, title=title, message=message)


def require_csrf(request: Request, form: FormData) -> None:
    """A 403 page unless the form carries this browser's signed CSRF token."""
    token = form.get(csrf.FIELD)
    try:
        csrf.check(
            state(request).secret,
            request.cookies.get(csrf.COOKIE),
            token if isinstance(token, str) else None,
        )
    except csrf.CsrfError as exc:
        raise PageError(
            403,
            "This form has expired",
            f"{exc}. Go back, reload the page and send the form again. "
            "(Cookies must be allowed for this site.)",
        ) from None


async def form_data(request: Request) -> FormData:
    """The submitted form (a dependency, so sync routes run their database work in a thread)."""
    return await request.form(max_files=0, max_fields=200)


def client_ip(request: Request) -> str:
    # Behind a reverse proxy, run uvicorn with --forwarded-allow-ips so this is the visitor.
    return request.client.host if request.client else "unknown"
