"""The `andon` command: parses arguments, calls the packages, prints with rich."""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from pipeline.relevance_cli import app as relevance_app

if TYPE_CHECKING:
    from config import Settings


def _metavar(param: Any) -> str:
    """What `--help` shows after an option: nothing for a flag, TEXT/NUMBER/INTEGER for a value."""
    if getattr(param, "is_flag", False):
        return ""
    label = str(param.display_type(None)).strip("<>").removeprefix("list[").removesuffix("]")
    return {"str": "TEXT", "float": "NUMBER", "int": "INTEGER"}.get(label, label.upper())


class _CleanHelp:
    """Typer prints `--dry-run <bool>` and `<list[str]>`; show flags bare and values by kind."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if param.param_type_name == "argument":
                # the name column says it (QUERY, NAMES...); a type column would repeat it
                param.display_type_rich = lambda ctx: ""
                param.metavar = param.metavar or param.name.upper()
            elif param.metavar is None:
                param.metavar = _metavar(param)
        super().format_help(ctx, formatter)  # type: ignore[misc]


class CleanHelpCommand(_CleanHelp, typer.core.TyperCommand):
    """A command whose `--help` shows proper metavars."""


class CleanHelpGroup(_CleanHelp, typer.core.TyperGroup):
    """A group whose `--help` shows proper metavars."""


def clean_help(*apps: typer.Typer) -> None:
    """Give every command of `apps` (and the apps themselves) the clean `--help`.

    Plain (click-style) help: Rich's help formatter imports markdown, syntax and traceback
    support, about 0.4 s of CPU before `andon --help` prints a line.
    """
    for each in apps:
        each.rich_markup_mode = None
        if each.info.cls in (None, typer.core.TyperGroup):
            each.info.cls = CleanHelpGroup
        for info in each.registered_commands:
            if info.cls in (None, typer.core.TyperCommand):
                info.cls = CleanHelpCommand


# `andon --help` and quick commands answer fast: sqlalchemy, sqlmodel, scrapy, the database and
# the packages are imported inside the commands that use them (a test keeps it so).

app = typer.Typer(
    help="andon — job alerts for production managers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _LazyConsole:
    """A `SafeConsole` made on first use: `andon --help` need not import Rich's console."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from pipeline.terminal import SafeConsole

            kwargs = dict(self._kwargs)
            if kwargs.pop("pipe_width", False):
                # Not a terminal (a pipe, CI, a test): wide enough that tables keep their words.
                kwargs["width"] = None if sys.stdout.isatty() else 160
            self._console = SafeConsole(**kwargs)
        return getattr(self._console, name)


# Safe consoles: names, titles and errors quote scraped and user text; no escape sequence of
# theirs reaches the terminal (pipeline.terminal).
out: Any = _LazyConsole(soft_wrap=True, pipe_width=True)
err: Any = _LazyConsole(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(Exception):
    """A user's mistake: one line, exit 2."""


def fail(message: str, code: int = 1) -> None:
    from rich.markup import escape

    # escaped: a message may quote "[[sources]]", which rich would take for markup
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    raise typer.Exit(code)


def friendly(fn: F) -> F:
    """Turn known errors into one line on stderr: exit 2 for a user's mistake, 1 for a failure."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pydantic import ValidationError

        from alerts.cadence import CadenceError
        from alerts.subscriptions import SubscriptionError
        from pipeline.terminal import install_log_sanitizing
        from search.sql import SearchError

        install_log_sanitizing()  # calling it twice is safe
        try:
            return fn(*args, **kwargs)
        except (SearchError, UsageError, SubscriptionError, CadenceError) as exc:
            fail(str(exc), 2)
        except _database_error() as exc:
            fail(str(exc), 1)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            fail(f"bad setting {where}: {first.get('msg')}", 2)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except _operational_errors() as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            fail(f"database error: {reason}", 1)
        return None

    return wrapper  # type: ignore[return-value]


def _database_error() -> type[BaseException]:
    import db

    return db.DatabaseError


def _operational_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    return (OperationalError, ProgrammingError)


@functools.cache
def settings() -> Settings:
    from config import load_settings

    return load_settings()


def engine(*, check: bool = True) -> Any:
    import db

    eng = db.make_engine(settings().database_url)
    if check:
        db.ensure_current(eng)
    return eng


@app.command()
@friendly
def init() -> None:
    """Create or upgrade the database."""
    import db

    eng = engine(check=False)
    before, after = db.migrate(eng)
    where = db.safe_url(eng)
    if before == after:
        out.print(f"database at {where} is up to date (revision {after})", highlight=False)
    elif before is None:
        out.print(f"created the database at {where} (revision {after})", highlight=False)
    else:
        out.print(f"upgraded the database at {where} from {before} to {after}", highlight=False)


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
    typer.Option(help="1st, 2nd, 3rd (day/swing/night), rotating, 12-hour, weekends, on-call (repeatable)"),
]
MinTeamOpt = Annotated[
    int | None, typer.Option(help="Only jobs that say they lead at least this many people")
]
StandardOpt = Annotated[
    list[str] | None, typer.Option(help="e.g. gmp, haccp, 'ISO 9001', 'IATF 16949' (repeatable)")
]


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


@app.command()
@friendly
def crawl(
    names: Annotated[list[str] | None, typer.Argument(help="Only these sources (by name)")] = None,
    sources: Annotated[str | None, typer.Option("--sources", help="A sources TOML file")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log")] = False,
) -> None:
    """Crawl now: a progress display, then a table per source."""
    chosen = load_chosen_sources(sources, names or [])
    engine()  # refuse an un-initialised database before starting any download
    # each source's problems are listed once under the table; the log is for --verbose
    reports = run_with_progress(chosen, {"LOG_LEVEL": "INFO" if verbose else "CRITICAL"})
    _crawl_table(reports)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


def load_chosen_sources(path: str | None, names: list[str]) -> list[Any]:
    """The sources file's entries, only `names` when given; one clear line when it is wrong."""
    from pathlib import Path

    from spiders.sources import SourcesError, load_sources

    file = Path(path) if path else settings().sources
    try:
        every = load_sources(file)
    except SourcesError as exc:
        raise UsageError(str(exc)) from None
    except FileNotFoundError:
        raise UsageError(f"no sources file at {file}") from None
    if not names:
        return every
    by_name = {s.name: s for s in every}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(
            f"no source named {', '.join(unknown)} in {file} (known: {', '.join(by_name)})"
        )
    return [by_name[n] for n in names]


def run_with_progress(chosen: list[Any], extra: dict[str, Any] | None = None) -> list[Any]:
    """Crawl with a live progress display on stderr (plain when not a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from spiders.runner import run_crawl

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(), console=err, disable=not err.is_terminal,
    )  # fmt: skip
    tasks = {s.name: progress.add_task(s.name, total=None, info="") for s in chosen}

    def on_progress(name: str, counts: dict[str, Any]) -> None:
        info = f"{counts['items_scraped']} kept · {counts['items_dropped']} dropped · {counts['responses']} responses"
        progress.update(tasks[name], info=info)

    settings_extra = {**settings().scrapy_overrides, **(extra or {})}
    with progress:
        reports = run_crawl(
            chosen, app=settings(), extra_settings=settings_extra, on_progress=on_progress
        )
    return reports


def _crawl_table(reports: list[Any]) -> None:
    from rich.table import Table

    table = Table(title="crawl")
    for col in (
        "source",
        "kind",
        "fetched",
        "kept",
        "dropped",
        "new",
        "updated",
        "closed",
        "errors",
        "time",
    ):
        table.add_column(col, justify="right" if col not in ("source", "kind") else "left")
    for r in reports:
        s = r.stats
        kept = (
            s.get("andon/store/new", 0)
            + s.get("andon/store/updated", 0)
            + s.get("andon/store/merged", 0)
        )
        table.add_row(
            r.name,
            r.kind,
            str(r.items_scraped + r.items_dropped),
            str(kept),
            str(r.items_dropped),
            str(s.get("andon/store/new", 0)),
            str(s.get("andon/store/updated", 0) + s.get("andon/store/merged", 0)),
            str(s.get("andon/store/closed", 0)),
            str(len(r.errors)),
            f"{r.elapsed_s:.1f}s",
        )
    out.print(table)
    for r in reports:
        for e in r.errors:
            err.print(f"[red]{r.name}:[/] {e}", highlight=False)


@app.command()
@friendly
def run(
    sources: Annotated[str | None, typer.Option("--sources", help="A sources TOML file")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging")] = False,
) -> None:
    """The scheduler, in the foreground until Ctrl-C or SIGTERM: crawls on schedule, digests every few minutes."""
    from pathlib import Path

    import scheduler

    load_chosen_sources(sources, [])  # a broken sources file is one line now, not a traceback later
    eng = engine()
    scheduler.configure_logging(verbose)
    from alerts.mailers import mail_problem

    if problem := mail_problem(settings()):
        err.print(f"digests will not be sent: {problem}", highlight=False, markup=False)
    path = Path(sources) if sources else settings().sources
    code = scheduler.run_forever(settings(), eng, sources_path=path)
    if code:
        raise typer.Exit(code)


@app.command()
@friendly
def demo(
    dir: Annotated[
        str, typer.Option("--dir", help="The demo's folder (wiped and recreated)")
    ] = "andon-demo",
) -> None:
    """The whole flow offline: a loopback job-board server, crawl every kind, subscribe, send digests."""
    from pathlib import Path

    from demo.report import print_summary
    from demo.runner import DemoError, run_demo

    try:
        result = run_demo(
            Path(dir), say=lambda line: err.print(line, highlight=False, markup=False)
        )
    except DemoError as exc:
        raise UsageError(str(exc)) from None
    print_summary(result, out)


@app.command()
@friendly
def status() -> None:
    """Sources with last crawl health, counts, last digests."""
    from rich.table import Table

    import db
    from alerts import stats
    from alerts.feedback import counts_lines, not_relevant_counts
    from pipeline import health

    eng = engine()
    with db.session_scope(eng) as session:
        postings = health.posting_counts(session)
        sources = health.source_health(session)
        subscribers = stats.subscriber_counts(session)
        searches = stats.search_counts(session)
        digests = stats.digest_counts(session)
        recent = stats.recent_digests(session, limit=5)
        feedback = not_relevant_counts(session)
    out.print(
        f"postings: {postings.get('open', 0)} open, {postings.get('closed', 0)} closed",
        highlight=False,
    )
    subs = ", ".join(f"{n} {s}" for s, n in sorted(subscribers.items())) or "none"
    out.print(
        f"subscribers: {subs}; saved searches: {searches['active']} active, {searches['paused']} paused",
        highlight=False,
    )
    table = Table(title="sources")
    for col in ("source", "kind", "last run", "status", "kept", "new", "errors", "health"):
        table.add_column(col)
    for h in sources:
        table.add_row(
            h.source,
            h.kind,
            h.last_started.strftime("%Y-%m-%d %H:%M") if h.last_started else "never",
            h.last_status or "",
            str(h.last_kept),
            str(h.last_new),
            str(h.last_errors),
            health_cell(h),
        )
    if sources:
        out.print(table)
    else:
        out.print("sources: no crawl yet (run `andon crawl`)")
    for line in _schedule_lines():
        out.print(line, highlight=False)
    dig = ", ".join(f"{n} {s}" for s, n in sorted(digests.items())) or "none yet"
    out.print(f"digests: {dig}", highlight=False)
    from alerts.mailers import mail_status_line

    out.print(mail_status_line(settings()), highlight=False, markup=False)
    for d in recent:
        when = (d.sent_at or d.created_at).strftime("%Y-%m-%d %H:%M")
        out.print(
            f"  #{d.id} search {d.saved_search_id} {d.period_key}: {d.status}, {d.job_count} jobs, {when}",
            highlight=False,
        )
    for line in counts_lines(feedback):
        out.print(line, highlight=False, markup=False)


def health_cell(h: Any) -> str:
    """`status`'s health column (Rich markup): a flag, the last run's failure and its error, or ok."""
    from rich.markup import escape

    why = f": {escape(h.last_message)}" if h.last_message else ""
    if h.flag:
        return f"[red]{escape(h.flag)}[/]{why if h.last_status in ('failed', 'partial') else ''}"
    if h.last_status == "failed":
        return f"[red]failed[/]{why}"
    if h.last_status == "partial":
        return f"[yellow]partial[/]{why}"
    return "ok"


def _schedule_lines() -> list[str]:
    return schedule_lines(settings(), engine(check=False))


def schedule_lines(cfg: Any, eng: Any, *, now: Any = None) -> list[str]:
    """`andon status`'s schedule: who leads, each job's next run, what each Scrapyd node runs."""
    import db
    from runtime.status import schedule_status

    st = schedule_status(cfg, eng, now=now)
    lines = [
        f"scheduler: running ({st.leader})"
        if st.leader
        else "scheduler: not running (start it with `andon run`); next runs once it starts:"
    ]
    if st.error:
        return [f"schedule: {st.error}"]
    now = now or db.utcnow()
    for job in st.jobs:
        if job.kind == "crawl":
            last = (
                f"last started {job.last_started:%Y-%m-%d %H:%M} UTC"
                if job.last_started
                else "never crawled"
            )
            when = (
                "overdue: runs right after `andon run` starts"
                if job.overdue
                else _when(job.next_run, now)
            )
            lines.append(f"  {job.id}: {when} ({job.every}; {last})")
        elif job.kind == "digests":
            due = st.next_digest_due
            nxt = f"next saved search due {_when(due, now)}" if due else "no active saved search"
            lines.append(f"  digests: {job.every}; {nxt}")
        else:
            lines.append(f"  sweep: {job.every}, once right after start")
    for node, names in st.nodes.items():
        crawling = ", ".join(sorted(names)) or "idle"
        lines.append(f"  scrapyd {node}: {crawling} ({st.node_states.get(node, '?')})")
    return lines


def _when(at: Any, now: Any) -> str:
    from datetime import timedelta

    delta = at - now
    if delta.total_seconds() < 90:
        return "within a minute"
    if delta < timedelta(hours=2):
        return f"{at:%Y-%m-%d %H:%M} UTC (in {int(delta.total_seconds() // 60)} min)"
    return f"{at:%Y-%m-%d %H:%M} UTC"


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """The web app: subscribe, manage, unsubscribe, browse listings, JSON API, webhooks."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from alerts.logredact import install_log_redaction, with_redaction
    from web.app import create_app

    eng = engine()  # refuse an un-initialised database before listening
    install_log_redaction()
    # The access log prints every path: /manage/<token>, /ops?token=… must come out redacted.
    uvicorn.run(
        create_app(settings(), eng), host=host, port=port, proxy_headers=True,
        log_config=with_redaction(LOGGING_CONFIG),
    )  # fmt: skip


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


sources_app = typer.Typer(help="Add and check the sources file's boards.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(relevance_app, name="relevance")
SourcesOpt = Annotated[str | None, typer.Option("--sources", help="A sources TOML file")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="Send the probe requests to this host instead")
]


@sources_app.command("add")
@friendly
def sources_add(
    url: Annotated[str, typer.Argument(help="A careers page or job-board URL from the browser")],
    name: Annotated[str | None, typer.Option(help="The entry's name")] = None,
    company: Annotated[str | None, typer.Option(help="The employer's name")] = None,
    search: Annotated[str | None, typer.Option(help="Only jobs matching this search")] = None,
    sources: SourcesOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Recognise URL's kind, read it once, and append the entry to the sources file."""
    from pathlib import Path

    from spiders.addsource import AddSourceError, add_source
    from spiders.probe import probe

    path = Path(sources) if sources else settings().sources
    try:
        added = add_source(
            url, path=path, name=name, company=company, search=search, base_url=base_url,
            prober=lambda s: probe(s, app=settings()),
        )  # fmt: skip
    except AddSourceError as exc:
        raise UsageError(str(exc)) from None
    r, entry = added.result, added.entry
    seen = f"{r.postings} posting{'' if r.postings == 1 else 's'}"
    out.print(f"kind: {entry['kind']} · {seen} seen", highlight=False)
    for title in r.titles:
        out.print(f"  - {title}", highlight=False)
    out.print(f"company: {r.company or '(none named by the board)'}", highlight=False)
    out.print(f"added {entry['name']!r} to {added.path}", highlight=False)


@sources_app.command("check")
@friendly
def sources_check(
    names: Annotated[list[str] | None, typer.Argument(help="Only these sources (by name)")] = None,
    sources: SourcesOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Read every entry (or the named ones) once and show which work."""
    from rich.table import Table

    from spiders.probe import probe, with_base_url
    from spiders.sources import SourcesError

    try:
        chosen = with_base_url(load_chosen_sources(sources, names or []), base_url)
    except SourcesError as exc:
        raise UsageError(str(exc)) from None
    results = probe(chosen, app=settings())
    table = Table(title="sources check")
    for col in ("name", "kind", "status", "postings", "error"):
        table.add_column(col, justify="right" if col == "postings" else "left")
    for r in results:
        status = "[green]ok[/]" if r.ok else "[red]error[/]"
        table.add_row(r.name, r.kind, status, str(r.postings) if r.ok else "", r.error)
    out.print(table)
    if any(not r.ok for r in results):
        raise typer.Exit(1)


clean_help(app, sources_app, relevance_app)


def main() -> None:
    """Console-script entry point (each command cleans its log records: see `friendly`)."""
    app()


if __name__ == "__main__":
    main()
