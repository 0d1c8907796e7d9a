"""The search index gives exactly the naive reference's matches, with reasons and a ranking."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from search.filters import (
    EARTH_RADIUS_MILES,
    Filters,
    PlaceFilter,
    PostingDoc,
    best_annual_usd,
    bounding_box,
    haversine_miles,
)
from search.matcher import (
    Match,
    SavedSearchSpec,
    SearchIndex,
    _compile,
    _Constraints,
    _Doc,
    doc_fields,
    hit_match,
    reference_matches,
)
from search.query import And, Node, Not, Or, Phrase, Term, evaluate, parse_query

VOCAB = ["plant", "manager", "production", "lean", "haccp", "bakery", "shift", "video", "molding"]
COMPANIES = ["Magna", "Nestlé", "Bosch Rexroth", "magna"]
# (city, region, country, lat, lon): Dearborn and Detroit are 8 mi apart, Windsor across the river.
CITIES = [
    ("Dearborn", "US-MI", "US", 42.3223, -83.1763),
    ("Detroit", "US-MI", "US", 42.3314, -83.0458),
    ("Windsor", "CA-ON", "CA", 42.3149, -83.0364),
    ("Grand Rapids", "US-MI", "US", 42.9634, -85.6681),
    ("Toledo", "US-OH", "US", 41.6528, -83.5379),
    ("Tromsø", "NO-54", "NO", 69.6492, 18.9553),
    ("Fiji", None, "FJ", -17.7, 179.9),
]

DEARBORN = PlaceFilter("Dearborn, MI", "Dearborn", "US-MI", "US", 42.3223, -83.1763, 50)


def _leaf(field: str | None) -> st.SearchStrategy[Node]:
    word = st.sampled_from(VOCAB)
    return st.one_of(
        st.builds(Term, word, st.just(field)),
        st.builds(Phrase, st.lists(word, min_size=1, max_size=3).map(tuple), st.just(field)),
    )


def _tree(field: str | None) -> st.SearchStrategy[Node]:
    return st.recursive(
        _leaf(field) | _leaf(None),
        lambda kids: st.one_of(
            st.lists(kids, min_size=1, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(kids, min_size=1, max_size=3).map(lambda xs: Or(tuple(xs))),
            kids.map(Not),
        ),
        max_leaves=6,
    )


# Any AST, including ones the parser refuses (all negative): the index must still agree.
queries = st.none() | st.sampled_from([None, "title", "company"]).flatmap(_tree)

small_sets = lambda values: st.frozensets(st.sampled_from(values), max_size=2)  # noqa: E731


@st.composite
def places(draw: st.DrawFn) -> PlaceFilter:
    city, region, country, lat, lon = draw(st.sampled_from(CITIES))
    kind = draw(
        st.sampled_from(["radius", "city", "region", "country", "text", "radius-no-coords"])
    )
    if kind == "radius":
        radius = draw(st.sampled_from([0.0, 5.0, 10.0, 25.0, 100.0, 400.0, 1500.0, 5000.0]))
        return PlaceFilter(city, city, region, country, lat, lon, radius)
    if kind == "radius-no-coords":
        return PlaceFilter(city, city, region, country, None, None, 25.0)
    if kind == "city":
        return PlaceFilter(city, city.upper(), draw(st.sampled_from([region, None])), country)
    if kind == "region":
        return PlaceFilter(region or country, None, region, country)
    if kind == "country":
        return PlaceFilter(country, None, None, draw(st.sampled_from([country, None])))
    return PlaceFilter(city)


filters_strategy = st.builds(
    Filters,
    place=st.none() | places(),
    workplaces=small_sets(["onsite", "hybrid", "remote"]),
    min_salary_usd=st.none() | st.sampled_from([50_000.0, 100_000.0, 150_000.0]),
    salary_required=st.booleans(),
    seniorities=small_sets(["supervisor", "manager", "director"]),
    industries=small_sets(["food_beverage", "automotive", "pharma"]),
    skills=small_sets(["lean", "haccp", "sap"]),
    employment_types=small_sets(["full_time", "contract"]),
    shifts=small_sets(["1st", "3rd", "rotating"]),
    min_team=st.none() | st.sampled_from([10, 50]),
    standards=small_sets(["gmp", "haccp", "iso_9001"]),
    exclude_companies=st.frozensets(st.sampled_from(["magna", "bosch rexroth"]), max_size=1),
)


@st.composite
def postings(draw: st.DrawFn, posting_id: int = 1) -> PostingDoc:
    words = st.lists(st.sampled_from([*VOCAB, "Plant", "Bäckerei", "-"]), max_size=8)
    city, region, country, lat, lon = draw(st.sampled_from(CITIES))
    jitter = draw(st.floats(-1.5, 1.5))
    has_coords = draw(st.booleans())
    low = draw(st.none() | st.sampled_from([40_000.0, 90_000.0, 140_000.0]))
    return PostingDoc(
        id=draw(st.integers(1, 10_000)),
        title=" ".join(draw(words)),
        company=draw(st.sampled_from(COMPANIES)),
        description=" ".join(draw(words)),
        city=draw(st.sampled_from([city, city.lower(), None])),
        region=draw(st.sampled_from([region, None])),
        country=draw(st.sampled_from([country, None])),
        latitude=lat + jitter if has_coords else None,
        longitude=lon - jitter if has_coords else None,
        workplace=draw(st.sampled_from(["onsite", "hybrid", "remote", None])),
        employment_type=draw(st.sampled_from(["full_time", "contract", None])),
        annual_min_usd=low,
        annual_max_usd=draw(st.sampled_from([None, low and low + 30_000])),
        seniority=draw(st.sampled_from(["supervisor", "manager", "director", None])),
        industries=tuple(draw(small_sets(["food_beverage", "automotive", "pharma"]))),
        skills=tuple(draw(small_sets(["lean", "haccp", "sap"]))),
        location_text=draw(st.sampled_from([city, f"{city}, {region}", None])),
        shifts=tuple(draw(small_sets(["1st", "3rd", "rotating"]))),
        standards=tuple(draw(small_sets(["gmp", "haccp", "iso_9001"]))),
        team_size=draw(st.sampled_from([None, 5, 10, 60])),
    )


@st.composite
def search_lists(draw: st.DrawFn) -> list[SavedSearchSpec]:
    pairs = draw(st.lists(st.tuples(queries, filters_strategy), min_size=1, max_size=25))
    # Ids run backwards: results follow the order searches were given in, not their ids.
    return [SavedSearchSpec(1000 - i, q, f, subscriber_id=i % 3) for i, (q, f) in enumerate(pairs)]


doc_frequencies = st.none() | st.dictionaries(st.sampled_from(VOCAB), st.integers(0, 1000))


@given(search_lists(), st.lists(postings(), min_size=1, max_size=6), doc_frequencies)
@settings(max_examples=400, deadline=None)
def test_index_matches_exactly_the_naive_reference(
    specs: list[SavedSearchSpec], docs: list[PostingDoc], df: dict[str, int] | None
) -> None:
    index = SearchIndex.build(specs, df)
    for doc in docs:
        expected = [s.id for s in reference_matches(specs, doc)]
        assert [m.search_id for m in index.match(doc)] == expected
        assert all(m.posting_id == doc.id for m in index.match(doc))
        # Every match was a candidate: the index never drops one.
        candidates = {s.id for s in index.candidates(doc)}
        assert set(expected) <= candidates


@given(queries, postings())
@settings(max_examples=400, deadline=None)
def test_compiled_query_agrees_with_evaluate(node: Node | None, doc: PostingDoc) -> None:
    assert _compile(node)(_Doc(doc)) == evaluate(node, doc_fields(doc))


@given(
    st.lists(filters_strategy, min_size=1, max_size=8),
    postings(),
    st.sampled_from([None, float("nan"), 1e12]),
)
@settings(max_examples=400, deadline=None)
def test_constraint_bits_agree_with_accepts(
    filter_list: list[Filters], doc: PostingDoc, odd_salary: float | None
) -> None:
    if odd_salary is not None:
        doc = replace(doc, annual_max_usd=odd_salary)
    constraints = _Constraints()
    needs = [constraints.need(f) for f in filter_list]
    have = constraints.satisfied(doc, best_annual_usd(doc.annual_min_usd, doc.annual_max_usd))
    for filters, need in zip(filter_list, needs, strict=True):
        assert (need & ~have == 0) == replace(filters, place=None).accepts(doc)


def test_hand_built_phrase_of_several_tokens_keeps_reference_semantics() -> None:
    # Not a parser output: a "word" with a space never equals a token, so it never matches.
    doc = PostingDoc(1, "Plant Manager", "Magna")
    assert not _compile(Phrase(("plant manager",)))(_Doc(doc))
    assert not evaluate(Phrase(("plant manager",)), doc_fields(doc))


@given(
    st.floats(-89.0, 89.0),
    st.floats(-180.0, 180.0),
    st.floats(0.0, 3000.0),
    st.floats(0.0, 360.0),
    st.floats(0.0, 1.0),
)
def test_bounding_box_encloses_the_circle(
    lat: float, lon: float, miles: float, bearing: float, fraction: float
) -> None:
    # A point at `fraction` of the radius in direction `bearing` (the spherical direct formula).
    angle = miles * fraction / EARTH_RADIUS_MILES
    p1, l1, th = math.radians(lat), math.radians(lon), math.radians(bearing)
    p2 = math.asin(math.sin(p1) * math.cos(angle) + math.cos(p1) * math.sin(angle) * math.cos(th))
    l2 = l1 + math.atan2(
        math.sin(th) * math.sin(angle) * math.cos(p1), math.cos(angle) - math.sin(p1) * math.sin(p2)
    )
    lat2, lon2 = math.degrees(p2), math.degrees(l2)
    assert haversine_miles(lat, lon, lat2, lon2) <= miles + 1e-6
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
    eps = 1e-9
    assert min_lat - eps <= lat2 <= max_lat + eps
    # Compare longitudes on the circle: the offset from the centre, in (-180, 180].
    offset = (lon2 - lon + 180.0) % 360.0 - 180.0
    assert min_lon - lon - eps <= offset <= max_lon - lon + eps or max_lon - min_lon >= 360.0


def test_bounding_box_reaches_the_widest_point_of_a_northern_circle() -> None:
    # At 60°N a 1,000-mile circle reaches 29.99° of longitude; miles / cos(lat) said 28.95°.
    _, _, _, max_lon = bounding_box(60.0, 0.0, 1000.0)
    assert max_lon > 29.98
    # A circle around a pole spans every longitude.
    assert bounding_box(89.0, 10.0, 100.0)[2:] == (-170.0, 190.0)


def _spec(search_id: int, query: str | None, **filters: object) -> SavedSearchSpec:
    return SavedSearchSpec(search_id, parse_query(query), Filters(**filters), subscriber_id=1)  # type: ignore[arg-type]


def _doc(posting_id: int, title: str, description: str = "", **kw: object) -> PostingDoc:
    base: dict[str, object] = {
        "company": "Magna",
        "city": "Detroit",
        "region": "US-MI",
        "country": "US",
        "latitude": 42.3314,
        "longitude": -83.0458,
        "workplace": "onsite",
    }
    base.update(kw)
    return PostingDoc(posting_id, title, description=description, **base)  # type: ignore[arg-type]


def test_why_line_names_title_phrase_place_and_salary() -> None:
    search = _spec(1, '"plant manager"', place=DEARBORN, min_salary_usd=100_000)
    doc = _doc(
        7, "Plant Manager – Injection Molding", annual_min_usd=95_000, annual_max_usd=120_000
    )
    [match] = SearchIndex.build([search]).match(doc)
    assert match.why == '"plant manager" in title · 7 mi from Dearborn, MI · $120k ≥ $100k'
    miles = haversine_miles(42.3223, -83.1763, 42.3314, -83.0458)
    assert match.score == round(3 * 2 + 1 + (1 - miles / 50) + 1, 3)


def test_why_line_lists_title_hits_before_description_hits() -> None:
    search = _spec(1, "bakery lean OR haccp", seniorities=frozenset({"manager"}))
    doc = _doc(3, "Bakery Production Manager", "Lean and HACCP daily.", seniority="manager")
    [match] = SearchIndex.build([search]).match(doc)
    assert match.why == "bakery in title · lean, haccp in description · manager level"


def test_why_line_for_region_remote_industry_and_unknown_salary() -> None:
    search = _spec(
        1,
        "supervisor",
        place=PlaceFilter("Michigan", region="US-MI", country="US"),
        min_salary_usd=80_000,
        industries=frozenset({"food_beverage", "pharma"}),
    )
    onsite = _doc(1, "Production Supervisor", industries=("food_beverage",))
    remote = _doc(2, "Production Supervisor", workplace="remote", industries=("pharma",))
    matches = SearchIndex.build([search]).match_many([onsite, remote])[1]
    assert [m.why for m in matches] == [
        "supervisor in title · in Michigan · salary not stated · food & beverage",
        "supervisor in title · remote (United States) · salary not stated · pharma",
    ]


def test_ranking_prefers_title_phrase_closeness_and_known_salary() -> None:
    search = _spec(1, '"plant manager" OR molding', place=DEARBORN)
    docs = [
        _doc(1, "Shift Lead", "We need a plant manager.", latitude=42.9, longitude=-83.2),
        _doc(2, "Shift Lead", "We need a plant manager.", latitude=42.35, longitude=-83.18),
        _doc(3, "Plant Manager", "", latitude=42.9, longitude=-83.2),
        _doc(4, "Molding Lead", "", latitude=42.9, longitude=-83.2),
        _doc(5, "Molding Lead", "", latitude=42.9, longitude=-83.2, annual_max_usd=90_000),
    ]
    ranked = [m.posting_id for m in SearchIndex.build([search]).match_many(docs)[1]]
    # Title phrase (6) beats a title word (3) beats a description phrase (2); a stated salary
    # beats none; closer beats farther.
    assert ranked == [3, 5, 4, 2, 1]


def test_filter_only_search_is_indexed_by_its_filter() -> None:
    search = _spec(1, None, seniorities=frozenset({"director"}), place=DEARBORN)
    index = SearchIndex.build([search])
    director = _doc(1, "Director of Manufacturing", seniority="director")
    manager = _doc(2, "Plant Manager", seniority="manager")
    far = _doc(3, "Director of Operations", seniority="director", latitude=41.0, longitude=-87.6)
    assert [(m.search_id, m.why) for m in index.match(director)] == [
        (1, "7 mi from Dearborn, MI · director level")
    ]
    assert index.match(manager) == []
    assert index.match(far) == []
    # Not even a candidate: the index, not the final check, kept these out.
    assert index.candidates(manager) == [] or index.candidates(far) == []


def test_posting_that_matches_no_search() -> None:
    index = SearchIndex.build(
        [
            _spec(1, "haccp"),
            _spec(2, "title:director"),
            _spec(3, None, workplaces=frozenset({"remote"})),
        ]
    )
    doc = _doc(9, "Production Supervisor", "Lean, 5S and daily huddles.")
    assert index.match(doc) == []
    assert index.candidates(doc) == []
    assert index.match_many([doc]) == {}


def test_excluded_company_is_case_insensitive() -> None:
    search = _spec(1, "plant manager", exclude_companies=frozenset({"magna"}))
    index = SearchIndex.build([search])
    assert index.match(_doc(1, "Plant Manager", company="MAGNA")) == []
    assert [m.search_id for m in index.match(_doc(2, "Plant Manager", company="Bosch"))] == [1]


def test_common_words_do_not_anchor_a_search() -> None:
    index = SearchIndex.build([_spec(1, "production manager bakery")])
    assert (
        index.candidates(_doc(1, "Production Manager", "Production manager, plant manager")) == []
    )
    assert len(index.candidates(_doc(2, "Bakery Production Manager"))) == 1


def test_document_frequencies_choose_the_anchor() -> None:
    search = _spec(1, "lean molding")
    lean_only = _doc(1, "Lean Lead")
    molding_only = _doc(2, "Molding Lead")
    by_df = SearchIndex.build([search], df={"lean": 5, "molding": 900})
    assert len(by_df.candidates(lean_only)) == 1
    assert by_df.candidates(molding_only) == []


def test_remote_posting_reaches_place_searches_of_its_country() -> None:
    index = SearchIndex.build([_spec(1, "manager", place=DEARBORN)])
    remote_us = _doc(1, "Plant Manager", workplace="remote", latitude=None, longitude=None)
    remote_de = _doc(2, "Plant Manager", workplace="remote", country="DE")
    assert [m.search_id for m in index.match(remote_us)] == [1]
    assert index.match(remote_de) == []


def test_radius_edge_at_high_latitude() -> None:
    # The widest point of a 1,000-mile circle at 60°N: inside by haversine, where the old box
    # (miles / cos(lat)) ended a degree short.
    place = PlaceFilter("Hub", latitude=60.0, longitude=0.0, within_miles=1000.0)
    doc = _doc(1, "Plant Manager", latitude=63.43, longitude=29.9, city=None, region=None)
    assert haversine_miles(60.0, 0.0, 63.43, 29.9) <= 1000.0
    index = SearchIndex.build([_spec(1, "plant", place=place)])
    assert [m.search_id for m in index.match(doc)] == [1]


def test_searches_sharing_a_query_and_place_are_each_reported() -> None:
    specs = [
        _spec(30, '"plant manager"', place=DEARBORN),
        _spec(10, '"plant manager"', place=DEARBORN, min_salary_usd=150_000, salary_required=True),
        _spec(20, '"plant manager"', place=DEARBORN, seniorities=frozenset({"manager"})),
    ]
    doc = _doc(1, "Plant Manager", seniority="manager", annual_max_usd=120_000)
    matches = SearchIndex.build(specs).match(doc)
    assert [m.search_id for m in matches] == [30, 20]
    assert matches[1].why == '"plant manager" in title · 7 mi from Dearborn, MI · manager level'


def test_search_without_query_or_filters_matches_everything() -> None:
    [match] = SearchIndex.build([_spec(4, None)]).match(_doc(1, "Anything"))
    assert match == Match(4, 1, 0.0, "every new posting")


def test_hits_are_the_matches_with_their_reasons_in_shared_parts() -> None:
    """A page keeps hits; a hit's `match()` is exactly what `match` gives for it."""
    searches = [
        _spec(1, '"plant manager"', place=DEARBORN, min_salary_usd=100_000),
        _spec(2, "manager"),
        _spec(3, None),
    ]
    index = SearchIndex.build(searches)
    doc = _doc(7, "Plant Manager", annual_min_usd=95_000, annual_max_usd=120_000)
    hits = index.hits(doc)
    assert [h[0] for h in hits] == [1, 2, 3]
    assert [hit_match(h) for h in hits] == index.match(doc)
    assert (
        hit_match(hits[0]).why
        == '"plant manager" in title · 7 mi from Dearborn, MI · $120k ≥ $100k'
    )
    assert hits[0][3:] == (
        ' · "plant manager" in title · 7 mi from Dearborn, MI',
        " · $120k ≥ $100k",
    )
    assert hit_match(hits[2]) == Match(3, 7, 1.0, "every new posting")
    assert all(type(h) is tuple for h in hits)  # plain tuples: the collector untracks them
    many = index.hits_many([doc])
    assert {k: [hit_match(h) for h in v] for k, v in many.items()} == index.match_many([doc])
