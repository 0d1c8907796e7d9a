"""The FastAPI app factory: settings and engine come in, nothing is built at import time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from config import Settings, load_settings
from db import make_engine
from web import feedback, jobs, manage, ops, status, subscribe, webhooks
from web.pages import PageError, WebState, environment, error_page

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"

# Pages load only our own script and stylesheet; forms post only to us. No referrer: manage,
# unsubscribe and feed URLs carry tokens and must not leak to the job sites we link to.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# The interactive docs (Swagger UI / ReDoc, served from the fastapi-offline package, no CDN)
# run an inline script, so they keep their own policy.
DOCS_PATHS = ("/docs", "/redoc")


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the web app over `settings` (default: from the environment) and `engine`."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)
    app = FastAPIOffline(
        title="andon",
        summary="Job alerts for production managers: stored listings as JSON.",
        version="0.1.0",
    )
    app.state.web = WebState(
        settings=settings,
        engine=engine,
        templates=Jinja2Templates(env=environment()),
        secret=settings.secret(),
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (subscribe, manage, feedback, jobs, webhooks, ops, status):
        app.include_router(module.router)
    _install_handlers(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if not request.url.path.startswith(DOCS_PATHS):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/webhooks/", "/healthz"))


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        return error_page(request, exc.status, exc.title, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
            )
        titles = {404: "Page not found", 405: "Not allowed"}
        title = titles.get(exc.status_code, "Something is wrong")
        message = "There is nothing at this address." if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, title, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        message = _one_line(exc.errors())
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=422)
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return error_page(request, 404, "Page not found", "There is nothing at this address.")
        return error_page(request, 400, "Something in the request is wrong", message)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return error_page(
            request, 500, "Something went wrong", "This is our fault. Please try again later."
        )


def _one_line(errors: Any) -> str:
    """FastAPI's validation errors as one line: 'within: Input should be a valid number'."""
    first = next(iter(errors), None)
    if not first:
        return "invalid request"
    loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path")]
    where = ".".join(loc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}" if where else first.get("msg", "invalid")
