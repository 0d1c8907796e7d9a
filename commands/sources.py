"""`andon sources add|check`: add a board to the sources file and check that entries work."""

from __future__ import annotations

from typing import Annotated

import typer

from commands.base import UsageError, friendly, out, settings
from commands.crawling import load_chosen_sources

sources_app = typer.Typer(help="Add and check the sources file's boards.", no_args_is_help=True)


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
