"""The listing search on SQLite and PostgreSQL: every filter, the query language, paging."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

import db
from pipeline.store import store_batch
from search import sql as search
from search.filters import Filters, PlaceFilter, PostingDoc
from search.query import evaluate, parse_query, tokenize
from tests.factories import T0, posting

DEARBORN = PlaceFilter(
    text="Dearborn, MI",
    city="Dearborn",
    region="US-MI",
    country="US",
    latitude=42.3223,
    longitude=-83.1763,
)


@pytest.fixture
def stored(engine):
    rows = [
        posting(external_id="1", url=None),
        posting(
            external_id="2",
            url=None,
            title="Plant Manager",
            company="Bosch",
            city="Detroit",
            location_text="Detroit, MI",
            latitude=42.3314,
            longitude=-83.0458,
            seniority="manager",
            industries=["automotive"],
            skills=["iatf_16949", "lean"],
            salary_min=130000,
            salary_max=150000,
            annual_min_usd=130000,
            annual_max_usd=150000,
            posted_at=T0 - timedelta(days=10),
            description_text="Run an automotive components plant with IATF 16949.",
        ),
        posting(
            external_id="3",
            url=None,
            title="Video Production Manager",
            company="Studio Nine",
            city="Chicago",
            region="US-IL",
            location_text="Chicago, IL",
            latitude=41.88,
            longitude=-87.63,
            seniority="manager",
            industries=[],
            skills=[],
            salary_min=None,
            salary_max=None,
            salary_currency=None,
            salary_period=None,
            annual_min_usd=None,
            annual_max_usd=None,
            description_text="Film and video shoots.",
        ),
        posting(
            external_id="4",
            url=None,
            title="Production Supervisor - 2nd Shift",
            company="Tyson Foods",
            city="Springdale",
            region="US-AR",
            location_text="Springdale, AR",
            latitude=36.19,
            longitude=-94.13,
            seniority="supervisor",
            workplace="onsite",
            employment_type="full_time",
            salary_min=28,
            salary_max=34,
            salary_period="hour",
            annual_min_usd=58240,
            annual_max_usd=70720,
            skills=["haccp", "osha"],
            industries=["food_beverage"],
            description_text="Supervise a poultry processing line on second shift.",
        ),
        posting(
            external_id="5",
            url=None,
            title="Director of Manufacturing",
            company="Lockheed Remote Co",
            city=None,
            region=None,
            country="US",
            location_text="Remote - US",
            latitude=None,
            longitude=None,
            workplace="remote",
            seniority="director",
            industries=["aerospace"],
            skills=["as9100"],
            employment_type="contract",
            description_text="Aerospace manufacturing leadership, AS9100.",
        ),
        posting(
            external_id="6",
            url=None,
            title="Produktionsleiter (m/w/d)",
            company="Krones AG",
            city="München",
            region="DE-BY",
            country="DE",
            location_text="München, Bayern",
            latitude=48.137,
            longitude=11.575,
            salary_min=4500,
            salary_max=4500,
            salary_currency="EUR",
            salary_period="month",
            annual_min_usd=58000,
            annual_max_usd=58000,
            seniority="manager",
            industries=["manufacturing"],
            skills=["sap"],
            description_text="Führung der Fertigung, Lean Management, SAP.",
        ),
    ]
    with db.session_scope(engine) as s:
        store_batch(s, rows, now=T0)
    return engine


def ids(engine, query=None, **kw):
    f = (
        search.build_filters(geocode=lambda _text: None, **kw)
        if "place" not in kw
        else kw.pop("place")
    )
    with db.session_scope(engine) as s:
        return sorted(p.title for p in search.search_postings(s, query, f, limit=100))


def ids_f(engine, query=None, filters=Filters()):
    with db.session_scope(engine) as s:
        return sorted(p.title for p in search.search_postings(s, query, filters, limit=100))


def test_keyword_query_uses_full_text(stored):
    assert ids(stored, "plant") == ["Plant Manager", "Production Manager"]  # "plant" in its text
    assert ids(stored, "title:plant") == ["Plant Manager"]
    assert ids(stored, '"production manager" -video') == ["Production Manager"]
    assert ids(stored, "title:production") == [
        "Production Manager",
        "Production Supervisor - 2nd Shift",
        "Video Production Manager",
    ]
    assert ids(stored, "company:bosch OR company:krones") == [
        "Plant Manager",
        "Produktionsleiter (m/w/d)",
    ]
    # accents are folded on both engines: "Führung" is found as "fuhrung"
    assert ids(stored, "fuhrung") == ["Produktionsleiter (m/w/d)"]


def test_bad_query_is_a_search_error(stored):
    with pytest.raises(search.SearchError, match="column"):
        ids(stored, "title:(plant")


def test_workplace_seniority_employment_filters(stored):
    assert ids(stored, workplaces=["remote"]) == ["Director of Manufacturing"]
    assert ids(stored, seniorities=["supervisor", "director"]) == [
        "Director of Manufacturing",
        "Production Supervisor - 2nd Shift",
    ]
    assert ids(stored, employment_types=["contract"]) == ["Director of Manufacturing"]


def test_industry_and_skill_filters_match_any_value(stored):
    assert ids(stored, industries=["automotive"]) == ["Plant Manager"]
    assert ids(stored, skills=["haccp"]) == [
        "Production Manager",
        "Production Supervisor - 2nd Shift",
    ]
    assert ids(stored, skills=["sap", "as9100"]) == [
        "Director of Manufacturing",
        "Produktionsleiter (m/w/d)",
    ]


def test_min_salary_compares_annual_usd(stored):
    assert ids(stored, min_salary=125000, salary_required=True) == ["Plant Manager"]
    assert ids(stored, min_salary=60000, salary_required=True) == [
        "Director of Manufacturing",
        "Plant Manager",
        "Production Manager",
        "Production Supervisor - 2nd Shift",
    ]  # not the EUR job (58,000 USD a year) nor the one without a salary
    # Without --salary-required a job that states no salary is not known to pay less: it stays.
    assert ids(stored, min_salary=125000) == ["Plant Manager", "Video Production Manager"]


def test_since_uses_posting_date(stored):
    got = ids(stored, since="5d", now=T0 + timedelta(days=1))
    assert "Plant Manager" not in got and "Production Manager" in got


def test_place_without_radius_is_same_city_and_remote_in_country(stored):
    detroit = PlaceFilter(
        text="Detroit",
        city="Detroit",
        region="US-MI",
        country="US",
        latitude=42.33,
        longitude=-83.05,
    )
    assert ids_f(stored, filters=Filters(place=detroit)) == [
        "Director of Manufacturing",
        "Plant Manager",
    ]


def test_place_with_radius_uses_distance(stored):
    near = Filters(place=DEARBORN.__class__(**{**DEARBORN.__dict__, "within_miles": 25}))
    assert ids_f(stored, filters=near) == [
        "Director of Manufacturing",
        "Plant Manager",
        "Production Manager",
    ]
    wide = Filters(place=DEARBORN.__class__(**{**DEARBORN.__dict__, "within_miles": 300}))
    assert "Video Production Manager" in ids_f(stored, filters=wide)


def test_region_and_country_places(stored):
    assert ids_f(
        stored, filters=Filters(place=PlaceFilter(text="Bavaria", region="DE-BY", country="DE"))
    ) == ["Produktionsleiter (m/w/d)"]
    assert "Produktionsleiter (m/w/d)" in ids_f(
        stored, filters=Filters(place=PlaceFilter(text="Germany", country="DE"))
    )


def test_closed_postings_hidden_unless_asked(stored):
    from pipeline.models import Posting

    with db.session_scope(stored) as s:
        s.execute(
            Posting.__table__.update()  # type: ignore[attr-defined]  # SQLModel sets it on table classes
            .where(Posting.title == "Plant Manager")
            .values(status="closed")
        )
    assert "Plant Manager" not in ids(stored)
    assert "Plant Manager" in ids(stored, include_closed=True)


def test_paging_is_newest_first(stored):
    with db.session_scope(stored) as s:
        f = Filters()
        page1 = search.search_postings(s, None, f, limit=2)
        page2 = search.search_postings(s, None, f, limit=2, offset=2)
        everything = search.search_postings(s, None, f, limit=100)
    assert [p.id for p in page1 + page2] == [p.id for p in everything[:4]]
    assert everything[-1].title == "Plant Manager"  # the oldest posted_at


def test_listing_json_follows_the_contract(stored):
    with db.session_scope(stored) as s:
        rows = search.listings(s, search.search_postings(s, "title:plant", Filters()))
    (row,) = rows
    assert set(row) == {
        "id",
        "title",
        "company",
        "url",
        "apply_url",
        "sources",
        "location",
        "workplace",
        "employment_type",
        "salary",
        "seniority",
        "industries",
        "skills",
        "facts",
        "description",
        "posted_at",
        "posted_or_earlier",
        "valid_through",
        "first_seen_at",
        "last_seen_at",
        "status",
    }
    assert row["salary"] == {
        "min": 130000,
        "max": 150000,
        "currency": "USD",
        "period": "year",
        "annual_min_usd": 130000,
        "annual_max_usd": 150000,
    }
    assert row["location"] == {
        "text": "Detroit, MI",
        "city": "Detroit",
        "region": "US-MI",
        "country": "US",
    }
    assert row["sources"] == [{"source": "acme-greenhouse", "external_id": "2", "url": None}]
    assert row["posted_at"].endswith("Z")


def test_bad_filter_values_are_refused_with_one_line():
    for kwargs, msg in [
        ({"workplaces": ["moon"]}, "unknown workplace"),
        ({"seniorities": ["boss"]}, "unknown seniority"),
        ({"since": "yesterday"}, "--since"),
        ({"within": 10}, "--within needs --location"),
        ({"min_salary": -1}, "negative"),
    ]:
        with pytest.raises(search.SearchError, match=msg):
            search.build_filters(**kwargs)  # type: ignore[arg-type]  # the parametrized entries are dicts


WORDS = [
    "plant",
    "production",
    "manager",
    "shift",
    "lean",
    "haccp",
    "bosch",
    "acme",
    "video",
    "night",
]


def test_sql_search_agrees_with_the_reference_semantics(engine):
    """Random queries and filters: SQL (FTS + columns) gives what evaluate() and accepts() give."""
    rng = random.Random(7)
    rows = []
    for n in range(40):
        words = rng.sample(WORDS, 4)
        rows.append(
            posting(
                external_id=f"r{n}",
                url=None,
                title=" ".join(words[:2]).title(),
                company=rng.choice(["Bosch", "Acme", "Tyson"]),
                description_text=" ".join(words[2:] + rng.sample(WORDS, 3)),
                city=rng.choice(["Dearborn", "Toledo"]),
                seniority=rng.choice(["manager", "supervisor", None]),
                workplace=rng.choice(["onsite", "remote", None]),
                skills=rng.sample(["lean", "sap", "haccp"], rng.randint(0, 2)),
                annual_max_usd=rng.choice([None, 60000, 140000]),
                annual_min_usd=None,
                # places vary so that the place filters have something to decide
                latitude=rng.choice([None, 42.3223, 41.66]),
                region=rng.choice(["US-MI", "US-OH", None]),
                country=rng.choice(["US", "DE", None]),
                shifts=rng.sample(["1st", "3rd", "rotating"], rng.randint(0, 2)),
                standards=rng.sample(["gmp", "haccp", "iso_9001"], rng.randint(0, 2)),
                team_size=rng.choice([None, 12, 30, 85]),
            )
        )
    with db.session_scope(engine) as s:
        store_batch(s, rows, now=T0)
    docs = {
        r.external_id: (
            PostingDoc(
                id=0,
                title=r.title,
                company=r.company,
                description=r.description_text,
                city=r.city,
                region=r.region,
                country=r.country,
                latitude=r.latitude,
                longitude=r.longitude,
                workplace=r.workplace,
                annual_max_usd=r.annual_max_usd,
                seniority=r.seniority,
                skills=tuple(r.skills),
                industries=tuple(r.industries),
                shifts=tuple(r.shifts),
                standards=tuple(r.standards),
                team_size=r.team_size,
            ),
            {
                "title": tokenize(r.title),
                "company": tokenize(r.company),
                "description": tokenize(r.description_text),
            },
        )
        for r in rows
    }
    queries = [
        "plant",
        "plant manager",
        "plant OR video",
        "shift -night",
        "title:lean",
        "company:bosch production",
        '"production manager"',
        "(lean OR haccp) -video",
    ]
    filter_sets = [
        Filters(),
        Filters(seniorities=frozenset({"manager"})),
        Filters(skills=frozenset({"lean", "sap"})),
        Filters(min_salary_usd=100000, salary_required=False),
        Filters(min_salary_usd=100000, salary_required=True),
        Filters(salary_required=True),
        Filters(workplaces=frozenset({"remote"})),
        Filters(place=PlaceFilter(**{**DEARBORN.__dict__, "within_miles": 5})),
        Filters(place=PlaceFilter(text="Toledo", city="Toledo", region="US-OH", country="US")),
        Filters(place=PlaceFilter(text="Michigan", region="US-MI", country="US")),
        Filters(place=PlaceFilter(text="Germany", country="DE")),
        Filters(shifts=frozenset({"3rd", "rotating"})),
        Filters(min_team=30),
        Filters(standards=frozenset({"iso_9001"}), min_team=12),
    ]
    for q in queries:
        for f in filter_sets:
            with db.session_scope(engine) as s:
                from sqlalchemy import select
                from sqlmodel import col

                from pipeline.models import PostingSource

                got_ids = {p.id for p in search.search_postings(s, q, f, limit=1000)}
                ext: dict[int | None, str] = dict(
                    s.execute(
                        select(col(PostingSource.posting_id), col(PostingSource.external_id))
                    ).all()
                )
            got = {ext[i] for i in got_ids}
            node = parse_query(q)
            want = {
                k for k, (doc, fields) in docs.items() if evaluate(node, fields) and f.accepts(doc)
            }
            assert got == want, (q, f)


def test_full_text_index_follows_updates(engine):
    with db.session_scope(engine) as s:
        store_batch(s, [posting(title="Bakery Production Manager")], now=T0)
    with db.session_scope(engine) as s:
        store_batch(s, [posting(title="Brewery Production Manager")], now=T0 + timedelta(hours=1))
    assert ids(engine, "bakery") == []
    assert ids(engine, "title:brewery") == ["Brewery Production Manager"]
