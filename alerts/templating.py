"""The one Jinja2 environment factory: emails and web pages share its safety settings and filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.ext import Extension

from alerts.formatting import (
    format_date,
    money,
    money_usd,
    oneline,
    posted,
    safe_url,
    workplace,
)
from pipeline.facts import fact_labels

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# safe_url: autoescape does not stop href="javascript:…"; every scraped link goes through it.
FILTERS: dict[str, Callable[..., Any]] = {
    "money": money,
    "money_usd": money_usd,
    "date": format_date,
    "posted": posted,
    "safe_url": safe_url,
    "oneline": oneline,
    "workplace": workplace,
    "facts": fact_labels,  # (label, quote) per plant fact: the quote goes in a title attribute
}


def make_environment(
    *,
    extensions: Sequence[type[Extension]] = (),
    filters: Mapping[str, Callable[..., Any]] | None = None,
) -> Environment:
    """A Jinja2 environment over templates/ with autoescape on, strict undefineds, our filters.

    Autoescape is explicitly True for every template: select_autoescape() misses names like
    *.html.j2, and every value shown (titles, companies, queries) comes from scrapers or
    visitors. The .txt email templates switch it off inside themselves.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code; no stat() per render.
        auto_reload=False,
        extensions=list(extensions),
    )
    env.filters.update(FILTERS)
    env.filters.update(filters or {})
    return env
