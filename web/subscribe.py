"""Subscribe (double opt-in), confirm, and the RFC 8058 one-click unsubscribe (manage: web.manage).

Decisions a reviewer should know:
- The subscribe form answers the same page ("check your inbox") whether the address is new,
  pending, active or had left, and each case sends one confirmation email, so the form cannot be
  used to learn who subscribes.
- A search added through the form to an already-active address is stored *paused* and listed in
  `web_pending_searches` until that confirmation link is used: otherwise anybody could add
  searches, and so digests, to somebody else's mailbox. Searches added on the manage page (whose
  link only the mailbox owner has) are active at once.
- Confirm links open a page with a button; the POST confirms. Mail scanners fetch links in
  messages, and a GET that confirmed would let them complete the opt-in for the victim.
- Unsubscribe: GET shows a button and never unsubscribes (scanners again); POST unsubscribes,
  needs no cookie, CSRF token or JavaScript (RFC 8058 one-click), and its token never expires.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import delete, select
from sqlmodel import Session, col
from starlette.datastructures import FormData
from starlette.responses import Response

from alerts import subscriptions as subs
from alerts.mailers import MailerError
from alerts.models import SavedSearch, Subscriber
from alerts.tokens import BadToken, make_token, read_token
from db import session_scope
from search.filters import SENIORITIES, WORKPLACES
from web import fact_fields, ratelimit
from web.forms import (
    COMMON_TIMEZONES,
    INDUSTRIES,
    prefill,
    read_search_form,
)
from web.models import PendingSearch
from web.pages import (
    PageError,
    WebState,
    client_ip,
    form_data,
    page,
    require_csrf,
    state,
)

log = logging.getLogger(__name__)
router = APIRouter()

STOPPED = ("unsubscribed", "bounced", "complained")
# Messages shown after a manage action: fixed text chosen by key, never echoed from the URL.
NOTICES = {
    "added": "Search added.",
    "saved": "Search saved.",
    "paused": "Search paused: no digests until you resume it.",
    "resumed": "Search resumed.",
    "deleted": "Search deleted.",
    "schedule": "Schedule changed.",
    "undone": "Feedback undone.",
}


def form_choices() -> dict[str, Any]:
    return {
        "workplaces": WORKPLACES,
        "seniorities": SENIORITIES,
        "industries": INDUSTRIES,
        "timezones": COMMON_TIMEZONES,
        "weekdays": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        **fact_fields.choices(),
    }


def bad_link(reason: str, what: str) -> PageError:
    if reason == "expired":
        return PageError(
            400,
            "This link has expired",
            f"This {what} link is too old. Subscribe again on the home page to get a new one.",
        )
    return PageError(
        400,
        "This link is not valid",
        f"This {what} link is damaged or incomplete. Copy the whole link from the email, "
        "or subscribe again on the home page.",
    )


def subscriber_from(
    web: WebState, session: Session, purpose: Any, token: str, what: str
) -> Subscriber:
    max_age = web.settings.confirm_max_age_s if purpose == "confirm" else None
    try:
        value = read_token(web.secret, purpose, token, max_age=max_age)
    except BadToken as exc:
        raise bad_link(exc.reason, what) from None
    sub = session.get(Subscriber, value) if isinstance(value, int) else None
    if sub is None:
        raise bad_link("invalid", what)
    return sub


# --- subscribe --------------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    # "Get alerts" on /jobs links here with the filters on screen; the form starts from them.
    form = prefill(request.query_params)
    return page(request, "index.html", form=form, errors={}, **form_choices())


@router.post("/subscribe", include_in_schema=False)
def subscribe_post(request: Request, form: FormData = Depends(form_data)) -> Response:
    web = state(request)
    require_csrf(request, form)
    parsed, email = read_search_form(form, with_email=True)

    def again(status: int, errors: dict[str, str]) -> Response:
        return page(
            request, "index.html", status=status, form=parsed.raw, errors=errors, **form_choices()
        )

    # Count the attempt before judging it, in its own transaction, so refusals count too.
    with session_scope(web.engine, write=True) as session:
        ip_over = ratelimit.over(
            session, f"subscribe:ip:{client_ip(request)}", ratelimit.SUBSCRIBE_PER_IP
        )
        addr_over = email is not None and ratelimit.over(
            session, ratelimit.address_key("subscribe", email), ratelimit.SUBSCRIBE_PER_ADDRESS
        )
    if ip_over or addr_over:
        return again(
            429,
            {"form": "Too many subscription requests in the last hour. Please try again later."},
        )
    if parsed.errors or parsed.search is None or email is None:
        return again(400, parsed.errors)
    try:
        with session_scope(web.engine, write=True) as session:
            sub, saved = _add_search(session, email, parsed.search)
    except subs.SubscriptionError as exc:
        return again(400, {"form": str(exc)})
    try:
        from alerts.notify import send_confirmation

        send_confirmation(web.settings, sub, saved)
    except MailerError as exc:
        log.warning("confirmation email not sent: %s", exc)
        raise PageError(
            503,
            "We could not send the email",
            "Your request is saved, but the confirmation email could not be sent just now. "
            "Please try again in a few minutes.",
        ) from None
    return RedirectResponse("/subscribed", status_code=303)


def _add_search(
    session: Session, email: str, search: subs.SearchInput
) -> tuple[Subscriber, SavedSearch]:
    """Add the search; hold it for confirmation when the address is already active."""
    sub, saved, needs_confirmation = subs.subscribe(
        session, email, search, consent_source="web form"
    )
    assert sub.id is not None
    assert saved.id is not None
    # The same form sent twice (a double click, a retry) should not make two identical searches.
    twin = next(
        (
            other
            for other in subs.searches_of(session, sub.id)
            if other.id != saved.id and subs.describe(other) == subs.describe(saved)
        ),
        None,
    )
    if twin is not None:
        session.delete(saved)
        session.flush()
        saved = twin
    elif not needs_confirmation:
        subs.set_paused(session, saved, True)
        session.add(PendingSearch(saved_search_id=saved.id, subscriber_id=sub.id))  # type: ignore[arg-type]  # stored rows: ids set
        session.flush()
    return sub, saved


@router.get("/subscribed", include_in_schema=False)
def subscribed(request: Request) -> Response:
    return page(request, "subscribed.html")


# --- confirm ----------------------------------------------------------------------------------


@router.get("/confirm/{token}", include_in_schema=False)
def confirm_get(request: Request, token: str) -> Response:
    web = state(request)
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "confirm", token, "confirmation")
        pending = pending_searches(session, sub)
    return page(request, "confirm.html", token=token, subscriber=sub, pending=pending, done=False)


@router.post("/confirm/{token}", include_in_schema=False)
def confirm_post(request: Request, token: str) -> Response:
    # No CSRF token: the signed, expiring link is the authority, and it must work for a
    # browser that refuses cookies. It can only do what the mailbox owner asked for.
    web = state(request)
    with session_scope(web.engine, write=True) as session:
        sub = subscriber_from(web, session, "confirm", token, "confirmation")
        if sub.status in STOPPED:
            raise PageError(
                400,
                "This address is unsubscribed",
                "You left after this link was sent. Subscribe again on the home page.",
            )
        subs.confirm(session, sub)
        for saved in pending_searches(session, sub):
            subs.set_paused(session, saved, False)
        session.execute(delete(PendingSearch).where(PendingSearch.subscriber_id == sub.id))  # type: ignore[arg-type]
        searches = subs.searches_of(session, sub.id)  # type: ignore[arg-type]
        manage = make_token(web.secret, "manage", sub.id)  # type: ignore[arg-type]
        lines = [subs.describe(s) for s in searches if s.active]
    return page(
        request, "confirm.html", token=token, subscriber=sub, pending=[], done=True,
        manage_path=f"/manage/{manage}", active_searches=lines,
    )  # fmt: skip


def pending_searches(session: Session, sub: Subscriber) -> list[SavedSearch]:
    return list(
        session.execute(
            select(SavedSearch)
            .join(PendingSearch, PendingSearch.saved_search_id == SavedSearch.id)  # type: ignore[arg-type]
            .where(col(PendingSearch.subscriber_id) == sub.id)
            .order_by(col(SavedSearch.id))
        ).scalars()
    )


# --- unsubscribe ------------------------------------------------------------------------------


def _unsubscribe_id(web: WebState, token: str) -> int | str:
    try:
        return read_token(web.secret, "unsubscribe", token)
    except BadToken as exc:
        raise bad_link(exc.reason, "unsubscribe") from None


@router.get("/unsubscribe/{token}", include_in_schema=False)
def unsubscribe_get(request: Request, token: str) -> Response:
    # Never unsubscribes: link scanners and previews fetch with GET.
    web = state(request)
    _unsubscribe_id(web, token)
    return page(request, "unsubscribe.html", token=token, done=False)


@router.post("/unsubscribe/{token}", include_in_schema=False)
def unsubscribe_post(request: Request, token: str) -> Response:
    # RFC 8058 one-click: the mail provider POSTs "List-Unsubscribe=One-Click" (form-encoded or
    # multipart) with no cookies; the signed token alone authorises it, so no CSRF check and no
    # need to read the body. Idempotent, and the same answer for a subscriber deleted since.
    web = state(request)
    value = _unsubscribe_id(web, token)
    with session_scope(web.engine, write=True) as session:
        sub = session.get(Subscriber, value) if isinstance(value, int) else None
        if sub is not None and sub.status not in STOPPED:
            subs.unsubscribe(session, sub, reason="unsubscribe link")
    return page(request, "unsubscribe.html", token=token, done=True)
