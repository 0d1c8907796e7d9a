"""The demo's closing summary: postings kept and dropped per source, digests written, where to look."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from demo.runner import DemoResult


def print_summary(result: DemoResult, out: Console) -> None:
    table = Table(title="crawled (every kind, from the demo's loopback server)")
    for col in ("source", "kind", "fetched", "kept", "dropped", "new", "merged", "status"):
        table.add_column(col, justify="left" if col in ("source", "kind", "status") else "right")
    for s in result.sources:
        table.add_row(
            s.name, s.kind, str(s.fetched), str(s.kept), str(s.dropped), str(s.new),
            str(s.merged), s.status,
        )  # fmt: skip
    out.print(table)
    merged = sum(s.merged for s in result.sources)
    dropped = sum(s.dropped for s in result.sources)
    out.print(
        f"{result.postings_open} postings stored; {dropped} listings dropped as not production "
        f"management (software, video, sales …); {merged} merged into a job already seen on "
        "another source",
        highlight=False,
    )
    out.print()
    digests = Table(title=f"digests sent as of {result.at:%Y-%m-%d %H:%M} UTC (file mailer)")
    for col in ("subscriber", "saved search", "schedule", "jobs", "html"):
        digests.add_column(col, overflow="fold")
    for d in result.digests:
        page = d.html.relative_to(result.folder) if d.html else "-"
        digests.add_row(d.email, d.search, d.schedule, str(d.jobs), str(page))
    out.print(digests)
    for d in result.digests:
        if d.titles:
            out.print(f"[bold]{d.email}[/]", highlight=False)
            for title in d.titles:
                out.print(f"  · {title}", highlight=False, markup=False)
    folder = result.folder
    out.print()
    out.print("[bold]Where to look[/]")
    lines = [
        f"  digests as web pages:  {folder / 'digests'}/*.html  (open one in a browser)",
        f"  the emails (.eml):     {folder / 'outbox'}",
        f"  the database:          {folder / 'andon.db'}",
        f"  the sources file:      {folder / 'sources.toml'}",
    ]
    for line in lines:
        out.print(line, highlight=False, markup=False)
    out.print()
    # soft_wrap: a command is copied whole, never cut into lines
    out.print("[bold]The web app[/] (the emails' manage and unsubscribe links work against it):")
    out.print(f"  {result.serve_command}", highlight=False, markup=False, soft_wrap=True)
    out.print(f"  then open {result.base_url}/jobs", highlight=False, markup=False)
    out.print("[bold]Search the demo's jobs[/]:")
    out.print(f"  {result.listings_command}", highlight=False, markup=False, soft_wrap=True)
    out.print(f"done in {result.elapsed_s:.1f}s", highlight=False)
