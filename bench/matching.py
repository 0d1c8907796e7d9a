"""Benchmark the matchers against the naive loop over every saved search: the per-posting
search index (`matching`) and the window's columns that digest runs use (`matching-window`)."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence

from pipeline import tokens as tokens_module
from search.filters import Filters, PlaceFilter, PostingDoc
from search.matcher import SavedSearchSpec, SearchIndex, doc_fields
from search.query import Node, evaluate, parse_query, tokenize
from search.window import WindowIndex

SIZES = {"small": (10_000, 1_000), "full": (100_000, 10_000)}
ROUNDS = 5
# The naive loop is too slow to run on every posting: it runs on a fixed random sample, a
# different slice of it in each round, and its time per posting is scaled to all postings.
BASELINE_SAMPLE = {"small": 100, "full": 100}
# At full size ours matches a different fifth of the postings each round (all of them over
# the five rounds), so five rounds of both sides fit in about three minutes.
OURS_SLICES = {"small": 1, "full": 5}
HISTORY_POSTINGS = 1_000

# (city, region, country, lat, lon, weight): manufacturing towns weigh more than their size.
CITIES = [
    ("Detroit", "US-MI", "US", 42.3314, -83.0458, 6),
    ("Dearborn", "US-MI", "US", 42.3223, -83.1763, 3),
    ("Grand Rapids", "US-MI", "US", 42.9634, -85.6681, 4),
    ("Toledo", "US-OH", "US", 41.6528, -83.5379, 3),
    ("Columbus", "US-OH", "US", 39.9612, -82.9988, 4),
    ("Cincinnati", "US-OH", "US", 39.1031, -84.5120, 4),
    ("Cleveland", "US-OH", "US", 41.4993, -81.6944, 4),
    ("Chicago", "US-IL", "US", 41.8781, -87.6298, 7),
    ("Rockford", "US-IL", "US", 42.2711, -89.0940, 2),
    ("Milwaukee", "US-WI", "US", 43.0389, -87.9065, 4),
    ("Green Bay", "US-WI", "US", 44.5133, -88.0133, 2),
    ("Indianapolis", "US-IN", "US", 39.7684, -86.1581, 4),
    ("Fort Wayne", "US-IN", "US", 41.0793, -85.1394, 2),
    ("Louisville", "US-KY", "US", 38.2527, -85.7585, 3),
    ("Nashville", "US-TN", "US", 36.1627, -86.7816, 4),
    ("Memphis", "US-TN", "US", 35.1495, -90.0490, 2),
    ("Atlanta", "US-GA", "US", 33.7490, -84.3880, 5),
    ("Greenville", "US-SC", "US", 34.8526, -82.3940, 3),
    ("Charlotte", "US-NC", "US", 35.2271, -80.8431, 4),
    ("Raleigh", "US-NC", "US", 35.7796, -78.6382, 3),
    ("Richmond", "US-VA", "US", 37.5407, -77.4360, 2),
    ("Pittsburgh", "US-PA", "US", 40.4406, -79.9959, 3),
    ("Allentown", "US-PA", "US", 40.6084, -75.4902, 2),
    ("Lancaster", "US-PA", "US", 40.0379, -76.3055, 2),
    ("Newark", "US-NJ", "US", 40.7357, -74.1724, 3),
    ("Hartford", "US-CT", "US", 41.7658, -72.6734, 2),
    ("Boston", "US-MA", "US", 42.3601, -71.0589, 3),
    ("Minneapolis", "US-MN", "US", 44.9778, -93.2650, 4),
    ("Des Moines", "US-IA", "US", 41.5868, -93.6250, 2),
    ("Omaha", "US-NE", "US", 41.2565, -95.9345, 2),
    ("Kansas City", "US-MO", "US", 39.0997, -94.5786, 3),
    ("St. Louis", "US-MO", "US", 38.6270, -90.1994, 3),
    ("Wichita", "US-KS", "US", 37.6872, -97.3301, 3),
    ("Dallas", "US-TX", "US", 32.7767, -96.7970, 5),
    ("Houston", "US-TX", "US", 29.7604, -95.3698, 5),
    ("San Antonio", "US-TX", "US", 29.4241, -98.4936, 3),
    ("Phoenix", "US-AZ", "US", 33.4484, -112.0740, 3),
    ("Denver", "US-CO", "US", 39.7392, -104.9903, 2),
    ("Salt Lake City", "US-UT", "US", 40.7608, -111.8910, 2),
    ("Seattle", "US-WA", "US", 47.6062, -122.3321, 3),
    ("Everett", "US-WA", "US", 47.9790, -122.2021, 2),
    ("Portland", "US-OR", "US", 45.5152, -122.6784, 2),
    ("Los Angeles", "US-CA", "US", 34.0522, -118.2437, 4),
    ("Fresno", "US-CA", "US", 36.7378, -119.7871, 2),
    ("Munich", "DE-BY", "DE", 48.1351, 11.5820, 1),
    ("Stuttgart", "DE-BW", "DE", 48.7758, 9.1829, 1),
    ("Lyon", "FR-ARA", "FR", 45.7640, 4.8357, 1),
    ("Eindhoven", "NL-NB", "NL", 51.4416, 5.4697, 1),
    ("Katowice", "PL-24", "PL", 50.2649, 19.0238, 1),
    ("Cork", "IE-CO", "IE", 51.8985, -8.4756, 1),
]

# (company, industries, weight)
COMPANIES = [
    ("Magna International", ("automotive",), 4),
    ("Lear Corporation", ("automotive",), 3),
    ("BorgWarner", ("automotive",), 2),
    ("Ford Motor Company", ("automotive",), 3),
    ("Stellantis", ("automotive",), 2),
    ("Bosch", ("automotive", "manufacturing"), 3),
    ("Nestlé", ("food_beverage",), 3),
    ("PepsiCo", ("food_beverage",), 4),
    ("Tyson Foods", ("food_beverage",), 4),
    ("General Mills", ("food_beverage",), 3),
    ("Kraft Heinz", ("food_beverage",), 3),
    ("Mondelez International", ("food_beverage",), 2),
    ("Bimbo Bakeries USA", ("food_beverage",), 3),
    ("Anheuser-Busch", ("food_beverage",), 2),
    ("Smithfield Foods", ("food_beverage",), 2),
    ("Boeing", ("aerospace",), 3),
    ("Spirit AeroSystems", ("aerospace",), 2),
    ("Lockheed Martin", ("aerospace",), 2),
    ("Parker Hannifin", ("aerospace", "manufacturing"), 2),
    ("Pfizer", ("pharma",), 2),
    ("Catalent", ("pharma",), 2),
    ("Thermo Fisher Scientific", ("pharma",), 2),
    ("Novo Nordisk", ("pharma",), 1),
    ("Caterpillar", ("manufacturing",), 3),
    ("3M", ("manufacturing",), 2),
    ("Whirlpool", ("manufacturing",), 2),
    ("Eaton", ("manufacturing",), 2),
    ("Berry Global", ("manufacturing", "packaging"), 2),
    ("Amcor", ("packaging",), 2),
    ("Sonoco", ("packaging",), 1),
    ("Hitachi Energy", ("manufacturing",), 1),
    ("Aerotek", ("manufacturing",), 3),
    ("Adecco", ("manufacturing",), 2),
]
STAFFING = ("aerotek", "adecco")

SHIFTS = ["1st", "2nd", "3rd", "Night", "Weekend", "Day", "Swing"]
PROCESSES = [
    "Injection Molding", "Stamping", "CNC Machining", "Extrusion", "Assembly", "Die Casting",
    "Welding", "Blow Molding", "Packaging", "Fermentation", "Sterile Fill", "Powder Coating",
    "Heat Treat", "Thermoforming", "Final Assembly", "Paint Shop",
]  # fmt: skip
PRODUCTS = [
    "Bakery", "Snacks", "Dairy", "Beverages", "Meat Processing", "Frozen Foods", "Confectionery",
    "Automotive Seating", "Aerospace Composites", "Solid Dose", "Biologics", "Plastics",
    "Flexible Packaging", "Metal Fabrication", "Electronics", "Brewing",
]  # fmt: skip
# (template, seniority, weight)
TITLES = [
    ("Production Supervisor - {shift} Shift", "supervisor", 8),
    ("Production Supervisor", "supervisor", 6),
    ("Shift Supervisor - {process}", "supervisor", 4),
    ("Manufacturing Supervisor ({process})", "supervisor", 3),
    ("Packaging Supervisor", "supervisor", 2),
    ("Production Team Leader, {product}", "supervisor", 2),
    ("Assembly Supervisor - {product}", "supervisor", 2),
    ("Assistant Production Manager, {product}", "assistant", 4),
    ("Assistant Plant Manager", "assistant", 2),
    ("Production Manager", "manager", 7),
    ("Production Manager - {product}", "manager", 5),
    ("Plant Manager – {process}", "manager", 4),
    ("Plant Manager", "manager", 4),
    ("Manufacturing Manager", "manager", 4),
    ("Operations Manager - {product}", "manager", 3),
    ("Production Control Manager", "manager", 2),
    ("Industrial Production Manager", "manager", 1),
    ("Production Planning Manager", "manager", 2),
    ("Senior Production Manager - {product}", "senior", 3),
    ("Senior Manufacturing Manager", "senior", 2),
    ("Plant Superintendent", "senior", 1),
    ("Director of Manufacturing", "director", 3),
    ("Production Director – {product}", "director", 2),
    ("Plant Director", "director", 1),
    ("Director, Plant Operations", "director", 2),
    ("VP of Operations", "executive", 1),
    ("Vice President, Manufacturing", "executive", 1),
    ("Head of Production", "executive", 1),
]
SALARY = {
    "supervisor": (55_000, 85_000),
    "assistant": (70_000, 95_000),
    "manager": (90_000, 140_000),
    "senior": (120_000, 170_000),
    "director": (150_000, 220_000),
    "executive": (190_000, 300_000),
}
# (sentence, skills it shows): the domain part of a description.
DOMAIN_SENTENCES = [
    ("Lead a team of {n} hourly associates across {shift} shift.", ()),
    ("Drive lean manufacturing and continuous improvement with kaizen events.", ("lean", "kaizen")),
    ("Own OEE, scrap, yield and downtime KPIs for the {process} area.", ("oee",)),
    ("Ensure compliance with HACCP, SQF and food safety programs.", ("haccp",)),
    ("Maintain cGMP compliance and support FDA inspections.", ("gmp",)),
    ("Run daily production meetings and tier boards on the plant floor.", ()),
    ("Schedule labor and materials in SAP to meet the production plan.", ("sap", "erp")),
    ("Partner with maintenance on TPM and CMMS work orders.", ("tpm", "cmms")),
    ("Champion safety and OSHA compliance; zero recordables is the goal.", ("osha",)),
    ("Lead root cause analysis and CAPA using Six Sigma tools.", ("six_sigma",)),
    ("Reduce changeover times with SMED on the packaging line.", ()),
    ("Sustain 5S and visual management in every work cell.", ("5s",)),
    ("Manage a {n} million dollar operating budget and capital projects.", ()),
    ("Coach supervisors and team leads; build the next generation of leaders.", ()),
    ("Work within IATF 16949 quality systems and PPAP requirements.", ("iatf_16949",)),
    ("Support AS9100 quality requirements for flight hardware.", ("as9100",)),
    ("Use MRP and ERP data to balance inventory and throughput.", ("mrp", "erp")),
    ("Report weekly on productivity, cost per unit and on-time delivery.", ()),
    ("Experience with {process} equipment is a strong plus.", ()),
    ("Build dashboards in Power BI to track line performance.", ("power_bi",)),
    ("Value stream mapping experience preferred.", ("value_stream_mapping",)),
    ("ISO 9001 and TQM experience required.", ("iso_9001", "tqm")),
    ("Union environment experience is a plus.", ()),
    ("Oversee sanitation and allergen changeovers in a {product} plant.", ("haccp",)),
]
FILLER_SENTENCES = [
    "We offer competitive pay, medical, dental and vision benefits and a 401(k) match.",
    "This is a full-time, on-site role reporting to the plant manager.",
    "Bachelor's degree in engineering or a related field, or equivalent experience.",
    "Five or more years of experience in a manufacturing environment.",
    "Strong communication skills and the ability to lead cross-functional teams.",
    "We are an equal opportunity employer and value diversity at our company.",
    "Must be able to work overtime and weekends as needed.",
    "Relocation assistance is available for the right candidate.",
    "Join a team that makes products people use every day.",
    "Proficiency with Microsoft Office and Excel is required.",
    "Apply today and grow your career with us.",
    "Our people are our greatest strength.",
]

ROLE_QUERIES = [
    ("production manager", 10), ('"production manager"', 5), ("plant manager", 8),
    ('"plant manager"', 6), ("production supervisor", 9), ('"production supervisor"', 4),
    ("manufacturing manager", 4), ("operations manager", 4), ("supervisor", 3),
    ("director manufacturing", 2), ('"director of manufacturing"', 2), ("production director", 2),
    ("assistant production manager", 2), ("shift supervisor", 3), ("superintendent", 1),
    ("vp operations", 1), ("head of production", 1), ("title:director", 3),
    ("title:supervisor", 2), ('title:"plant manager"', 3), ("title:(plant OR production) manager", 1),
]  # fmt: skip
DOMAIN_QUERIES = [
    ("bakery", 3), ("food", 4), ("haccp", 3), ("gmp", 2), ("injection molding", 2),
    ('"injection molding"', 3), ("automotive", 4), ("aerospace", 3), ("pharma", 3), ("lean", 4),
    ('"six sigma"', 2), ("oee", 1), ("sap", 1), ("dairy", 2), ("beverage", 2), ("packaging", 3),
    ("stamping", 1), ("cnc", 1), ("snacks OR bakery", 2), ("automotive OR aerospace", 2),
    ("(dairy OR beverages)", 1), ('"2nd shift"', 2), ("night", 1), ("extrusion", 1),
    ("welding", 1), ("confectionery", 1), ("biologics", 1), ("plastics", 2), ("brewing", 1),
]  # fmt: skip
NEGATIONS = ["-video", "-sales", "-intern", "-temporary", "-company:aerotek", "NOT recruiter"]
RARE_QUERIES = ["Produktionsleiter", "jefe de producción", "responsable de production", "kaizen"]


def _weighted(rng: random.Random, items: Sequence[tuple], k: int = 1) -> list[tuple]:
    return rng.choices(items, weights=[item[-1] for item in items], k=k)


def make_postings(rng: random.Random, count: int, first_id: int = 1) -> list[PostingDoc]:
    """Realistic production-management postings: titles, companies, descriptions, places."""
    docs = []
    for offset in range(count):
        template, seniority, _ = _weighted(rng, TITLES)[0]
        shift, process, product = rng.choice(SHIFTS), rng.choice(PROCESSES), rng.choice(PRODUCTS)
        title = template.format(shift=shift, process=process, product=product)
        company, industries, _ = _weighted(rng, COMPANIES)[0]
        words_wanted = rng.randint(60, 150)
        sentences: list[str] = []
        skills: set[str] = set()
        words = 0
        while words < words_wanted:
            if rng.random() < 0.6:
                sentence, shown = rng.choice(DOMAIN_SENTENCES)
                skills.update(shown)
            else:
                sentence = rng.choice(FILLER_SENTENCES)
            sentence = sentence.format(
                n=rng.randint(12, 180), shift=shift, process=process, product=product
            )
            sentences.append(sentence)
            words += len(sentence.split())
        city, region, country, lat, lon, _ = _weighted(rng, CITIES)[0]
        roll = rng.random()
        workplace = "remote" if roll < 0.05 else "hybrid" if roll < 0.15 else "onsite"
        has_coords = rng.random() < 0.9
        salary = SALARY[seniority]
        known = rng.random() < 0.6
        low = rng.randrange(salary[0], salary[1], 1000) if known else None
        docs.append(
            PostingDoc(
                id=first_id + offset,
                title=title,
                company=company,
                description=" ".join(sentences),
                city=city,
                region=region,
                country=country,
                latitude=lat if has_coords else None,
                longitude=lon if has_coords else None,
                workplace=workplace,
                employment_type=rng.choices(
                    ["full_time", "contract", "temporary"], weights=[92, 5, 3]
                )[0],
                annual_min_usd=low,
                annual_max_usd=low + rng.randrange(5_000, 40_000, 1000) if low else None,
                seniority=seniority,
                industries=industries,
                skills=tuple(sorted(skills)),
                location_text=f"{city}, {region.split('-')[1]}",
            )
        )
    return docs


def _query_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(RARE_QUERIES)
    if roll < 0.30:
        text = _weighted(rng, ROLE_QUERIES)[0][0]
    elif roll < 0.55:
        text = _weighted(rng, DOMAIN_QUERIES)[0][0]
    else:
        role = _weighted(rng, ROLE_QUERIES)[0][0]
        # Keep combined queries short: a one-word role or the role's last word.
        if " " in role and not role.startswith(('"', "title:")):
            role = role.split()[rng.randrange(2)]
        text = f"{role} {_weighted(rng, DOMAIN_QUERIES)[0][0]}"
    if rng.random() < 0.1:
        text = f"{text} {rng.choice(NEGATIONS)}"
    return text


def _filters(rng: random.Random, filter_only: bool) -> Filters:
    place = None
    roll = rng.random()
    if roll < 0.72:
        city, region, country, lat, lon, _ = _weighted(rng, CITIES)[0]
        radius = rng.choices([10, 25, 50, 100, 200], weights=[1, 5, 6, 3, 1])[0]
        place = PlaceFilter(f"{city}, {region[3:]}", city, region, country, lat, lon, radius)
    elif roll < 0.78:
        _, region, country, *_ = _weighted(rng, CITIES)[0]
        place = PlaceFilter(region, None, region, country)
    elif roll < 0.82:
        place = PlaceFilter("United States", country="US")
    seniorities: frozenset[str] = frozenset()
    if rng.random() < (0.6 if filter_only else 0.35):
        pool = ["supervisor", "assistant", "manager", "senior", "director", "executive"]
        seniorities = frozenset(rng.sample(pool, rng.choice([1, 1, 2])))
    industries: frozenset[str] = frozenset()
    if rng.random() < (0.45 if filter_only else 0.25):
        pool = ["automotive", "food_beverage", "aerospace", "pharma", "manufacturing", "packaging"]
        industries = frozenset(rng.sample(pool, rng.choice([1, 1, 2])))
    workplaces: frozenset[str] = frozenset()
    if rng.random() < 0.15:
        workplaces = rng.choice(
            [
                frozenset({"remote"}),
                frozenset({"onsite", "hybrid"}),
                frozenset({"hybrid", "remote"}),
            ]
        )
    min_salary = float(rng.randrange(60_000, 160_000, 5_000)) if rng.random() < 0.3 else None
    # "required" leaves out postings without a salary; searches ask for it with a minimum
    required = rng.random() < 0.05 and min_salary is not None
    return Filters(
        place=place,
        workplaces=workplaces,
        min_salary_usd=min_salary,
        salary_required=required,
        seniorities=seniorities,
        industries=industries,
        skills=frozenset(rng.sample(["lean", "haccp", "gmp", "six_sigma", "sap"], 1))
        if rng.random() < 0.05
        else frozenset(),
        employment_types=frozenset({"full_time"}) if rng.random() < 0.05 else frozenset(),
        exclude_companies=frozenset(STAFFING) if rng.random() < 0.05 else frozenset(),
    )


def make_searches(rng: random.Random, count: int) -> list[SavedSearchSpec]:
    """Saved searches: short keyword queries, about a fifth filter-only, realistic filters."""
    parsed: dict[str, Node | None] = {}
    specs = []
    for search_id in range(1, count + 1):
        filter_only = rng.random() < 0.2
        query: Node | None = None
        if not filter_only:
            text = _query_text(rng)
            if text not in parsed:
                parsed[text] = parse_query(text)
            query = parsed[text]
        specs.append(
            SavedSearchSpec(search_id, query, _filters(rng, filter_only), rng.randrange(count))
        )
    return specs


def document_frequencies(docs: Sequence[PostingDoc]) -> Counter[str]:
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(tokenize(doc.title)) | set(tokenize(doc.description)))
    return df


def _clear_token_cache() -> None:
    # tokenize() memoizes folded text; each side must pay for its own tokenizing.
    tokens_module.fold.cache_clear()


def run_ours(
    specs: list[SavedSearchSpec],
    docs: Sequence[PostingDoc],
    history: Sequence[PostingDoc],
    keep: set[int],
) -> tuple[float, float, SearchIndex, int, dict[int, list[int]]]:
    """Build the index and match `docs`; (build s, match s, index, matches, ids for `keep`)."""
    _clear_token_cache()
    start = time.perf_counter()
    index = SearchIndex.build(specs, document_frequencies(history))
    built = time.perf_counter()
    total = 0
    kept: dict[int, list[int]] = {}
    for doc in docs:
        # Consume each posting's matches as a digest run would, without holding them all.
        matches = index.hits(doc)
        total += len(matches)
        if doc.id in keep:
            kept[doc.id] = [m[0] for m in matches]
    return built - start, time.perf_counter() - built, index, total, kept


def run_window(
    specs: list[SavedSearchSpec], docs: Sequence[PostingDoc], keep: set[int]
) -> tuple[float, int, dict[int, list[int]]]:
    """What digest runs do: the window's columns, then every search ranked against them; (s,
    matches, the searches each posting in `keep` matched, in search order)."""
    _clear_token_cache()
    start = time.perf_counter()
    ranked = WindowIndex(docs).rank(specs)
    took = time.perf_counter() - start
    kept: dict[int, list[int]] = {doc.id: [] for doc in docs if doc.id in keep}
    order = {spec.id: i for i, spec in enumerate(specs)}
    for search_id in sorted(ranked, key=order.__getitem__):
        for posting_id in ranked[search_id].ids.tolist():
            if posting_id in kept:
                kept[posting_id].append(search_id)
    return took, sum(len(r) for r in ranked.values()), kept


def run_naive(
    specs: list[SavedSearchSpec], docs: Sequence[PostingDoc]
) -> tuple[float, dict[int, list[int]]]:
    _clear_token_cache()
    start = time.perf_counter()
    results = {}
    for doc in docs:
        fields = doc_fields(doc)
        results[doc.id] = [
            s.id for s in specs if evaluate(s.query, fields) and s.filters.accepts(doc)
        ]
    return time.perf_counter() - start, results


def main(size: str) -> None:
    n_searches, n_postings = SIZES[size]
    rng = random.Random(42)
    specs = make_searches(rng, n_searches)
    docs = make_postings(rng, n_postings)
    history = make_postings(rng, HISTORY_POSTINGS, first_id=10_000_000)
    sample = [docs[p] for p in sorted(rng.sample(range(n_postings), BASELINE_SAMPLE[size]))]
    sample_ids = {doc.id for doc in sample}
    naive_per_round = len(sample) // ROUNDS
    ours_slices = OURS_SLICES[size]
    ours_per_round = n_postings // ours_slices

    ours_times, build_times, match_times, baseline_times = [], [], [], []
    window_times: list[float] = []
    naive_results: dict[int, list[int]] = {}
    ours_results: dict[int, list[int]] = {}
    window_results: dict[int, list[int]] = {}
    window_matches = 0
    matches = 0
    index: SearchIndex | None = None
    for r in range(ROUNDS):
        naive_docs = sample[r * naive_per_round : (r + 1) * naive_per_round]
        s = r % ours_slices
        ours_docs = docs[s * ours_per_round : (s + 1) * ours_per_round]
        # Alternate which side goes first so neither always runs on a warmer process.
        for side in ("ours", "window", "naive") if r % 2 == 0 else ("naive", "window", "ours"):
            if side == "window":
                window_s, window_matches, got = run_window(specs, docs, sample_ids)
                window_times.append(window_s)
                window_results.update(got)
            elif side == "ours":
                index = None  # drop the last round's index first: one index in memory
                build_s, match_s, index, found, kept = run_ours(
                    specs, ours_docs, history, sample_ids
                )
                build_times.append(build_s)
                match_times.append(match_s)
                ours_times.append(build_s + match_s * n_postings / len(ours_docs))
                if r < ours_slices:
                    matches += found
                ours_results.update(kept)
            else:
                naive_s, results = run_naive(specs, naive_docs)
                baseline_times.append(naive_s / len(naive_docs) * n_postings)
                naive_results.update(results)

    mismatches = [i for i, expected in naive_results.items() if ours_results[i] != expected]
    for i in mismatches[:10]:
        print(
            f"mismatch on posting {i}: ours {ours_results[i]} naive {naive_results[i]}",
            file=sys.stderr,
        )
    assert not mismatches, f"{len(mismatches)} of {len(naive_results)} sampled postings differ"
    window_mismatches = [i for i, want in naive_results.items() if window_results[i] != want]
    assert not window_mismatches, f"the window matcher differs on {len(window_mismatches)}"

    assert index is not None
    candidates = sum(len(index.candidates(doc)) for doc in sample)
    ours_s = statistics.median(ours_times)
    baseline_s = statistics.median(baseline_times)
    if ours_slices == 1:
        ours_method = f"build the index and match all {n_postings} postings, every round"
    else:
        ours_method = (
            f"build the index, then match one fifth of the postings ({ours_per_round}), a "
            f"different fifth each round so all {n_postings} are matched once; round time = "
            f"build + match time x {ours_slices}"
        )
    print(
        json.dumps(
            {
                "bench": "matching",
                "size": size,
                "ours_s": round(ours_s, 3),
                "baseline": "naive loop: every search x every posting",
                "baseline_s": round(baseline_s, 3),
                "ratio": round(baseline_s / ours_s, 1),
                "searches": n_searches,
                "postings": n_postings,
                "matches": matches,
                "candidates_per_posting": round(candidates / len(sample), 1),
                "filter_only_searches": sum(1 for s in specs if s.query is None),
                "rounds": ROUNDS,
                "ours_method": ours_method
                + f"; document frequencies from {HISTORY_POSTINGS} other postings, timed in build",
                "baseline_method": (
                    f"naive loop (each posting tokenized once) on a fixed random sample of "
                    f"{len(sample)} postings, {naive_per_round} different ones per round; round "
                    f"time = time per posting x {n_postings}"
                ),
                "compared_postings": len(naive_results),
                "mismatches": len(mismatches),
                "ours_build_s": round(statistics.median(build_times), 3),
                "ours_ms_per_posting": round(
                    statistics.median(match_times) / ours_per_round * 1000, 3
                ),
                "ours_all_postings_measured_s": round(
                    statistics.median(build_times) + sum(match_times[:ours_slices]), 3
                ),
                "baseline_ms_per_posting": round(baseline_s / n_postings * 1000, 1),
            }
        )
    )

    window_s = statistics.median(window_times)
    print(
        json.dumps(
            {
                "bench": "matching-window",
                "size": size,
                "ours_s": round(window_s, 3),
                "baseline": "naive loop: every search x every posting",
                "baseline_s": round(baseline_s, 3),
                "ratio": round(baseline_s / window_s, 1),
                "searches": n_searches,
                "postings": n_postings,
                "matches": window_matches,
                "rounds": ROUNDS,
                "ours_method": f"search.window as digest runs use it: the {n_postings} postings' "
                "columns built, then every search ranked (its matches sorted best first), every "
                "round",
                "baseline_method": "as the matching line's",
                "compared_postings": len(naive_results),
                "mismatches": len(window_mismatches),
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    main(parser.parse_args().size)
