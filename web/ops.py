"""For operators: /healthz for load balancers and monitors, /ops behind the operator token."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from alerts import stats
from alerts.feedback import not_relevant_counts
from db import session_scope
from pipeline import health
from web.pages import PageError, page, state

router = APIRouter()


@router.get("/healthz", tags=["operations"], summary="200 when the database answers")
def healthz(request: Request) -> JSONResponse:
    try:
        with state(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _authorised(request: Request, expected: str) -> bool:
    given = request.query_params.get("token") or ""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


@router.get("/ops", include_in_schema=False)
def ops(request: Request) -> Response:
    web = state(request)
    token = web.settings.operator_token
    if token is None or not token.get_secret_value():
        raise PageError(404, "Not found", "The operator page is off: set ANDON_OPERATOR_TOKEN.")
    if not _authorised(request, token.get_secret_value()):
        raise PageError(
            401,
            "Operator token needed",
            "Send the operator token as 'Authorization: Bearer …' or ?token=….",
        )
    with session_scope(web.engine) as session:
        context: dict[str, Any] = {
            "postings": health.posting_counts(session),
            "sources": health.source_health(session),
            "subscribers": stats.subscriber_counts(session),
            "searches": stats.search_counts(session),
            "digests": stats.digest_counts(session),
            "recent": stats.recent_digests(session, limit=10),
            "feedback": not_relevant_counts(session),
        }
    response = page(request, "ops.html", **context)
    response.headers["Cache-Control"] = "no-store"
    return response
