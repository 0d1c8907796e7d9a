"""The public status page: each board andon reads, ok or failing, and when it was last read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from db import session_scope, utcnow
from pipeline.board_status import board_statuses
from web.pages import page, state

router = APIRouter()


@router.get("/status", include_in_schema=False)
def status_page(request: Request) -> Response:
    """No token and no internals: name, kind, ok/failing and the last good crawl time."""
    with session_scope(state(request).engine) as session:
        boards = board_statuses(session, at=utcnow())
    failing = [b for b in boards if not b.ok]
    return page(request, "status.html", boards=boards, failing=len(failing))
