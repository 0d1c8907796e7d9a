"""`andon subscribe`, `searches`, `unsubscribe` and `digest`: saved searches and their emails."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands.base import UsageError, app, engine, err, fail, friendly, out, settings
from commands.listings import check_choices
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

# --- alerts: subscribe, searches, unsubscribe, digest -----------------------------------------


@app.command()
@friendly
def subscribe(
    email: Annotated[str, typer.Argument(help="The subscriber's email address")],
    query: Annotated[str, typer.Option(help=QueryHelp)] = "",
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
    exclude_company: Annotated[
        list[str] | None, typer.Option(help="Never this company (repeatable)")
    ] = None,
    cadence: Annotated[str, typer.Option(help="daily or weekly")] = "daily",
    hour: Annotated[int, typer.Option(help="Local hour to send, 0-23")] = 8,
    weekday: Annotated[str, typer.Option(help="Day for weekly digests: mon … sun")] = "mon",
    timezone: Annotated[
        str | None,
        typer.Option(help="IANA timezone, e.g. America/Chicago (default: --location's, else UTC)"),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="A name for the search (default: from the query)")
    ] = None,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Consent is on record: skip the confirmation email")
    ] = False,
) -> None:
    """Save a search for EMAIL; a new address is confirmed by email before any digest."""
    import db
    from alerts import subscriptions as subs
    from alerts.mailers import MailerError
    from alerts.notify import send_confirmation

    check_choices(location=location, industries=industry, skills=skill)
    zone_note = ""
    if timezone is None:
        timezone, zone_note = default_zone(location)
    search = subs.SearchInput(
        name=name, query=query, location=location, within=within, workplaces=workplace or (),
        min_salary=min_salary, salary_required=salary_required, seniorities=seniority or (),
        industries=industry or (),
        skills=skill or (), employment_types=employment_type or (),
        shifts=shift or (), min_team=min_team, standards=standard or (),
        exclude_companies=exclude_company or (), cadence=cadence, hour=hour, weekday=weekday,
        timezone=timezone,
    )  # fmt: skip
    eng = engine()
    with db.session_scope(eng) as session:
        before = subs.subscriber_by_email(session, email)
        was = before.status if before is not None else None
        sub, saved, pending = subs.subscribe(
            session, email, search, confirmed=confirmed,
            consent_source="cli --confirmed" if confirmed else "cli",
        )  # fmt: skip
        description = subs.describe(saved)
    what = f"subscribed {sub.email}" if was is None else f"added a search for {sub.email}"
    out.print(
        f"{what}: search #{saved.id} “{saved.name}”, subscriber {sub.status}", highlight=False
    )
    out.print(f"  {description}", highlight=False)
    if zone_note:
        out.print(f"  {zone_note}", highlight=False)
    if not pending:
        return
    if was == "pending":
        # They were asked already; one more search is no reason for another email.
        out.print("  still waiting for the subscriber to confirm", highlight=False)
        return
    try:
        send_confirmation(settings(), sub, saved)
    except MailerError as exc:
        fail(f"saved, but the confirmation email could not be sent: {exc}", 1)
    out.print(
        f"  confirmation email sent to {sub.email}; nothing else goes out until they confirm",
        highlight=False,
    )


def default_zone(location: str | None) -> tuple[str, str]:
    """`subscribe`'s zone when none is given: the place's (and a line saying so), else UTC."""
    from alerts.timezones import zone_for_place
    from pipeline.location import geocode

    found = geocode(location) if location else None
    chosen = zone_for_place(found) if found is not None else None
    if chosen is None:
        return "UTC", "timezone: UTC (no --location to take one from; set --timezone)"
    return chosen.zone, (
        f"timezone: {chosen.zone}, {chosen.because} (from --location; set --timezone to change it)"
    )


@app.command()
@friendly
def searches(
    email: Annotated[str | None, typer.Argument(help="Only this subscriber's searches")] = None,
) -> None:
    """List saved searches: subscriber, status, what each looks for, and its next digest."""
    from rich.table import Table
    from sqlalchemy import select
    from sqlmodel import col as sql_col

    import db
    from alerts import subscriptions as subs
    from alerts.cadence import zone
    from alerts.models import SavedSearch, Subscriber

    eng = engine()
    with db.session_scope(eng) as session:
        stmt = select(SavedSearch, Subscriber).join(
            Subscriber, sql_col(Subscriber.id) == sql_col(SavedSearch.subscriber_id)
        )
        if email is not None:
            address = subs.normalize_email(email)
            if subs.subscriber_by_email(session, address) is None:
                raise UsageError(f"no subscriber with the address {address}")
            stmt = stmt.where(sql_col(Subscriber.email) == address)
        rows = session.execute(
            stmt.order_by(sql_col(Subscriber.email), sql_col(SavedSearch.id))
        ).all()
        lines = [(saved, sub, subs.describe(saved)) for saved, sub in rows]
    if not lines:
        err.print("no saved searches")
        return
    table = Table()
    for col in ("id", "email", "status", "name", "search", "next digest"):
        table.add_column(col, overflow="fold")
    for saved, sub, description in lines:
        status = search_status(sub.status, saved.active)
        due = ""
        if saved.next_due_at is not None and saved.active and sub.status == "active":
            due = saved.next_due_at.astimezone(zone(saved.timezone)).strftime("%Y-%m-%d %H:%M %Z")
        table.add_row(str(saved.id), sub.email, status, saved.name, description, due)
    out.print(table)


def search_status(subscriber_status: str, active: bool) -> str:
    """What `searches` shows: a search waits for its subscriber's confirmation, runs, or is off."""
    if subscriber_status == "pending":
        return "pending confirmation"
    if subscriber_status != "active":
        return subscriber_status  # unsubscribed, bounced…: no digest either way
    return "active" if active else "paused"


@app.command()
@friendly
def unsubscribe(
    email: Annotated[str, typer.Argument(help="The subscriber's email address")],
) -> None:
    """Stop every digest to EMAIL."""
    import db
    from alerts import subscriptions as subs

    eng = engine()
    with db.session_scope(eng) as session:
        sub = subs.subscriber_by_email(session, email)
        if sub is None:
            raise UsageError(f"no subscriber with the address {subs.normalize_email(email)}")
        changed = subs.unsubscribe(session, sub, reason="andon unsubscribe")
    out.print(
        f"unsubscribed {sub.email}" if changed else f"{sub.email} was already unsubscribed",
        highlight=False,
    )


def parse_moment(value: str | None) -> Any:
    """`--at`: ISO 8601 with an offset or Z (a time without one is ambiguous); default now."""
    from datetime import UTC, datetime

    import db

    if value is None:
        return db.utcnow()
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not an ISO 8601 time: use e.g. 2026-11-20T08:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise UsageError(f"--at {value!r} has no UTC offset: add Z or one like -05:00")
    return parsed.astimezone(UTC)


@app.command()
@friendly
def digest(
    at: Annotated[
        str | None,
        typer.Option(help="Run as of this moment: ISO 8601 with Z or an offset (default now)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; write and send nothing")
    ] = False,
) -> None:
    """Build and send every digest due at that moment (default now)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from alerts.digests import run_digests
    from alerts.liveness import HttpLiveness
    from alerts.mailers import MailerError

    moment = parse_moment(at)
    eng = engine()
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
        disable=not err.is_terminal,
    )  # fmt: skip
    tasks: dict[str, Any] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(
                {"claim": "due searches", "send": "sending"}.get(stage, stage), total=total
            )
        progress.update(tasks[stage], completed=done, total=total)

    try:
        with progress:
            summary = run_digests(
                settings(), eng, at=moment, dry_run=dry_run, on_progress=on_progress,
                liveness=None if dry_run else HttpLiveness.from_settings(settings()),
            )  # fmt: skip
    except MailerError as exc:
        fail(str(exc), 1)
    if dry_run:
        for p in summary.planned:
            verb = "would resend" if p.resumed else "would send"
            jobs = "job" if p.job_count == 1 else "jobs"
            out.print(
                f"{verb} {p.job_count} {jobs} to {p.email} for “{p.search_name}” ({p.period_key})",
                highlight=False,
            )
            for title in p.titles:
                out.print(f"  - {title}", highlight=False)
    out.print(("dry run: " if dry_run else "") + summary.line(), highlight=False)
    if summary.stopped:
        fail(summary.stopped, 1)
    if summary.failed:
        raise typer.Exit(1)
