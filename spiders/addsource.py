"""`andon sources add URL`: recognise the kind of a pasted careers URL, probe it, append the entry.

The kind comes from the spider classes' own `entry_from_url` (specific kinds first, then the
generic feed and JSON-LD page kinds); the entry is validated by the same loader as the sources
file, probed with one request (probe mode), refused when it duplicates a board already in the
file or cannot be read, and appended with tomlkit so the file's comments and order survive.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit

from spiders.base import JobSpider
from spiders.probe import ProbeResult
from spiders.registry import recognition_order
from spiders.sources import (
    Source,
    SourcesError,
    check_base_url,
    check_http_url,
    load_sources,
    parse_sources,
)

Prober = Callable[[list[Source]], list[ProbeResult]]


class AddSourceError(ValueError):
    """Why a URL is not added: one line saying why and what to try."""


@dataclass
class Added:
    """An entry appended to the sources file, and what its probe saw."""

    entry: dict[str, Any]
    result: ProbeResult
    path: Path


def recognise(url: str) -> tuple[type[JobSpider], dict[str, Any]]:
    """The spider class that reads `url` and the entry keys it derives from it."""
    try:
        check_http_url(url, "URL")
    except ValueError as exc:
        raise AddSourceError(f"{exc}: paste the careers page's address (https://…)") from None
    for cls in recognition_order():
        keys = cls.entry_from_url(url)
        if keys is not None:
            return cls, keys
    raise AddSourceError(f"no kind reads {url!r}: paste the careers page's address")


def slug(text: str) -> str:
    """A sources-file name from a company, board or host: lowercase letters, digits and '-'."""
    words = re.findall(r"[a-z0-9]+", text.lower()[:200])
    return "-".join(words)[:60] or "source"


def _default_name(cls: type[JobSpider], keys: dict[str, Any], url: str, company: str | None) -> str:
    for key in ("board", "site", "company"):
        if isinstance(keys.get(key), str) and keys[key]:
            return slug(keys[key])
    if company:
        return slug(company)
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    parts = [p for p in host.split(".") if p not in ("careers", "jobs", "career", "com", "www")]
    return slug("-".join(parts[:2]) or cls.kind)


def _unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def _norm(value: Any) -> Any:
    """A board key's value compared case- and scheme-insensitively, without a trailing slash."""
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    text = str(value).strip().lower()
    text = re.sub(r"^https?://(?:www\.)?", "", text)
    return text.rstrip("/")


def _identity(source: Source) -> dict[str, Any]:
    """The board keys of an existing entry, the `url` as the kind would derive it from itself."""
    from spiders.registry import spider_for

    values = dict(source.options)
    if source.url:
        derived = spider_for(source.kind).entry_from_url(source.url) or {}
        values = {**values, **derived, "url": derived.get("url", source.url)}
    return values


def duplicate_of(
    kind: str, keys: dict[str, Any], existing: list[Source], *, search: str | None = None
) -> Source | None:
    """The entry already reading this board: same kind, and every board key both name is equal
    (a kind whose URL names no board, such as a whole job site, compares the search)."""
    for source in existing:
        if source.kind != kind:
            continue
        if not keys:
            if _norm(source.search or "") == _norm(search or ""):
                return source
            continue
        theirs = _identity(source)
        common = [k for k in keys if k in theirs and k != "eu"]
        if common and all(_norm(keys[k]) == _norm(theirs[k]) for k in common):
            return source
    return None


def build_entry(
    url: str,
    *,
    name: str | None,
    company: str | None,
    search: str | None,
    taken: set[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sources entry for a pasted URL (not yet probed) and its board keys (those the URL
    gave); `AddSourceError` when it cannot work."""
    cls, keys = recognise(url)
    entry: dict[str, Any] = {
        "name": name or _unique_name(_default_name(cls, keys, url, company), taken),
        "kind": cls.kind,
    }
    if company:
        entry["company"] = company
    if search:
        entry["search"] = search
    # The URL's own keys win: a `company` taken from a URL is the board's identifier.
    entry.update(keys)
    if entry["name"] in taken:
        raise AddSourceError(f"a source named {entry['name']!r} exists: pass another --name")
    try:
        parse_sources({"sources": [entry]}, origin="the new entry")
    except SourcesError as exc:
        hint = " (pass --company NAME)" if "`company`" in str(exc) else ""
        raise AddSourceError(f"{exc}{hint}") from None
    return entry, keys


def probe_source(entry: dict[str, Any], base_url: str | None) -> Source:
    """The `Source` to probe: the entry, its requests sent to `base_url` when given."""
    probe_entry = dict(entry)
    if base_url:
        try:
            probe_entry["base_url"] = check_base_url(base_url)
        except ValueError as exc:
            raise AddSourceError(f"--base-url: {exc}") from None
        # The operator named this address on the command line for this one request.
        probe_entry["allow_private"] = True
    return parse_sources({"sources": [probe_entry]}, origin="the new entry")[0]


def existing_sources(path: Path) -> list[Source]:
    """The entries of the sources file (none when it does not exist yet)."""
    if not path.exists():
        return []
    try:
        if not tomllib.loads(path.read_text(encoding="utf-8")).get("sources"):
            return []  # only comments so far: the new entry is the first
        return load_sources(path)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AddSourceError(f"{path}: cannot read the sources file: {exc}") from None
    except SourcesError as exc:
        raise AddSourceError(f"{exc} — fix the sources file first") from None


def append_entry(path: Path, entry: dict[str, Any], comment: str) -> None:
    """Append `entry` as a `[[sources]]` table with a comment, keeping everything else as is."""
    if path.exists():
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    else:
        doc = tomlkit.document()
        doc.add(tomlkit.comment("andon sources file: one [[sources]] table per board (README)"))
    table = tomlkit.table()
    table.add(tomlkit.comment(comment))
    for key, value in entry.items():
        table.add(key, value)
    if "sources" in doc:
        tables = doc["sources"]
        if len(tables) and not tomlkit.dumps(doc).endswith("\n\n"):
            tables[-1].add(tomlkit.nl())
        tables.append(table)
    else:
        aot = tomlkit.aot()
        aot.append(table)
        doc.append("sources", aot)
    text = tomlkit.dumps(doc)
    parse_sources(tomlkit.parse(text).unwrap(), origin=str(path))  # never write a broken file
    path.write_text(text, encoding="utf-8")


def add_source(
    url: str,
    *,
    path: Path,
    prober: Prober,
    name: str | None = None,
    company: str | None = None,
    search: str | None = None,
    base_url: str | None = None,
) -> Added:
    """Recognise, check for a duplicate, probe once, append. `AddSourceError` says why not."""
    existing = existing_sources(path)
    entry, board_keys = build_entry(
        url, name=name, company=company, search=search, taken={s.name for s in existing}
    )
    same = duplicate_of(entry["kind"], board_keys, existing, search=entry.get("search"))
    if same is not None:
        raise AddSourceError(
            f"{path} already reads this board as {same.name!r}: "
            f"run `andon sources check {same.name}` to see it"
        )
    [result] = prober([probe_source(entry, base_url)])
    if not result.ok:
        raise AddSourceError(
            f"cannot read {url} as a {entry['kind']} board: {result.error} — open the URL in a "
            "browser to check it lists jobs, or add the entry by hand (README: Sources)"
        )
    day = datetime.now(UTC).date().isoformat()
    seen = f"{result.postings} posting{'s' if result.postings != 1 else ''}"
    company_seen = f", company {result.company!r}" if result.company else ""
    append_entry(path, entry, f"added {day} from {url}: {seen}{company_seen}")
    return Added(entry=entry, result=result, path=path)
