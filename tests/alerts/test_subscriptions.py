"""Subscribing, re-subscribing and leaving, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

import db
from alerts.subscriptions import SearchInput, SubscriptionError, subscribe, unsubscribe


def test_an_address_in_another_case_is_the_same_subscriber_and_stays_confirmed(engine):
    with db.session_scope(engine) as s:
        first, _, pending = subscribe(
            s, "Pat.Lee@Example.com", SearchInput(query="plant manager"), confirmed=True
        )
        assert not pending
    with db.session_scope(engine) as s:
        again, search, pending = subscribe(
            s, "pat.lee@example.com", SearchInput(query="production supervisor")
        )
    assert again.id == first.id
    assert again.status == "active"
    assert not pending
    assert search.name == "production supervisor"


def test_someone_who_left_comes_back_pending(engine):
    with db.session_scope(engine) as s:
        sub, _, _ = subscribe(s, "kim@example.com", SearchInput(), confirmed=True)
        unsubscribe(s, sub)
    with db.session_scope(engine) as s:
        back, _, pending = subscribe(s, "kim@example.com", SearchInput(query="plant"))
    assert back.status == "pending"
    assert pending


@pytest.mark.parametrize(
    ("email", "search", "needle"),
    [
        ("not-an-address", SearchInput(), "not a valid email"),
        ("a@example.com", SearchInput(timezone="Mars/Olympus"), "unknown timezone"),
        ("a@example.com", SearchInput(query='"plant'), "bad query"),
        ("a@example.com", SearchInput(cadence="hourly"), "unknown cadence"),
        ("a@example.com", SearchInput(hour=25), "hour 25"),
        ("a@example.com", SearchInput(workplaces=["moon"]), "unknown workplace"),
    ],
)
def test_mistakes_are_refused_with_one_line(engine, email, search, needle):
    with db.session_scope(engine) as s, pytest.raises(SubscriptionError, match=needle):
        subscribe(s, email, search)
