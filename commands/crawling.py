"""`andon crawl`, `andon run` and `andon demo`: crawl sources, run the schedule, walk the demo."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands.base import UsageError, app, engine, err, friendly, out, settings


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
