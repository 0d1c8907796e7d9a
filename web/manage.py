"""The manage page of a subscriber (reached by the signed link in every email): add, edit, pause,
resume, reschedule and delete saved searches. Delete asks first: the button opens a confirmation
page whose own button deletes (no script needed), so one stray tap loses nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import delete
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from alerts import subscriptions as subs
from alerts.feedback import feedback_of
from alerts.models import SavedSearch, Subscriber
from alerts.tokens import make_token
from db import session_scope
from web.forms import blank_form, form_of, input_of, read_search_form, schedule_fields
from web.models import PendingSearch
from web.pages import PageError, form_data, page, require_csrf, state
from web.subscribe import NOTICES, STOPPED, form_choices, pending_searches, subscriber_from

router = APIRouter()


# --- manage -----------------------------------------------------------------------------------


def _manage_page(
    request: Request,
    session: Session,
    sub: Subscriber,
    token: str,
    *,
    status: int = 200,
    add_form: dict[str, Any] | None = None,
    add_errors: dict[str, str] | None = None,
    schedule_errors: dict[int, dict[str, str]] | None = None,
    schedule_forms: dict[int, dict[str, str]] | None = None,
    notice: str | None = None,
) -> Response:
    searches = subs.searches_of(session, sub.id)  # type: ignore[arg-type]
    pending_ids = {s.id for s in pending_searches(session, sub)}
    web = state(request)
    rows = [
        {
            "search": s,
            "summary": subs.describe(s),
            "pending": s.id in pending_ids,
            "feed_path": f"/feeds/{make_token(web.secret, 'feed', s.id)}.xml",  # type: ignore[arg-type]
        }
        for s in searches
    ]
    return page(
        request, "manage.html", status=status, subscriber=sub, token=token, rows=rows,
        stopped=sub.status in STOPPED, form=add_form or blank_form(sub.timezone),
        errors=add_errors or {}, schedule_errors=schedule_errors or {}, notice=notice,
        schedule_forms=schedule_forms or {},
        feedback=feedback_of(session, sub.id),  # type: ignore[arg-type]
        unsubscribe_path=f"/unsubscribe/{make_token(web.secret, 'unsubscribe', sub.id)}",  # type: ignore[arg-type]
        **form_choices(),
    )  # fmt: skip


@router.get("/manage/{token}", include_in_schema=False)
def manage(request: Request, token: str, done: str | None = None) -> Response:
    web = state(request)
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "manage", token, "manage")
        return _manage_page(request, session, sub, token, notice=NOTICES.get(done or ""))


def _back(token: str, done: str) -> Response:
    return RedirectResponse(f"/manage/{token}?done={done}", status_code=303)


def _own_search(session: Session, sub: Subscriber, search_id: int) -> SavedSearch:
    saved = session.get(SavedSearch, search_id)
    if saved is None or saved.subscriber_id != sub.id:
        raise PageError(404, "No such search", "This saved search does not exist any more.")
    return saved


def _refuse_if_stopped(sub: Subscriber) -> None:
    if sub.status in STOPPED:
        raise PageError(
            400,
            "You are unsubscribed",
            "This address gets no alerts. Subscribe again on the home page to start over.",
        )


@router.post("/manage/{token}/searches", include_in_schema=False)
def manage_add(request: Request, token: str, form: FormData = Depends(form_data)) -> Response:
    web = state(request)
    require_csrf(request, form)
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "manage", token, "manage")
        _refuse_if_stopped(sub)
        parsed, _ = read_search_form(form, with_email=False)
        if parsed.errors or parsed.search is None:
            return _manage_page(
                request, session, sub, token, status=400, add_form=parsed.raw,
                add_errors=parsed.errors,
            )  # fmt: skip
        try:
            # The manage link reached the mailbox owner: their new search needs no confirming.
            subs.subscribe(session, sub.email, parsed.search, consent_source="web manage")
        except subs.SubscriptionError as exc:
            session.rollback()
            return _manage_page(
                request, session, sub, token, status=400, add_form=parsed.raw,
                add_errors={"form": str(exc)},
            )  # fmt: skip
    return _back(token, "added")


@router.get("/manage/{token}/searches/{search_id}", include_in_schema=False)
def manage_edit(request: Request, token: str, search_id: int) -> Response:
    web = state(request)
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "manage", token, "manage")
        saved = _own_search(session, sub, search_id)
        return page(
            request, "edit.html", token=token, saved=saved, form=form_of(saved), errors={},
            **form_choices(),
        )  # fmt: skip


@router.post("/manage/{token}/searches/{search_id}", include_in_schema=False)
def manage_edit_post(
    request: Request, token: str, search_id: int, form: FormData = Depends(form_data)
) -> Response:
    web = state(request)
    require_csrf(request, form)
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "manage", token, "manage")
        saved = _own_search(session, sub, search_id)
        parsed, _ = read_search_form(form, with_email=False)
        errors = dict(parsed.errors)
        if not errors and parsed.search is not None:
            # Keep what the form does not show (skills, employment types set from the CLI).
            search = parsed.search
            search.skills = saved.skills
            search.employment_types = saved.employment_types
            search.exclude_companies = saved.exclude_companies
            search.name = search.name or saved.name
            try:
                subs.update_search(session, saved, search)
            except subs.SubscriptionError as exc:
                errors["form"] = str(exc)
        if errors:
            session.rollback()
            return page(
                request, "edit.html", status=400, token=token, saved=saved, form=parsed.raw,
                errors=errors, **form_choices(),
            )  # fmt: skip
    return _back(token, "saved")


@router.post("/manage/{token}/searches/{search_id}/{action}", include_in_schema=False)
def manage_action(
    request: Request,
    token: str,
    search_id: int,
    action: str,
    form: FormData = Depends(form_data),
) -> Response:
    web = state(request)
    require_csrf(request, form)
    if action not in ("pause", "resume", "delete", "schedule"):
        raise PageError(404, "Not found", "There is no such action.")
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "manage", token, "manage")
        saved = _own_search(session, sub, search_id)
        if action in ("pause", "resume"):
            subs.set_paused(session, saved, action == "pause")
            # Resuming on the manage page is the owner's consent for a search awaiting it.
            session.execute(
                delete(PendingSearch).where(PendingSearch.saved_search_id == saved.id)  # type: ignore[arg-type]
            )
            return _back(token, "paused" if action == "pause" else "resumed")
        if action == "delete":
            # The manage page's Delete button only asks; the confirmation page's button deletes.
            if form.get("confirm") != "yes":
                return page(
                    request, "delete.html", token=token, saved=saved, summary=subs.describe(saved)
                )
            session.delete(saved)
            return _back(token, "deleted")
        errors: dict[str, str] = {}
        schedule = schedule_fields(form, errors)
        if not errors:
            try:
                subs.update_search(session, saved, input_of(saved, **schedule))
            except subs.SubscriptionError as exc:
                errors["form"] = str(exc)
        if errors:
            session.rollback()
            return _manage_page(
                request,
                session,
                sub,
                token,
                status=400,
                schedule_errors={search_id: errors},
                # The refused values stay in the form: the message names what was typed.
                schedule_forms={search_id: {k: str(v) for k, v in schedule.items()}},
            )
    return _back(token, "schedule")
