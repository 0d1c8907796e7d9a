"""A minimum salary keeps jobs that state no salary; `salary_required` leaves them out.

The same rule in the reference predicate, the SQL search, the matcher and `andon listings`.
"""

from __future__ import annotations

import json

import pytest

import db
from pipeline.store import store_batch
from search import sql as search
from search.filters import Filters, PostingDoc, build_filters
from search.matcher import SavedSearchSpec, SearchIndex
from tests.factories import posting
from tests.test_cli import andon

NO_PAY = {
    "salary_min": None, "salary_max": None, "salary_currency": None, "salary_period": None,
    "annual_min_usd": None, "annual_max_usd": None,
}  # fmt: skip


def _job(key: str, **changes: object):
    # Different employers, URLs and texts, so deduplication keeps three postings.
    return posting(
        external_id=key, url=f"https://jobs.example/{key}", apply_url=None,
        title=f"Plant Manager {key.title()}", company=f"{key.title()} Foods",
        description_text=f"Run the {key} plant.", description_html=f"<p>Run the {key} plant.</p>",
        **changes,
    )  # fmt: skip


STORED = [
    _job("high"),  # $95k-$120k
    _job("low", salary_min=50000, salary_max=60000, annual_min_usd=50000, annual_max_usd=60000),
    _job("none", **NO_PAY),
]
DOCS = {
    "high": PostingDoc(
        1, "Plant Manager High", "Acme", annual_min_usd=95000, annual_max_usd=120000
    ),
    "low": PostingDoc(2, "Plant Manager Low", "Acme", annual_min_usd=50000, annual_max_usd=60000),
    "none": PostingDoc(3, "Plant Manager None", "Acme"),
}
CASES = [
    ({"min_salary": 100000}, {"high", "none"}),
    ({"salary_required": True}, {"high", "low"}),
    ({"min_salary": 100000, "salary_required": True}, {"high"}),
    ({}, {"high", "low", "none"}),
]


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_reference_and_matcher(given: dict, expected: set[str]) -> None:
    filters = build_filters(**given)
    assert {k for k, doc in DOCS.items() if filters.accepts(doc)} == expected
    index = SearchIndex.build([SavedSearchSpec(7, None, filters, subscriber_id=1)])
    assert {k for k, doc in DOCS.items() if index.match(doc)} == expected


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_sql(engine, given: dict, expected: set[str]) -> None:
    with db.session_scope(engine) as s:
        store_batch(s, STORED)
    with db.session_scope(engine) as s:
        found = search.search_postings(s, None, build_filters(**given))
        titles = {p.title.rsplit(" ", 1)[1].lower() for p in found}
    assert titles == expected


def test_default_is_off_everywhere() -> None:
    assert build_filters() == Filters()
    assert build_filters(min_salary=1).salary_required is False


def test_listings_flag(tmp_path, db_url) -> None:
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        store_batch(s, STORED)
    eng.dispose()
    env = {"ANDON_DATABASE_URL": db_url}
    res = andon("listings", "--min-salary", "100000", "--format", "json", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert sorted(r["title"] for r in json.loads(res.stdout)) == [
        "Plant Manager High",
        "Plant Manager None",
    ]
    res = andon(
        "listings", "--min-salary", "100000", "--salary-required", "--format", "json",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert [r["title"] for r in json.loads(res.stdout)] == ["Plant Manager High"]
    res = andon(
        "subscribe", "pat@example.com", "--salary-required", "--confirmed", cwd=tmp_path, env=env
    )
    assert res.returncode == 0, res.stderr
    assert "only jobs that state a salary" in res.stdout
