"""The `andon` command: parses arguments, calls the packages, prints with rich.

Each group of commands is a module of `commands/` (listings, crawling, status, subscriptions,
sources; `commands.base` holds the app, the consoles and the error handling they share);
importing them registers their commands on the one Typer app.
"""

from __future__ import annotations

from commands import crawling, listings, setup, status, subscriptions
from commands.base import app, clean_help
from commands.listings import posted_label
from commands.sources import sources_app
from commands.status import schedule_lines
from pipeline.relevance_cli import app as relevance_app

# The commands in the order `andon --help` lists them (import order would be alphabetical).
_ORDER = (setup.init, listings.listings, crawling.crawl, crawling.run, crawling.demo,
          status.status, status.serve, subscriptions.subscribe, subscriptions.searches,
          subscriptions.unsubscribe, subscriptions.digest)  # fmt: skip
app.registered_commands.sort(key=lambda info: _ORDER.index(info.callback))
app.add_typer(sources_app, name="sources")
app.add_typer(relevance_app, name="relevance")
clean_help(app, sources_app, relevance_app)

__all__ = ["app", "main", "posted_label", "schedule_lines"]


def main() -> None:
    """Console-script entry point (each command cleans its log records: see `friendly`)."""
    app()


if __name__ == "__main__":
    main()
