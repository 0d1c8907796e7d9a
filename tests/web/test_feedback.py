"""The feedback pages over HTTP: GET only asks, POST needs CSRF, undo on the manage page, and every
bad link (tampered, expired, replayed, unsubscribed, job or search deleted) changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

import db
from alerts import feedback as fb
from alerts.models import Feedback, SavedSearch, Subscriber
from alerts.subscriptions import SearchInput, subscribe, unsubscribe
from alerts.tokens import make_token
from pipeline.models import Posting
from pipeline.store import store_batch
from tests.factories import posting
from tests.web.conftest import SECRET, csrf_of


@pytest.fixture
def seeded(engine: Engine) -> tuple[int, int, int]:
    """A subscriber with one search, and one stored job: (subscriber, search, posting) ids."""
    now = db.utcnow()
    with db.session_scope(engine) as s:
        result = store_batch(
            s, [posting(title="Quality Manager", posted_at=now - timedelta(days=1))], now=now
        )
        (pid,) = result.posting_ids.values()
        sub, saved, _ = subscribe(
            s, "pat@example.com", SearchInput(query='"production manager" OR quality'),
            confirmed=True,
        )  # fmt: skip
        return sub.id, saved.id, pid  # type: ignore[return-value]


def feedback_rows(engine: Engine) -> int:
    with db.session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(Feedback)).scalar_one()


def query_of(engine: Engine, search_id: int) -> str:
    with db.session_scope(engine) as s:
        return s.get(SavedSearch, search_id).query


def path(sub: int, search: int, pid: int, action: str) -> str:
    return f"/feedback/{fb.feedback_token(SECRET, sub, search, pid, action)}"


def confirm(client: TestClient, url: str):
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={"csrf_token": csrf_of(page.text)})


def test_get_only_asks_and_the_button_applies(client, engine, seeded) -> None:
    sub, search, pid = seeded
    url = path(sub, search, pid, "not_relevant")
    page = client.get(url)
    assert page.status_code == 200 and "Quality Manager" in page.text
    assert feedback_rows(engine) == 0  # a mail scanner's GET changes nothing
    assert client.post(url, data={}).status_code == 403  # no CSRF token
    assert feedback_rows(engine) == 0
    done = client.post(url, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "-&#34;quality&#34;" in done.text
    assert query_of(engine, search) == '("production manager" OR quality) -"quality"'


def test_undo_on_the_manage_page(client, engine, seeded) -> None:
    sub, search, pid = seeded
    assert confirm(client, path(sub, search, pid, "hide_company")).status_code == 200
    manage = f"/manage/{make_token(SECRET, 'manage', sub)}"
    page = client.get(manage)
    assert "Hidden company: Acme Foods" in page.text and "not Acme Foods" in page.text
    with db.session_scope(engine) as s:
        (row_id,) = s.execute(select(col(Feedback.id))).scalars()
    undone = client.post(
        f"{manage}/feedback/{row_id}/undo", data={"csrf_token": csrf_of(page.text)}
    )
    assert undone.status_code == 200 and "Feedback undone." in undone.text
    assert "Hidden company" not in undone.text and "not Acme Foods" not in undone.text
    # another subscriber's manage link cannot undo it
    other = f"/manage/{make_token(SECRET, 'manage', sub + 1000)}"
    assert (
        client.post(
            f"{other}/feedback/{row_id}/undo", data={"csrf_token": csrf_of(page.text)}
        ).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("spoil", "status", "words"),
    [
        ("tampered", 400, "not valid"),
        ("expired", 400, "expired"),
        ("replayed", 400, "used already"),
        ("unsubscribed", 400, "unsubscribed"),
        ("job deleted", 400, "job is gone"),
        ("search deleted", 400, "search is gone"),
    ],
)
def test_bad_links_get_a_clear_page_and_change_nothing(
    client, engine, seeded, monkeypatch, spoil, status, words
) -> None:
    sub, search, pid = seeded
    url = path(sub, search, pid, "not_relevant")
    page = client.get(url)
    csrf = csrf_of(page.text)
    if spoil == "tampered":
        url = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    elif spoil == "expired":
        monkeypatch.setattr(fb, "FEEDBACK_MAX_AGE_S", -1)
    elif spoil == "replayed":
        assert client.post(url, data={"csrf_token": csrf}).status_code == 200
    elif spoil == "unsubscribed":
        with db.session_scope(engine) as s:
            unsubscribe(s, s.get(Subscriber, sub), reason="test")  # type: ignore[arg-type]
    elif spoil == "job deleted":
        with db.session_scope(engine) as s:
            s.delete(s.get(Posting, pid))
    else:
        with db.session_scope(engine) as s:
            s.delete(s.get(SavedSearch, search))
    before = feedback_rows(engine)
    query = query_of(engine, search) if spoil != "search deleted" else None
    for response in (client.get(url), client.post(url, data={"csrf_token": csrf})):
        assert response.status_code == status
        assert words in response.text
    assert feedback_rows(engine) == before
    if query is not None:
        assert query_of(engine, search) == query


def test_ops_and_status_show_what_draws_not_relevant(client, engine, db_url, seeded, tmp_path):
    from tests.test_cli import andon
    from tests.web.conftest import OPERATOR_TOKEN

    sub, search, pid = seeded
    with db.session_scope(engine) as s:
        s.get(Posting, pid).relevance_rule = "quality (?:manager|lead)"
    assert confirm(client, path(sub, search, pid, "not_relevant")).status_code == 200
    ops = client.get("/ops", params={"token": OPERATOR_TOKEN})
    assert "1 jobs marked Not relevant" in ops.text
    assert "<td><code>quality (?:manager|lead)</code></td><td>1</td>" in ops.text
    assert "<td>acme-greenhouse</td><td>1</td>" in ops.text
    res = andon("status", cwd=tmp_path, env={"ANDON_DATABASE_URL": db_url, "COLUMNS": "250"})
    assert res.returncode == 0, res.stderr
    assert "not relevant (digest feedback): 1" in res.stdout
    assert "by relevance rule: 'quality (?:manager|lead)' 1" in res.stdout
    assert "by source: acme-greenhouse 1" in res.stdout
