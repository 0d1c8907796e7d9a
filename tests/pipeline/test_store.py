"""The store API on SQLite and PostgreSQL: upserts, dedup across sources, closing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import col

import db
from pipeline.models import Posting, PostingSource
from pipeline.store import close_expired, store_batch
from tests.factories import T0, posting


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_recrawl_updates_the_posting_and_moves_last_seen(engine):
    with db.session_scope(engine) as s:
        first = store_batch(s, [posting()], now=T0)
    later = T0 + timedelta(hours=12)
    with db.session_scope(engine) as s:
        again = store_batch(s, [posting(title="Production Manager II")], now=later)
    assert (first.new, again.new, again.updated) == (1, 0, 1)
    with db.session_scope(engine) as s:
        (p,) = s.execute(select(Posting)).scalars().all()
        assert p.title == "Production Manager II"
        assert p.first_seen_at == T0 and p.last_seen_at == later
        assert _count(s, PostingSource) == 1


def test_same_job_on_two_sources_is_one_posting_with_two_sightings(engine):
    other = posting(
        source="himalayas",
        external_id="https://himalayas.app/companies/acme/jobs/pm",
        url="https://himalayas.app/companies/acme/jobs/pm",
        company="ACME Foods, Inc.",
        title="Production Manager (m/w/d)",
        attribution="Himalayas",
    )
    with db.session_scope(engine) as s:
        store_batch(s, [posting()], now=T0)
    with db.session_scope(engine) as s:
        res = store_batch(s, [other], now=T0 + timedelta(hours=1))
    assert res.merged == 1 and res.new == 0
    with db.session_scope(engine) as s:
        assert _count(s, Posting) == 1
        assert sorted(r.source for r in s.execute(select(PostingSource)).scalars()) == [
            "acme-greenhouse",
            "himalayas",
        ]


def test_two_sources_in_one_batch_merge_too(engine):
    other = posting(
        source="acme-lever", external_id="lever:acme:9", url="https://jobs.lever.co/acme/9"
    )
    with db.session_scope(engine) as s:
        res = store_batch(s, [posting(), other], now=T0)
    assert (res.new, res.merged) == (1, 1)


def test_same_title_same_company_in_two_cities_stays_two_postings(engine):
    toledo = posting(
        external_id="greenhouse:acme:2",
        url="https://boards.greenhouse.io/acme/jobs/2",
        location_text="Toledo, OH",
        city="Toledo",
        region="US-OH",
        latitude=41.66,
        longitude=-83.55,
    )
    with db.session_scope(engine) as s:
        res = store_batch(s, [posting(), toledo], now=T0)
    assert res.new == 2


def test_a_different_description_at_the_same_place_is_a_different_job(engine):
    night = posting(
        source="acme-lever",
        external_id="lever:acme:3",
        url="https://jobs.lever.co/acme/3",
        description_text="Night shift role running the extrusion department and maintenance planning with a team of forty.",
    )
    with db.session_scope(engine) as s:
        res = store_batch(s, [posting(), night], now=T0)
    assert res.new == 2


def test_repost_under_a_new_id_with_the_same_requisition_is_the_same_posting(engine):
    with db.session_scope(engine) as s:
        store_batch(
            s, [posting(source="hitachi", external_id="workday:h:s:A", req_id="R0089483")], now=T0
        )
    with db.session_scope(engine) as s:
        pid = s.execute(select(col(Posting.id))).scalar_one()
        s.execute(Posting.__table__.update().values(status="closed", closed_at=T0))  # type: ignore[attr-defined]  # SQLModel sets it on table classes
    repost = posting(
        source="hitachi",
        external_id="workday:h:s:B",
        req_id="R0089483",
        title="Production Manager - Transformers",
        description_text="Completely rewritten text about the same requisition.",
    )
    with db.session_scope(engine) as s:
        res = store_batch(s, [repost], now=T0 + timedelta(days=3))
    assert (res.merged, res.reopened, res.new) == (1, 1, 0)
    with db.session_scope(engine) as s:
        p = s.get(Posting, pid)
        assert p.status == "open"


def test_tracking_parameters_do_not_split_a_job(engine):
    a = posting(
        source="feed-a",
        external_id="a:1",
        url="https://careers.acme.com/jobs/77?utm_source=x&gh_src=y",
    )
    b = posting(
        source="feed-b",
        external_id="b:1",
        url="https://careers.acme.com/jobs/77?utm_medium=email",
        title="Plant Production Lead",
        description_text="different words entirely",
    )
    with db.session_scope(engine) as s:
        res = store_batch(s, [a, b], now=T0)
    assert (res.new, res.merged) == (1, 1)


def test_database_refuses_a_second_sighting_with_the_same_source_and_id(engine):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with db.session_scope(engine) as s:
        store_batch(s, [posting()], now=T0)
    with db.session_scope(engine) as s:
        pid = s.execute(select(col(Posting.id))).scalar_one()
        s.add(
            PostingSource(posting_id=pid, source="acme-greenhouse", external_id="greenhouse:acme:1")
        )
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_valid_through_in_the_past_closes_a_posting(engine):
    with db.session_scope(engine) as s:
        store_batch(
            s,
            [
                posting(valid_through=T0 + timedelta(days=1)),
                posting(external_id="x:2", url=None, city="Flint", latitude=None),
            ],
            now=T0,
        )
    with db.session_scope(engine) as s:
        assert close_expired(s, now=T0 + timedelta(days=2)) == 1
    with db.session_scope(engine) as s:
        statuses = sorted(p.status for p in s.execute(select(Posting)).scalars())
    assert statuses == ["closed", "open"]


def test_a_remote_job_listed_as_remote_us_and_as_united_states_is_one_posting(engine):
    """An ATS says "Remote - US" (workplace remote); a remote-jobs board says "United States"."""
    ats = posting(
        external_id="greenhouse:acme:77",
        url="https://boards.greenhouse.io/acme/jobs/77",
        location_text="Remote - US",
        city=None,
        region=None,
        country="US",
        latitude=None,
        longitude=None,
        workplace="remote",
    )
    board = posting(
        source="himalayas",
        external_id="https://himalayas.app/companies/acme/jobs/77",
        url="https://himalayas.app/companies/acme/jobs/77",
        location_text="United States",
        city=None,
        region=None,
        country="US",
        latitude=None,
        longitude=None,
        workplace=None,
        attribution="Himalayas",
    )
    with db.session_scope(engine) as s:
        store_batch(s, [ats], now=T0)
    with db.session_scope(engine) as s:
        res = store_batch(s, [board], now=T0 + timedelta(hours=1))
    assert (res.new, res.merged) == (0, 1)
    with db.session_scope(engine) as s:
        assert _count(s, Posting) == 1
        assert _count(s, PostingSource) == 2


def test_a_remote_job_and_an_onsite_job_in_a_city_stay_apart(engine):
    remote = posting(
        external_id="greenhouse:acme:78",
        url="https://boards.greenhouse.io/acme/jobs/78",
        location_text="Remote - US",
        city=None,
        region=None,
        latitude=None,
        longitude=None,
        workplace="remote",
    )
    with db.session_scope(engine) as s:
        res = store_batch(s, [posting(), remote], now=T0)
    assert res.new == 2
