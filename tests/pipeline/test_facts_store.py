"""Plant facts travel from the normalize stage to the posting row, the listing JSON and filters."""

from __future__ import annotations

from dataclasses import replace

from alembic import command
from sqlalchemy import text

import db
from pipeline.facts import extract_facts, fact_columns
from pipeline.models import Posting
from pipeline.normalize import normalize_item
from pipeline.store import store_batch
from search import sql as search
from search.definitions import build_filters
from spiders.items import JobItem
from tests.factories import T0, posting

NIGHTS = (
    "Supervise the night shift (3 shift supervisors and 24 associates). "
    "Maintain SQF and HACCP programs. ISO 9001 experience is a plus. Travel up to 10%."
)


def test_normalize_reads_the_facts_of_the_description() -> None:
    item = JobItem(
        source="acme", kind="greenhouse", external_id="1", title="Production Supervisor",
        company="Acme Foods", url=None,
        description_text=NIGHTS,
    )  # fmt: skip
    clean = normalize_item(item, now=T0)
    assert clean.shifts == ["3rd"]
    assert clean.team_size == 27
    assert clean.standards == ["iso_9001", "sqf", "haccp"]
    assert clean.facts["standards"][0] == {
        "value": "iso_9001", "quote": "ISO 9001 experience is a plus", "preferred": True,
    }  # fmt: skip
    assert clean.facts["travel"] == {"value": 10, "quote": "Travel up to 10%"}


def _store(engine, *items) -> None:
    with db.session_scope(engine, write=True) as s:
        store_batch(s, list(items), now=T0)


def _nights() -> object:
    item = JobItem(
        source="acme", kind="greenhouse", external_id="n1", title="Production Supervisor",
        company="Acme Foods", url=None,
        description_text=NIGHTS,
    )  # fmt: skip
    return normalize_item(item, now=T0)


def test_stored_facts_reach_the_listing_json_and_the_filters(engine) -> None:
    day = posting(external_id="d1", description_text="Lead the day shift of 8 operators.")
    day_cols = fact_columns(extract_facts(day.description_text))
    _store(engine, _nights(), replace(day, **day_cols))
    with db.session_scope(engine) as s:

        def titles(**kw: object) -> list[int | None]:
            found = search.search_postings(s, None, build_filters(**kw))  # type: ignore[arg-type]
            return sorted(p.team_size for p in found)  # type: ignore[type-var]

        assert titles() == [8, 27]
        assert titles(shifts=["night"]) == [27]
        assert titles(shifts=["1st", "3rd"]) == [8, 27]
        assert titles(min_team=20) == [27]
        assert titles(min_team=28) == []
        assert titles(standards=["ISO 9001"]) == [27]  # a "preferred" standard counts
        assert titles(standards=["GMP"]) == []
        (row,) = search.listings(s, search.search_postings(s, None, build_filters(min_team=20)))
    assert row["facts"]["team_size"] == {
        "value": 27, "quote": "Supervise the night shift (3 shift supervisors and 24 associates)",
    }  # fmt: skip
    assert row["facts"]["shifts"] == [{"value": "3rd", "quote": row["facts"]["team_size"]["quote"]}]


def test_migration_reads_the_facts_of_postings_stored_before_it(engine) -> None:
    _store(engine, _nights())
    with engine.connect() as conn:
        command.downgrade(db._alembic_config(conn), "0008")
        conn.commit()
    with engine.connect() as conn:
        conn.execute(text("UPDATE postings SET title = 'Night Supervisor'"))
        conn.commit()
    db.migrate(engine)
    with db.session_scope(engine) as s:
        (p,) = s.query(Posting).all()
    assert p.title == "Night Supervisor"
    assert p.team_size == 27 and p.shifts == ["3rd"]
    assert p.facts["standards"][0]["preferred"] is True
    with db.session_scope(engine) as s:  # keyword search still works after the upgrade (FTS)
        assert [q.title for q in search.search_postings(s, "night", build_filters())] == [
            "Night Supervisor"
        ]


def test_a_second_source_fills_missing_facts_from_one_text(engine) -> None:
    url = "https://careers.example.com/jobs/plant-manager-lansing"  # the same job on two sources
    short = posting(external_id="a1", description_text="Plant Manager, Lansing.", url=url)
    full_text = "Lead our Lansing snack plant (extrusion and packaging; 300 people). SQF, HACCP."
    full = replace(
        posting(source="other", external_id="b1", description_text=full_text, url=url),
        **fact_columns(extract_facts(full_text)),
    )
    _store(engine, short)
    _store(engine, full)
    with db.session_scope(engine) as s:
        (p,) = s.query(Posting).all()
    assert p.team_size == 300 and p.facts["team_size"]["value"] == 300
    assert p.standards == ["sqf", "haccp"]


def test_sentences_glued_by_a_missing_space_are_quoted_apart() -> None:
    facts = extract_facts("Two bakeries in Houston.Lead production with 150 team members.")
    assert facts["team_size"]["quote"] == "Lead production with 150 team members"
