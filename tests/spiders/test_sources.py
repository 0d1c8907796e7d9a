"""The sources file: loading, validation messages and schedules."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from config import DEFAULT_SOURCES
from spiders.registry import SPIDERS
from spiders.sources import (
    SourcesError,
    load_sources,
    parse_schedule,
    parse_sources,
)


def one(**entry):
    return parse_sources({"sources": [entry]})[0]


def test_bundled_sources_load():
    sources = load_sources(DEFAULT_SOURCES)
    kinds = {s.kind for s in sources}
    assert {"workday", "smartrecruiters", "greenhouse", "himalayas", "jsonld", "rss"} <= kinds
    workday = [s for s in sources if s.kind == "workday"]
    assert len(workday) >= 10
    assert all(s.search == "production manager" for s in workday)
    hitachi = next(s for s in sources if s.name == "hitachi-energy")
    assert not hitachi.unverified
    assert next(s for s in sources if s.name == "boeing").unverified
    bosch = next(s for s in sources if s.kind == "smartrecruiters")
    assert bosch.option("company") == "BoschGroup"


def test_bundled_sources_cover_the_manufacturers_kinds():
    sources = load_sources(DEFAULT_SOURCES)
    boards = [s for s in sources if s.kind not in ("himalayas", "rss")]
    assert len(boards) >= 60
    kinds = {s.kind for s in sources}
    assert {"successfactors", "oracle_rc", "eightfold", "icims", "lever"} <= kinds
    # nothing in the file is confirmed by a recorded response except the Hitachi Energy board
    confirmed = {s.name for s in sources if not s.unverified}
    assert confirmed <= {"hitachi-energy", "bosch", "himalayas-search", "himalayas-rss"}
    assert len({s.name for s in sources}) == len(sources)
    # every company board names the employer (no silent "no_company" drops)
    assert all(s.option("company") for s in boards)


def test_entry_fields_and_options():
    s = one(
        name="acme",
        kind="greenhouse",
        board="acme",
        company="Acme",
        base_url="http://127.0.0.1:8801/",
        allow_private=True,
        schedule="every 6h",
    )
    assert s.base_url == "http://127.0.0.1:8801"
    assert s.options == {"board": "acme", "company": "Acme"}
    assert s.parsed_schedule == ("interval", 6 * 3600)
    assert hash(s)  # frozen and hashable despite the options dict


def test_default_schedule_per_kind():
    for cls in SPIDERS.values():
        assert parse_schedule(cls.default_schedule)
    lever = one(name="x", kind="lever", site="x", company="X")
    assert lever.schedule == SPIDERS["lever"].default_schedule == "every 12h"
    assert one(name="j", kind="jsonld", sitemap="https://x/s.xml").schedule == "daily"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 12h", ("interval", 43200)),
        ("every 30m", ("interval", 1800)),
        ("every 1d", ("interval", 86400)),
        ("Every 45 s", ("interval", 45)),
        ("daily", ("interval", 86400)),
        ("0 6 * * mon-fri", ("cron", "0 6 * * mon-fri")),
        ("*/15  *  * * *", ("cron", "*/15 * * * *")),
    ],
)
def test_parse_schedule(text, expected):
    assert parse_schedule(text) == expected


@pytest.mark.parametrize("text", ["every", "every 0h", "twice a day", "* * * *", "every 3w"])
def test_parse_schedule_refuses(text):
    with pytest.raises(ValueError, match=r"schedule|interval"):
        parse_schedule(text)


def test_himalayas_at_most_daily(caplog):
    with caplog.at_level(logging.WARNING):
        assert parse_schedule("every 6h", kind="himalayas") == ("interval", 86400)
        assert parse_schedule("*/30 * * * *", kind="himalayas") == ("interval", 86400)
    assert "too frequent" in caplog.text
    assert parse_schedule("15 4 * * *", kind="himalayas") == ("cron", "15 4 * * *")
    assert parse_schedule("every 2d", kind="himalayas") == ("interval", 2 * 86400)
    s = one(name="h", kind="himalayas", schedule="every 1h")
    assert s.schedule == "daily"
    assert s.parsed_schedule == ("interval", 86400)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"name": "a", "kind": "nope"}], "source #1 'a': unknown kind 'nope'"),
        ([{"kind": "greenhouse", "board": "x"}], "source #1: `name` is required"),
        ([{"name": "a", "kind": "greenhouse"}], "'a': kind 'greenhouse' needs `board`"),
        ([{"name": "a", "kind": "jsonld"}], "needs `start_urls` or `sitemap`"),
        ([{"name": "a", "kind": "smartrecruiters"}], "needs `company`"),
        ([{"name": "a", "kind": "workday"}], "needs `url`"),
        (
            [
                {"name": "a", "kind": "lever", "site": "x", "company": "X"},
                {"name": "a", "kind": "lever", "site": "y", "company": "Y"},
            ],
            "source #2 'a': duplicate name 'a'",
        ),
        ([{"name": "a", "kind": "greenhouse", "boards": "x"}], "unknown key(s) boards"),
        (
            [{"name": "a", "kind": "greenhouse", "board": "x", "base_url": "http://h:1/api"}],
            "no path",
        ),
        (
            [{"name": "a", "kind": "greenhouse", "board": "x", "base_url": "ftp://h"}],
            "must be http(s)://host",
        ),
        ([{"name": "a", "kind": "rss", "feed": "file:///etc/passwd"}], "not an http(s) URL"),
        ([{"name": "a", "kind": "jsonld", "start_urls": ["data:text/html,x"]}], "not an http(s)"),
        ([{"name": "a", "kind": "workday", "url": "https://x", "schedule": "often"}], "often"),
        ([{"name": "a", "kind": "jsonld", "sitemap": "https://x", "link_pattern": "("}], "regex"),
        (
            [{"name": "a", "kind": "lever", "site": "x", "company": "X", "unverified": "yes"}],
            "true or false",
        ),
    ],
)
def test_validation_errors_name_the_entry(entries, message):
    with pytest.raises(SourcesError) as err:
        parse_sources({"sources": entries}, origin="my.toml")
    assert str(err.value).startswith("my.toml: source #")
    assert message in str(err.value)


def test_load_sources_file_errors(tmp_path: Path):
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[sources]\nname=", encoding="utf-8")
    with pytest.raises(SourcesError, match="not valid TOML"):
        load_sources(bad)
    empty = tmp_path / "empty.toml"
    empty.write_text("title = 'x'\n", encoding="utf-8")
    with pytest.raises(SourcesError, match="no \\[\\[sources\\]\\] entries"):
        load_sources(empty)
