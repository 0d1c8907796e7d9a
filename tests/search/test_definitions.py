"""Each filter is defined once: one definition per `Filters` field, read by every consumer."""

from __future__ import annotations

import dataclasses

import pytest

from search.definitions import DEFINITIONS, Filters, build_filters
from search.filter_kinds import SearchError


def test_every_filters_field_has_exactly_one_definition() -> None:
    names = [d.name for d in DEFINITIONS]
    assert len(set(names)) == len(names)
    assert set(names) == {f.name for f in dataclasses.fields(Filters)}


def test_definitions_parse_what_users_type() -> None:
    f = build_filters(
        workplaces=["On-Site", "remote"],
        seniorities=["Director"],
        employment_types=["full time"],
        industries=["Food & Beverage"],
        skills=["Six Sigma"],
        exclude_companies=["  Magna ", " "],
        min_salary=90_000,
    )
    assert f.workplaces == {"onsite", "remote"}
    assert f.seniorities == {"director"}
    assert f.employment_types == {"full_time"}
    assert f.industries == {"food_beverage"}
    assert f.skills == {"six_sigma"}
    assert f.exclude_companies == {"magna"}
    assert f.min_salary_usd == 90_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workplaces": ["moon"]}, "unknown workplace 'moon': choose from onsite, hybrid, remote"),
        ({"seniorities": ["boss"]}, "unknown seniority 'boss'"),
        ({"employment_types": ["gig"]}, "unknown employment type 'gig'"),
        ({"min_salary": -1}, "--min-salary must not be negative"),
        ({"within": 10}, "--within needs --location"),
        ({"location": "Dearborn, MI", "within": 0}, "--within must be a positive number"),
        ({"since": "soon"}, "--since 'soon' is neither"),
    ],
)
def test_definitions_refuse_bad_values_in_one_line(kwargs: dict, message: str) -> None:
    with pytest.raises(SearchError, match="^" + message.replace("(", r"\(")):
        build_filters(**kwargs)
