"""The feedback links of a digest (`alerts.feedback`): a page whose button confirms, and undo.

GET never changes anything (mail scanners fetch every link); the page's form POSTs with the
browser's CSRF token. Tampered, expired or replayed links, an unsubscribed address and a job
or search deleted since each get a page saying so, and change nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from alerts import feedback as fb
from alerts.tokens import BadToken, make_token
from db import session_scope
from web.pages import PageError, WebState, form_data, page, require_csrf, state
from web.subscribe import subscriber_from

router = APIRouter()


def _link(web: WebState, token: str) -> fb.FeedbackLink:
    try:
        return fb.read_feedback_token(web.secret, token)
    except BadToken as exc:
        if exc.reason == "expired":
            raise PageError(
                400,
                "This link has expired",
                "Feedback links work for four months after the digest; nothing changed. "
                "Use the manage link of a newer digest to change your searches.",
            ) from None
        raise PageError(
            400,
            "This link is not valid",
            "This feedback link is damaged or incomplete; nothing changed. "
            "Copy the whole link from the email.",
        ) from None


def _refused(exc: fb.FeedbackRefused) -> PageError:
    return PageError(400, exc.title, exc.message)


def _manage_path(web: WebState, subscriber_id: int) -> str:
    return f"/manage/{make_token(web.secret, 'manage', subscriber_id)}"


@router.get("/feedback/{token}", include_in_schema=False)
def feedback_get(request: Request, token: str) -> Response:
    web = state(request)
    link = _link(web, token)
    with session_scope(web.engine) as session:
        try:
            target = fb.load_target(session, link)
            if fb.already_given(session, link) is not None:
                raise fb.FeedbackRefused(
                    "This link was used already",
                    "This feedback was recorded before; nothing changed. "
                    "You can see and undo it on your manage page.",
                )
        except fb.FeedbackRefused as exc:
            raise _refused(exc) from None
        return page(
            request, "feedback.html", token=token, action=link.action,
            label=fb.LABELS[link.action], posting=target.posting, search=target.search,
            done=None,
        )  # fmt: skip


@router.post("/feedback/{token}", include_in_schema=False)
def feedback_post(request: Request, token: str, form: FormData = Depends(form_data)) -> Response:
    web = state(request)
    require_csrf(request, form)
    link = _link(web, token)
    with session_scope(web.engine, write=True) as session:
        try:
            row = fb.apply_feedback(session, link)
        except fb.FeedbackRefused as exc:
            session.rollback()
            raise _refused(exc) from None
        return page(
            request, "feedback.html", token=token, action=link.action,
            label=fb.LABELS[link.action], posting=None, search=None, done=row,
            manage_path=_manage_path(web, link.subscriber_id),
        )  # fmt: skip


@router.post("/manage/{token}/feedback/{feedback_id}/undo", include_in_schema=False)
def feedback_undo(
    request: Request, token: str, feedback_id: int, form: FormData = Depends(form_data)
) -> Response:
    web = state(request)
    require_csrf(request, form)
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "manage", token, "manage")
        try:
            fb.undo_feedback(session, sub.id, feedback_id)  # type: ignore[arg-type]
        except LookupError:
            raise PageError(404, "No such feedback", "This feedback does not exist.") from None
    return RedirectResponse(f"/manage/{token}?done=undone#feedback", status_code=303)
