"""`andon listings`: search the stored postings and print them as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Annotated, Any

import typer

from commands.base import UsageError, app, engine, err, friendly, out
from commands.options import (
    EmploymentOpt,
    IndustryOpt,
    LocationOpt,
    MinSalaryOpt,
    MinTeamOpt,
    QueryHelp,
    SalaryRequiredOpt,
    SeniorityOpt,
    ShiftOpt,
    SkillOpt,
    StandardOpt,
    WithinOpt,
    WorkplaceOpt,
)


@app.command()
@friendly
def listings(
    query: Annotated[str | None, typer.Argument(help=QueryHelp)] = None,
    location: LocationOpt = None,
    within: WithinOpt = None,
    workplace: WorkplaceOpt = None,
    min_salary: MinSalaryOpt = None,
    salary_required: SalaryRequiredOpt = False,
    seniority: SeniorityOpt = None,
    industry: IndustryOpt = None,
    skill: SkillOpt = None,
    employment_type: EmploymentOpt = None,
    shift: ShiftOpt = None,
    min_team: MinTeamOpt = None,
    standard: StandardOpt = None,
    since: Annotated[
        str | None, typer.Option(help="Posted within: 7d, 12h, 2w, or an ISO date")
    ] = None,
    include_closed: Annotated[
        bool, typer.Option("--include-closed", help="Also closed postings")
    ] = False,
    limit: Annotated[int, typer.Option(help="How many (1-1000)")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many (paging)")] = 0,
    format: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """Search stored listings, newest first."""
    import db
    from search import sql as search

    if format not in ("table", "json", "csv"):
        raise UsageError(f"unknown --format {format!r}: choose table, json or csv")
    check_choices(location=location, industries=industry, skills=skill)
    filters = search.build_filters(
        location=location,
        within=within,
        workplaces=workplace or (),
        min_salary=min_salary,
        salary_required=salary_required,
        seniorities=seniority or (),
        industries=industry or (),
        skills=skill or (),
        employment_types=employment_type or (),
        shifts=shift or (),
        min_team=min_team,
        standards=standard or (),
        since=since,
        include_closed=include_closed,
    )
    eng = engine()
    with db.session_scope(eng) as session:
        rows = search.listings(
            session, search.search_postings(session, query, filters, limit=limit, offset=offset)
        )
        total = search.count_postings(session, query, filters)
    if format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif format == "csv":
        sys.stdout.write(_csv(rows))
    else:
        _table(rows)
    if line := paging_line(total, offset, len(rows)):
        # beside a table it is part of the answer; after JSON or CSV it must not spoil the data
        (out if format == "table" else err).print(line, highlight=False, markup=False)


def paging_line(total: int, offset: int, shown: int) -> str:
    """ "12 of 230 postings (1–12); more results: --offset 12", or "" when nothing matches."""
    if total == 0 or (shown == 0 and offset == 0):
        return ""
    noun = "posting" if total == 1 else "postings"
    if shown == 0:
        return f"{total} {noun} match; none from --offset {offset} (the last page starts lower)"
    line = f"{shown} of {total} {noun} ({offset + 1}–{offset + shown})"
    if offset + shown < total:
        line += f"; more results: --offset {offset + shown}"
    return line


def check_choices(
    *,
    location: str | None = None,
    industries: list[str] | None = None,
    skills: list[str] | None = None,
) -> None:
    """Refuse, with one line, a place the gazetteer doesn't know and unknown industries or skills."""
    from pipeline.enrich import INDUSTRY_KEYWORDS, SKILL_PATTERNS
    from search.suggest import place_problem

    if location is not None and location.strip():
        problem = place_problem(location)
        if problem is not None:
            raise UsageError(f"--location: {problem.message}")
    # the same normalisation as the filters' (search.definitions)
    for flag, values, known, norm in (
        ("--industry", industries, INDUSTRY_KEYWORDS,
         lambda v: "_".join(v.lower().replace("&", " ").split())),
        ("--skill", skills, SKILL_PATTERNS, lambda v: v.strip().lower().replace(" ", "_")),
    ):  # fmt: skip
        unknown = [v for v in values or () if norm(v) not in known]
        if unknown:
            raise UsageError(
                f"unknown {flag} {', '.join(map(repr, unknown))}: known values are "
                + ", ".join(sorted(known))
            )


CSV_COLUMNS = (
    "id", "title", "company", "location", "city", "region", "country", "workplace",
    "employment_type", "salary_min", "salary_max", "salary_currency", "salary_period",
    "annual_min_usd", "annual_max_usd", "seniority", "industries", "skills", "posted_at",
    "first_seen_at", "status", "url", "sources",
)  # fmt: skip


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        sal = r["salary"] or {}
        loc = r["location"]
        writer.writerow(
            [
                r["id"], r["title"], r["company"], loc["text"], loc["city"], loc["region"],
                loc["country"], r["workplace"], r["employment_type"], sal.get("min"),
                sal.get("max"), sal.get("currency"), sal.get("period"), sal.get("annual_min_usd"),
                sal.get("annual_max_usd"), r["seniority"], ";".join(r["industries"]),
                ";".join(r["skills"]), r["posted_at"], r["first_seen_at"], r["status"], r["url"],
                ";".join(s["source"] for s in r["sources"]),
            ]
        )  # fmt: skip
    return buf.getvalue()


def money(sal: dict[str, Any] | None) -> str:
    if not sal:
        return ""
    lo, hi = sal.get("min"), sal.get("max")
    cur = sal.get("currency") or ""
    per = {"year": "/yr", "hour": "/hr", "month": "/mo", "week": "/wk", "day": "/day"}.get(
        sal.get("period") or "", ""
    )
    fmt = lambda v: f"{v:,.0f}" if v >= 1000 else f"{v:,.2f}".rstrip("0").rstrip(".")  # noqa: E731
    if lo is not None and hi is not None and lo != hi:
        return f"{cur} {fmt(lo)}–{fmt(hi)}{per}".strip()
    return f"{cur} {fmt(lo if lo is not None else hi)}{per}".strip()


def posted_label(row: dict[str, Any]) -> str:
    """The posting date; "30+ days ago" when the board only said so (a lower bound)."""
    if row.get("posted_or_earlier") and row.get("posted_at"):
        from alerts.formatting import posted

        return posted(row["posted_at"], True)
    return (row["posted_at"] or row["first_seen_at"] or "")[:10]


def _table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not rows:
        err.print("no postings match")
        return
    table = Table(show_lines=False)
    cols = ("id", "title", "company", "location", "workplace", "salary", "level", "posted")
    for col in cols:
        table.add_column(col, overflow="fold")
    # a URL is copied whole: as wide as the longest (up to 100), the other columns wrap instead
    longest = max((len(r["url"] or r["apply_url"] or "") for r in rows), default=3)
    table.add_column("url", overflow="fold", min_width=min(100, max(3, longest)))
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["title"],
            r["company"],
            r["location"]["text"] or "",
            r["workplace"] or "",
            money(r["salary"]),
            r["seniority"] or "",
            posted_label(r),
            r["url"] or r["apply_url"] or "",
        )
    out.print(table)
