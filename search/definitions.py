"""Every search filter, defined once.

A filter is one entry in `DEFINITIONS` (an instance of a kind from `search.filter_kinds`) and one
field of `Filters`. The entry says how a user's value is checked (`parse`), what it means for one
posting (`accepts`, the reference semantics), the same as SQL (`sql`), and how the matcher
indexes it (`index_keys`/`doc_keys`, and `bits`: how it becomes a constraint bit). The SQL search
(`search.sql`), the matcher (`search.matcher`) and `Filters.accepts` are loops over these
entries, and tests check that each agrees with `accepts` on the same data.

A new filter on an existing posting column: an entry here, a `Filters` field, a `build_filters`
keyword, a saved-search column (migration), the forms that show it, and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.facts import (
    SHIFT_LABELS,
    SHIFTS,
    STANDARD_LABELS,
    STANDARDS,
    shift_key,
    standard_key,
)
from search.fact_filters import MinTeam
from search.filter_kinds import (
    EMPLOYMENT_TYPES,
    SENIORITIES,
    WORKPLACES,
    AnyOf,
    ExcludeCompanies,
    FilterDef,
    Given,
    MinSalary,
    OpenOnly,
    Place,
    SalaryRequired,
    Since,
    norm_choice,
)
from search.posting import PlaceFilter, PostingDoc

_INDUSTRY_LABEL = {"food_beverage": "food & beverage"}


def _label(value: str) -> str:
    return value.replace("_", " ")


# The order is the order of the parts of a match's reason (after the query and the place), of
# the checks in `Filters.accepts`, and the tie-break between equally rare index keys.
DEFINITIONS: tuple[FilterDef, ...] = (
    Place(),
    MinSalary(),
    SalaryRequired(),
    AnyOf(
        "seniorities", "seniorities", "seniority", "sen", "seniority", SENIORITIES,
        shares={"supervisor": 0.25, "assistant": 0.1, "manager": 0.3, "senior": 0.12,
                "director": 0.15, "executive": 0.08},
        label=lambda v: f"{v} level",
    ),
    AnyOf(
        "industries", "industries", "industries", "ind", "industry",
        normalize=lambda v: "_".join(v.lower().replace("&", " ").split()),  # "Food & Beverage"
        many=True, label=lambda v: _INDUSTRY_LABEL.get(v, _label(v)),
    ),
    AnyOf(
        "workplaces", "workplaces", "workplace", "wp", "workplace", WORKPLACES,
        normalize=lambda v: {"on_site": "onsite", "in_office": "onsite"}.get(
            norm_choice(v), norm_choice(v)
        ),
        shares={"onsite": 0.75, "hybrid": 0.15, "remote": 0.1},
    ),
    AnyOf(
        "skills", "skills", "skills", "skill", "skill",
        normalize=lambda v: v.strip().lower().replace(" ", "_"),
        many=True, default_share=0.15, label=_label,
    ),
    AnyOf(
        "employment_types", "employment_types", "employment_type", "emp", "employment type",
        EMPLOYMENT_TYPES, shares={"full_time": 0.9}, default_share=0.05, label=_label,
    ),
    # plant facts (`pipeline.facts`): any mention counts, a "preferred" standard included
    AnyOf(
        "shifts", "shifts", "shifts", "shift", "shift", SHIFTS, normalize=shift_key,
        many=True, default_share=0.05, label=lambda v: SHIFT_LABELS.get(v, v),
    ),
    MinTeam(),
    AnyOf(
        "standards", "standards", "standards", "std", "standard", STANDARDS,
        normalize=standard_key, many=True, default_share=0.05,
        label=lambda v: STANDARD_LABELS.get(v, v),
    ),
    ExcludeCompanies(),
    Since(),
    OpenOnly(),
)  # fmt: skip
PLACE = DEFINITIONS[0]
MATCHED = tuple(d for d in DEFINITIONS if not d.listing_only)
# The reference checks the place last: it is the slowest check and the others reject as much.
_CHECKS = (*(d for d in MATCHED if d is not PLACE), PLACE)


@dataclass(frozen=True)
class Filters:
    """Everything a search can say besides its keyword query: one field per definition."""

    place: PlaceFilter | None = None
    workplaces: frozenset[str] = field(default_factory=frozenset)
    min_salary_usd: float | None = None
    salary_required: bool = False
    seniorities: frozenset[str] = field(default_factory=frozenset)
    industries: frozenset[str] = field(default_factory=frozenset)
    skills: frozenset[str] = field(default_factory=frozenset)
    employment_types: frozenset[str] = field(default_factory=frozenset)
    shifts: frozenset[str] = field(default_factory=frozenset)
    min_team: int | None = None
    standards: frozenset[str] = field(default_factory=frozenset)
    exclude_companies: frozenset[str] = field(default_factory=frozenset)  # casefolded
    since: datetime | None = None  # listings only: posted (or first seen) at or after
    include_closed: bool = False  # listings only

    def accepts(self, doc: PostingDoc) -> bool:
        """The reference predicate (without `since`/`include_closed`, which need dates and status)."""
        for d in _CHECKS:
            value = getattr(self, d.name)
            if d.active(value) and not d.accepts(value, doc):
                return False
        return True


def build_filters(
    *,
    location: str | None = None,
    within: float | None = None,
    workplaces: Sequence[str] = (),
    min_salary: float | None = None,
    salary_required: bool = False,
    seniorities: Sequence[str] = (),
    industries: Sequence[str] = (),
    skills: Sequence[str] = (),
    employment_types: Sequence[str] = (),
    shifts: Sequence[str] = (),
    min_team: float
    | None = None,  # a whole number; the form reads any number and MinTeam refuses the rest
    standards: Sequence[str] = (),
    exclude_companies: Sequence[str] = (),
    since: str | None = None,
    include_closed: bool = False,
    geocode: Callable[[str], Any] | None = None,
    now: datetime | None = None,
) -> Filters:
    """Validate user-given filter values into `Filters`; `SearchError` with one line if bad."""
    given = Given(
        {
            "location": location, "within": within, "workplaces": workplaces,
            "min_salary": min_salary, "salary_required": salary_required,
            "seniorities": seniorities, "industries": industries, "skills": skills,
            "employment_types": employment_types, "shifts": shifts, "min_team": min_team,
            "standards": standards, "exclude_companies": exclude_companies,
            "since": since, "include_closed": include_closed,
        },
        geocode=geocode,
        now=now,
    )  # fmt: skip
    return Filters(**{d.name: d.parse(given) for d in DEFINITIONS})
