"""The filter options `listings` and `subscribe` share: one declaration, one help text."""

from __future__ import annotations

from typing import Annotated

import typer

# Filter options shared by `listings` and `subscribe` (one declaration, one help text).
QueryHelp = 'Keywords: words, "phrases", OR, -word, title:, company:'


LocationOpt = Annotated[str | None, typer.Option(help="A city, 'City, ST', a state or a country")]


WithinOpt = Annotated[float | None, typer.Option(help="Miles around --location")]


WorkplaceOpt = Annotated[
    list[str] | None, typer.Option(help="onsite, hybrid or remote (repeatable)")
]


MinSalaryOpt = Annotated[
    float | None,
    typer.Option(help="Minimum annual salary in USD; jobs that state no salary are still included"),
]


SalaryRequiredOpt = Annotated[
    bool, typer.Option("--salary-required", help="Only jobs that state a salary")
]


SeniorityOpt = Annotated[list[str] | None, typer.Option(help="supervisor … executive (repeatable)")]


IndustryOpt = Annotated[list[str] | None, typer.Option(help="e.g. food_beverage (repeatable)")]


SkillOpt = Annotated[list[str] | None, typer.Option(help="e.g. lean, haccp (repeatable)")]


EmploymentOpt = Annotated[list[str] | None, typer.Option(help="full_time, contract … (repeatable)")]


ShiftOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="1st, 2nd, 3rd (day/swing/night), rotating, 12-hour, weekends, on-call (repeatable)"
    ),
]


MinTeamOpt = Annotated[
    int | None, typer.Option(help="Only jobs that say they lead at least this many people")
]


StandardOpt = Annotated[
    list[str] | None, typer.Option(help="e.g. gmp, haccp, 'ISO 9001', 'IATF 16949' (repeatable)")
]
