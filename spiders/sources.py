"""The sources file: `Source` entries loaded and validated from TOML, and their crawl schedules."""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from spiders.netguard import check_entry_addresses

logger = logging.getLogger(__name__)

# Keys every entry may carry, whatever its kind; a kind adds its own (`JobSpider.keys`), and
# anything else is an error, so a typo ("boards = ...") never becomes a silently empty crawl.
COMMON_KEYS = frozenset(
    {
        "name",
        "kind",
        "url",
        "search",
        "schedule",
        "base_url",
        "unverified",
        "company",
        "attribution",
        "allow_private",
    }
)
# Common keys a spider reads through `Source.option` as well.
_OPTION_KEYS = frozenset({"company", "attribution"})

DAY = 24 * 3600

Schedule = tuple[Literal["interval"], int] | tuple[Literal["cron"], str]


class SourcesError(ValueError):
    """A sources file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Source:
    """One entry of the sources file: which spider kind crawls what, and how often.

    `options` holds the kind-specific keys (board, company, site, tenant, start_urls, sitemap,
    feed, facets, ...). `base_url` (scheme://host[:port]) replaces scheme, host and port of every
    request the spider sends for this source; tests and mirrors use it.
    """

    name: str
    kind: str
    url: str | None = None
    search: str | None = None
    schedule: str = "daily"
    base_url: str | None = None
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    unverified: bool = False
    allow_private: bool = False

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    @property
    def parsed_schedule(self) -> Schedule:
        return parse_schedule(self.schedule, kind=self.kind)


_INTERVAL = re.compile(r"^every\s+(\d+)\s*([smhd])$", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": DAY}
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?]+$")


def parse_schedule(text: str, *, kind: str | None = None) -> Schedule:
    """`"every 12h"`/`"every 30m"`/`"every 1d"`/`"daily"` → ("interval", seconds); 5-field cron → ("cron", expr).

    With a `kind` whose source asks for a minimum interval (its spider's `min_interval`), a shorter
    interval is raised to the minimum, and a cron expression that could fire more than once a
    day is replaced by a daily interval; both log a warning.
    """
    raw = text.strip()
    lowered = raw.lower()
    schedule: Schedule
    if lowered in ("daily", "every day"):
        schedule = ("interval", DAY)
    elif lowered in ("hourly", "every hour"):
        schedule = ("interval", 3600)
    elif m := _INTERVAL.match(lowered):
        seconds = int(m.group(1)) * _UNIT[m.group(2)]
        if seconds <= 0:
            raise ValueError(f"schedule {text!r}: the interval must be positive")
        schedule = ("interval", seconds)
    else:
        fields = raw.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(
                f"schedule {text!r} is neither 'every <N><s|m|h|d>', 'daily' "
                "nor a 5-field cron expression"
            )
        schedule = ("cron", " ".join(fields))
    minimum = _min_interval(kind)
    if minimum is None:
        return schedule
    if schedule[0] == "interval" and schedule[1] < minimum:
        logger.warning(
            "schedule %r is too frequent for %s sources: raised to every %dh",
            text,
            kind,
            minimum // 3600,
        )
        return ("interval", minimum)
    if schedule[0] == "cron":
        minute, hour = schedule[1].split()[:2]
        if not (minute.isdigit() and hour.isdigit()):
            logger.warning(
                "cron schedule %r may fire more than once a day; %s sources run daily",
                text,
                kind,
            )
            return ("interval", minimum)
    return schedule


def _spider_class(kind: Any) -> Any:
    """The spider class of a kind (imported late: the spiders import this module)."""
    from spiders.registry import SPIDERS

    if not isinstance(kind, str) or kind not in SPIDERS:
        raise ValueError(f"unknown kind {kind!r}; known kinds: {', '.join(sorted(SPIDERS))}")
    return SPIDERS[kind]


def _min_interval(kind: str | None) -> int | None:
    if not kind:
        return None
    from spiders.registry import SPIDERS

    cls = SPIDERS.get(kind)
    return cls.min_interval if cls is not None else None


def check_base_url(value: str) -> str:
    """Accept only `http(s)://host[:port]` (an optional trailing slash); return it without the slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url {value!r} must be http(s)://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"base_url {value!r} must be scheme, host and port only (no path)")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"base_url {value!r}: {exc}") from None
    return value.rstrip("/")


def check_http_url(value: Any, key: str) -> str:
    """Only http and https: an operator's `file:///etc/passwd` must never be fetched."""
    if not isinstance(value, str):
        raise ValueError(f"`{key}` must be a string URL, not {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"`{key}` = {value!r} is not an http(s) URL")
    return value


def _check_keys(entry: dict[str, Any], cls: Any) -> None:
    """Unknown keys, required keys and URL-valued keys, from the kind's metadata."""
    kind = cls.kind
    allowed = COMMON_KEYS | cls.keys
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)} for kind {kind!r}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    for group in cls.required:
        if not any(entry.get(key) for key in group):
            wanted = " or ".join(f"`{k}`" for k in group)
            raise ValueError(f"kind {kind!r} needs {wanted}")
    for key in ("url", *cls.url_keys):
        if entry.get(key) is not None:
            check_http_url(entry[key], key)


def _check_common(entry: dict[str, Any]) -> None:
    """The types of the common keys."""
    for key in ("search", "company", "attribution"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise ValueError(f"`{key}` must be a string")
    for key in ("unverified", "allow_private"):
        if not isinstance(entry.get(key, False), bool):
            raise ValueError(f"`{key}` must be true or false")
    if entry.get("base_url") is not None and not isinstance(entry["base_url"], str):
        raise ValueError("`base_url` must be a string")
    if not isinstance(entry.get("schedule", ""), str):
        raise ValueError("`schedule` must be a string")


def _schedule_of(entry: dict[str, Any], cls: Any) -> str:
    text = str(entry.get("schedule", cls.default_schedule)).strip()
    parsed = parse_schedule(text)  # raises ValueError with the reason
    if cls.min_interval and parse_schedule(text, kind=cls.kind) != parsed:
        return "daily"  # the warning was logged by parse_schedule
    return text


def _source_from_entry(entry: Any, index: int) -> Source:
    if not isinstance(entry, dict):
        raise ValueError("each [[sources]] entry must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name):
        raise ValueError("`name` is required: letters, digits, '.', '_' and '-' only")
    cls = _spider_class(entry.get("kind"))
    _check_keys(entry, cls)
    _check_common(entry)
    schedule = _schedule_of(entry, cls)
    cls.check_entry(entry)
    base_url = entry.get("base_url")
    if base_url is not None:
        base_url = check_base_url(base_url)
    check_entry_addresses(entry)  # no private address without allow_private = true
    options = {k: v for k, v in entry.items() if k not in COMMON_KEYS - _OPTION_KEYS}
    return Source(
        name=name,
        kind=cls.kind,
        url=entry.get("url"),
        search=entry.get("search") or None,
        schedule=schedule,
        base_url=base_url,
        options=cls.prepare_options(options),
        unverified=entry.get("unverified", False),
        allow_private=entry.get("allow_private", False),
    )


def parse_sources(data: dict[str, Any], *, origin: str = "<sources>") -> list[Source]:
    """Validate an already-parsed sources document (`{"sources": [...]}`)."""
    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{origin}: no [[sources]] entries")
    sources: list[Source] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        label = entry.get("name") if isinstance(entry, dict) else None
        where = f"{origin}: source #{index}" + (f" {label!r}" if label else "")
        try:
            source = _source_from_entry(entry, index)
        except ValueError as exc:
            raise SourcesError(f"{where}: {exc}") from None
        if source.name in seen:
            raise SourcesError(f"{where}: duplicate name {source.name!r}")
        seen.add(source.name)
        sources.append(source)
    return sources


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a sources TOML file; any problem raises `SourcesError` naming the entry."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML: {exc}") from None
    return parse_sources(data, origin=str(path))
