"""Dedup keys and seniority remembered by their text are the values computed afresh."""

from __future__ import annotations

import random

from pipeline.enrich import seniority
from pipeline.keys import company_key, place_key, title_key

COMPANIES = ["Acme Foods, Inc.", "ACME Foods", "Bosch GmbH", "Société Générale SA", "", None]
TITLES = ["Sr. Production Mgr (m/w/d)", "Senior Production Manager", "2nd Shift Supv", "", None]
PLACES = [
    ("Dearborn", "US-MI", "US", None, "Dearborn, MI"),
    (None, "US-MI", "US", "onsite", None),
    (None, None, "US", None, "United States"),
    (None, None, None, "remote", "Remote"),
    (None, None, None, None, "Somewhere Über"),
]


def test_remembered_keys_are_fresh_keys() -> None:
    rng = random.Random(4)
    for _ in range(2000):  # in any order, asked again and again
        company, title, place = rng.choice(COMPANIES), rng.choice(TITLES), rng.choice(PLACES)
        assert company_key(company) == company_key.__wrapped__(company)
        assert title_key(title) == title_key.__wrapped__(title)
        assert place_key(*place) == place_key.__wrapped__(*place)
    assert company_key.cache_info().hits > 0
    assert company_key("Acme Foods, Inc.") == company_key("ACME Foods") == "acme foods"


def test_remembered_seniority_is_fresh_seniority() -> None:
    titles = [*TITLES, "VP of Production", "Schichtleiter (m/w/d)", "Assistant Plant Manager"]
    for title in titles * 3:
        assert seniority(title) == seniority.__wrapped__(title)
    assert seniority("VP of Production") == "executive"
