"""Subscribe, confirm, manage and unsubscribe over HTTP, against SQLite and PostgreSQL."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import col

import db
from alerts.models import SavedSearch, Subscriber
from alerts.subscriptions import SearchInput
from alerts.subscriptions import subscribe as service_subscribe
from alerts.tokens import make_token
from tests.web.conftest import (
    SECRET,
    csrf_of,
    form_token,
    link_in,
    messages,
    subscribe,
    subscribe_form,
)
from web.models import PendingSearch


def subscriber(engine, email: str = "pat@example.com") -> Subscriber | None:
    with db.session_scope(engine) as s:
        return s.execute(
            select(Subscriber).where(col(Subscriber.email) == email)
        ).scalar_one_or_none()


def searches(engine, email: str = "pat@example.com") -> list[SavedSearch]:
    with db.session_scope(engine) as s:
        return list(
            s.execute(
                select(SavedSearch)
                .join(Subscriber, Subscriber.id == SavedSearch.subscriber_id)  # type: ignore[arg-type]
                .where(col(Subscriber.email) == email)
                .order_by(col(SavedSearch.id))
            ).scalars()
        )


def path(url: str) -> str:
    return urlsplit(url).path


def confirmed_subscriber(client: TestClient, outbox, engine) -> str:
    """Subscribe and confirm through the pages; return the manage path."""
    assert subscribe(client).status_code == 303
    confirm = path(link_in(messages(outbox)[-1], "/confirm/"))
    done = client.post(confirm)
    assert done.status_code == 200
    manage = done.text.split('href="/manage/', 1)[1].split('"', 1)[0]
    return f"/manage/{manage}"


def test_home_page_has_the_form_and_a_server_default_timezone(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<meta name="viewport"' in page.text
    for field in ("email", "query", "location", "within", "workplace", "min_salary",
                  "seniority", "industry", "cadence", "hour", "timezone"):  # fmt: skip
        assert f'name="{field}"' in page.text
    assert 'name="timezone" value="UTC"' in page.text
    assert "data-browser-tz" in page.text
    assert "andon_csrf" in page.headers["set-cookie"]
    assert "HttpOnly" in page.headers["set-cookie"]
    assert "SameSite=lax" in page.headers["set-cookie"]
    assert page.headers["referrer-policy"] == "no-referrer"


def test_subscribe_sends_one_confirmation_and_nothing_else_until_confirmed(
    client: TestClient, outbox, engine
) -> None:
    response = subscribe(client, location="Dearborn, MI", within="50", workplace=["onsite"])
    assert response.status_code == 303
    assert response.headers["location"] == "/subscribed"
    assert "Check your inbox" in client.get("/subscribed").text
    sent = messages(outbox)
    assert len(sent) == 1
    assert sent[0]["To"] == "pat@example.com"
    assert sent[0]["Subject"] == "Confirm your andon job alert"
    sub = subscriber(engine)
    assert sub is not None
    assert sub.status == "pending"
    assert sub.consent_source == "web form"
    (saved,) = searches(engine)
    assert saved.location == "Dearborn, MI"
    assert saved.within_miles == 50
    assert saved.workplaces == ["onsite"]
    assert saved.timezone == "America/Detroit"

    confirm = path(link_in(sent[0], "/confirm/"))
    page = client.get(confirm)
    # GET only shows the button: mail scanners fetch links, they must not confirm.
    assert page.status_code == 200
    assert "Confirm my alert" in page.text
    assert subscriber(engine).status == "pending"
    # The button works without cookies (a fresh client), like any link opened elsewhere.
    with TestClient(client.app) as other:
        done = other.post(confirm)
    assert done.status_code == 200
    assert "Your alerts are on" in done.text
    assert subscriber(engine).status == "active"
    assert 'href="/manage/' in done.text
    assert len(messages(outbox)) == 1


def test_resubscribing_does_not_reveal_whether_an_address_exists(
    client: TestClient, outbox, engine
) -> None:
    new = subscribe(client, email="new@example.com")
    with db.session_scope(engine) as s:
        service_subscribe(s, "old@example.com", SearchInput(query="plant"), confirmed=True)
    old = subscribe(client, email="old@example.com")
    assert (new.status_code, new.headers["location"], new.text) == (
        old.status_code, old.headers["location"], old.text,
    )  # fmt: skip
    # Both got exactly one confirmation email, with the same subject.
    to = [m["To"] for m in messages(outbox)]
    assert to == ["new@example.com", "old@example.com"]


def test_a_search_added_to_an_active_address_waits_for_its_owner(
    client: TestClient, outbox, engine
) -> None:
    with db.session_scope(engine) as s:
        service_subscribe(s, "pat@example.com", SearchInput(query="plant"), confirmed=True)
    assert subscribe(client, query="director").status_code == 303
    first, added = searches(engine)
    assert first.active
    assert not added.active
    assert subscriber(engine).status == "active"
    confirm = path(link_in(messages(outbox)[-1], "/confirm/"))
    assert client.post(confirm).status_code == 200
    assert all(s.active for s in searches(engine))
    with db.session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(PendingSearch)).scalar_one() == 0


def test_sending_the_same_form_twice_makes_one_search(client: TestClient, outbox, engine) -> None:
    assert subscribe(client).status_code == 303
    assert subscribe(client).status_code == 303
    assert len(searches(engine)) == 1
    assert len(messages(outbox)) == 2  # each request is answered the same way


def test_subscriber_who_left_must_confirm_again(client: TestClient, outbox, engine) -> None:
    manage = confirmed_subscriber(client, outbox, engine)
    unsubscribe_path = client.get(manage).text.split('href="/unsubscribe/', 1)[1].split('"', 1)[0]
    client.post(f"/unsubscribe/{unsubscribe_path}")
    assert subscriber(engine).status == "unsubscribed"
    assert subscribe(client, query="director").status_code == 303
    assert subscriber(engine).status == "pending"


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, engine) -> None:
    client.get("/")  # the cookie is set, but the form field is missing
    response = client.post("/subscribe", data=subscribe_form())
    assert response.status_code == 403
    assert "form has expired" in response.text
    # A token signed for another browser's cookie does not pass either.
    with TestClient(client.app) as other:
        foreign = form_token(other)
    response = client.post("/subscribe", data={"csrf_token": foreign, **subscribe_form()})
    assert response.status_code == 403
    # Nor a real token without its cookie.
    token = form_token(client)
    client.cookies.clear()
    assert (
        client.post("/subscribe", data={"csrf_token": token, **subscribe_form()}).status_code == 403
    )
    assert subscriber(engine) is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "not a valid email address"),
        ({"email": ""}, "email", "enter the address"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown timezone"),
        ({"query": '"unclosed'}, "query", "bad query at column 1: unclosed quote"),
        ({"query": "plant OR"}, "query", "OR needs something after it"),
        ({"within": "ten"}, "within", "must be a number"),
        ({"within": "25"}, "within", "needs a location"),
        ({"hour": "25"}, "hour", "0 to 23"),
        ({"workplace": ["moon"]}, "workplace", "unknown workplace"),
    ],
)
def test_bad_fields_get_a_message_next_to_them(
    client: TestClient, engine, changes, field, message
) -> None:
    response = subscribe(client, **changes)
    assert response.status_code == 400
    snippet = response.text.split(f'id="{field}-error">', 1)
    assert len(snippet) == 2, response.text
    assert message in snippet[1].split("</div>", 1)[0].replace("&#39;", "'").replace("&#34;", '"')
    assert subscriber(engine) is None


def test_form_values_come_back_escaped(client: TestClient) -> None:
    response = subscribe(client, email="x", name='"><script>alert(1)</script>')
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)" in response.text


def test_subscribe_rate_limit_per_address(client: TestClient, outbox) -> None:
    for _ in range(5):
        assert subscribe(client, email="Busy@Example.com").status_code == 303
    refused = subscribe(client, email="busy@example.com")
    assert refused.status_code == 429
    assert "Too many subscription requests" in refused.text
    assert len(messages(outbox)) == 5
    # Another address from the same place is still fine.
    assert subscribe(client, email="calm@example.com").status_code == 303


def test_subscribe_rate_limit_per_ip_is_kept_in_the_database(
    client: TestClient, app, settings, engine
) -> None:
    for n in range(20):
        assert subscribe(client, email=f"p{n}@example.com").status_code == 303
    assert subscribe(client, email="p20@example.com").status_code == 429
    # A restarted (or second) web worker over the same database sees the same count.
    from web.app import create_app

    with TestClient(create_app(settings, engine)) as second:
        assert subscribe(second, email="p21@example.com").status_code == 429


def test_confirm_links_that_are_tampered_or_expired_get_a_400_page(
    client: TestClient, outbox, engine, monkeypatch
) -> None:
    assert subscribe(client).status_code == 303
    confirm = path(link_in(messages(outbox)[-1], "/confirm/"))
    tampered = confirm[:-3] + ("AAA" if not confirm.endswith("AAA") else "BBB")
    for response in (client.get(tampered), client.post(tampered), client.get("/confirm/x")):
        assert response.status_code == 400
        assert "This link is not valid" in response.text
        assert "Traceback" not in response.text
    sub_id = subscriber(engine).id
    real = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real() - 8 * 24 * 3600)
    old = make_token(SECRET, "confirm", sub_id)  # type: ignore[arg-type]  # a stored row: its id is set
    monkeypatch.undo()
    for response in (client.get(f"/confirm/{old}"), client.post(f"/confirm/{old}")):
        assert response.status_code == 400
        assert "This link has expired" in response.text
    assert subscriber(engine).status == "pending"
    # A token for another purpose is not a confirm token.
    unsubscribe_token = make_token(SECRET, "unsubscribe", sub_id)  # type: ignore[arg-type]  # a stored row: its id is set
    assert client.post(f"/confirm/{unsubscribe_token}").status_code == 400


def test_manage_edit_pause_resume_add_schedule_delete(client: TestClient, outbox, engine) -> None:
    manage = confirmed_subscriber(client, outbox, engine)
    page = client.get(manage)
    assert page.status_code == 200
    assert "production manager" in page.text
    token = csrf_of(page.text)
    (saved,) = searches(engine)

    edit = client.get(f"{manage}/searches/{saved.id}")
    assert edit.status_code == 200
    assert 'value="America/Detroit"' in edit.text
    response = client.post(
        f"{manage}/searches/{saved.id}",
        data={"csrf_token": token, **subscribe_form(query="plant manager", min_salary="120000",
              seniority=["director", "senior"], name="Plant jobs")},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    (saved,) = searches(engine)
    assert saved.query == "plant manager"
    assert saved.min_salary_usd == 120000
    assert saved.seniorities == ["director", "senior"]
    assert saved.name == "Plant jobs"
    assert "Search saved." in client.get(response.headers["location"]).text

    bad = client.post(
        f"{manage}/searches/{saved.id}",
        data={"csrf_token": token, **subscribe_form(timezone="Nowhere/Else")},
    )
    assert bad.status_code == 400
    assert "unknown timezone" in bad.text
    assert searches(engine)[0].timezone == "America/Detroit"

    assert (
        client.post(f"{manage}/searches/{saved.id}/pause", data={"csrf_token": token}).status_code
        == 200
    )
    assert not searches(engine)[0].active
    assert (
        client.post(f"{manage}/searches/{saved.id}/resume", data={"csrf_token": token}).status_code
        == 200
    )
    assert searches(engine)[0].active

    response = client.post(
        f"{manage}/searches/{saved.id}/schedule",
        data={"csrf_token": token, "cadence": "weekly", "weekday": "fri", "hour": "6",
              "timezone": "Europe/Berlin"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Schedule changed." in response.text
    (saved,) = searches(engine)
    assert (saved.cadence, saved.weekday, saved.send_hour, saved.timezone) == (
        "weekly", 4, 6, "Europe/Berlin",
    )  # fmt: skip
    assert saved.query == "plant manager"  # the rest of the search stays

    response = client.post(
        f"{manage}/searches",
        data={"csrf_token": token, **subscribe_form(query="director of operations")},
    )
    assert response.status_code == 200
    assert "Search added." in response.text
    first, added = searches(engine)
    assert added.active  # the manage link proves the mailbox: no confirmation needed
    bad = client.post(f"{manage}/searches", data={"csrf_token": token, **subscribe_form(query="(")})
    assert bad.status_code == 400
    assert 'id="query-error"' in bad.text

    # Delete asks first: the first POST shows a confirmation page and deletes nothing.
    asked = client.post(f"{manage}/searches/{added.id}/delete", data={"csrf_token": token})
    assert asked.status_code == 200
    assert "Yes, delete this search" in asked.text
    assert len(searches(engine)) == 2
    confirm = {"csrf_token": csrf_of(asked.text), "confirm": "yes"}
    done = client.post(f"{manage}/searches/{added.id}/delete", data=confirm)
    assert done.status_code == 200 and "Search deleted." in done.text
    assert [s.id for s in searches(engine)] == [first.id]
    assert len(messages(outbox)) == 1


def test_manage_needs_csrf_and_only_touches_own_searches(
    client: TestClient, outbox, engine
) -> None:
    manage = confirmed_subscriber(client, outbox, engine)
    (saved,) = searches(engine)
    assert client.post(f"{manage}/searches/{saved.id}/pause").status_code == 403
    assert searches(engine)[0].active
    with db.session_scope(engine) as s:
        _, theirs, _ = service_subscribe(
            s, "other@example.com", SearchInput(query="x"), confirmed=True
        )
        theirs_id = theirs.id
    token = form_token(client, manage)
    response = client.post(f"{manage}/searches/{theirs_id}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    assert len(searches(engine, "other@example.com")) == 1
    assert client.get("/manage/not-a-token").status_code == 400


def test_unsubscribe_get_only_asks_and_one_click_post_needs_no_cookie(
    client: TestClient, engine, monkeypatch
) -> None:
    with db.session_scope(engine) as s:
        sub, _, _ = service_subscribe(s, "pat@example.com", SearchInput(), confirmed=True)
        sub_id = sub.id
    token = make_token(SECRET, "unsubscribe", sub_id)  # type: ignore[arg-type]  # a stored row: its id is set
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert "csrf_token" not in page.text.split("<main>", 1)[1]
    assert subscriber(engine).status == "active"

    # A mail provider's RFC 8058 POST: no cookies, no CSRF token, form-encoded.
    with TestClient(client.app, cookies=None) as provider:
        response = provider.post(
            f"/unsubscribe/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    sub = subscriber(engine)  # type: ignore[assignment]  # a stored row
    assert sub is not None
    assert sub.status == "unsubscribed"
    assert sub.unsubscribed_at is not None
    # Again, multipart this time: idempotent.
    with TestClient(client.app) as provider:
        again = provider.post(
            f"/unsubscribe/{token}", files={"List-Unsubscribe": (None, "One-Click")}
        )
    assert again.status_code == 200
    assert subscriber(engine).status == "unsubscribed"


def test_unsubscribe_tokens_never_expire_but_tampered_ones_fail(
    client: TestClient, engine, monkeypatch
) -> None:
    with db.session_scope(engine) as s:
        sub, _, _ = service_subscribe(s, "pat@example.com", SearchInput(), confirmed=True)
        sub_id = sub.id
    real = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real() - 3 * 365 * 24 * 3600)
    old = make_token(SECRET, "unsubscribe", sub_id)  # type: ignore[arg-type]  # a stored row: its id is set
    monkeypatch.undo()
    bad = client.post(f"/unsubscribe/{old[:-2]}xx")
    assert bad.status_code == 400
    assert "This link is not valid" in bad.text
    assert subscriber(engine).status == "active"
    assert client.post(f"/unsubscribe/{old}").status_code == 200
    assert subscriber(engine).status == "unsubscribed"
    # A manage token cannot unsubscribe.
    assert client.post(f"/unsubscribe/{make_token(SECRET, 'manage', sub_id)}").status_code == 400  # type: ignore[arg-type]  # a stored row: its id is set
