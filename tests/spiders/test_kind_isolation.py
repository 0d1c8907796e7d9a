"""A kind is one spider file: no other production file names it, and its metadata is complete."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from spiders.addsource import recognise
from spiders.base import JobSpider
from spiders.registry import SPIDERS, discover, keys_table, recognition_order
from spiders.sources import COMMON_KEYS, parse_schedule

PROJECT = Path(__file__).resolve().parents[2]
# Files that may name kinds: the bundled sources, the docs, the offline demo, tests and benches.
ALLOWED = ("tests/", "bench/", "demo/", "sources.toml", "README.md", "uv.lock")
TEXT = (".py", ".toml", ".html", ".txt", ".cfg", ".ini", ".sql", ".j2", ".css", ".js")
# Kinds added with the one-file contract: not even a comment elsewhere names them.
NEW_KINDS = ("successfactors", "oracle_rc", "eightfold", "icims")


def production_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        PROJECT / name
        for name in listed
        if name.endswith(TEXT) and not name.startswith(ALLOWED) and (PROJECT / name).is_file()
    ]


def test_no_production_file_tables_a_kind():
    """A kind name as a string literal outside its spider is a table or a branch on the kind.
    (The generic kinds are named after formats, "rss" also being an XML tag name: not checked.)"""
    vendor_kinds = [kind for kind, cls in SPIDERS.items() if not cls.recognition_rank]
    offenders = []
    for path in production_files():
        if path.suffix != ".py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for kind in vendor_kinds:
            if path == PROJECT / "spiders" / f"{kind}.py":
                continue
            if re.search(rf"[\"']{re.escape(kind)}[\"']", text):
                offenders.append(f"{path.relative_to(PROJECT)}: {kind!r}")
    assert not offenders


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_new_kinds_appear_only_in_their_spider(kind):
    assert kind in SPIDERS, f"{kind} has no spider"
    word = re.compile(rf"(?<![a-z0-9]){re.escape(kind)}(?![a-z0-9])", re.IGNORECASE)
    own = PROJECT / "spiders" / f"{kind}.py"
    offenders = [
        str(p.relative_to(PROJECT))
        for p in production_files()
        if p != own and word.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert not offenders


def test_discovery_finds_every_spider_module():
    found = discover()
    assert found == SPIDERS
    modules = {p.stem for p in (PROJECT / "spiders").glob("*.py")}
    assert {cls.__module__.split(".")[1] for cls in found.values()} <= modules
    for kind, cls in found.items():
        assert cls.kind == kind and issubclass(cls, JobSpider)
        assert cls.__module__ == f"spiders.{kind}"


@pytest.mark.parametrize("kind", sorted(SPIDERS))
def test_kind_metadata_is_complete(kind):
    cls = SPIDERS[kind]
    assert cls.__doc__
    assert isinstance(cls.keys, frozenset) and not (cls.keys & COMMON_KEYS - {"company"})
    for group in cls.required:
        assert group and all(k in cls.keys | COMMON_KEYS for k in group)
    assert parse_schedule(cls.default_schedule)
    assert cls.min_interval is None or cls.min_interval > 0
    assert cls.url_patterns, "a kind must recognise the URLs `andon sources add` is given"
    for pattern in cls.url_patterns:
        re.compile(pattern)


def test_generic_kinds_are_tried_last():
    order = [cls.kind for cls in recognition_order()]
    generic = [cls.kind for cls in recognition_order() if cls.recognition_rank]
    assert order[-len(generic) :] == generic
    assert order.index("rss") < order.index("jsonld")


@pytest.mark.parametrize("kind", sorted(SPIDERS))
def test_example_url_is_recognised_as_its_kind(kind):
    cls = SPIDERS[kind]
    assert cls.example_url, f"{kind} has no example_url: sources add and the README need one"
    found, keys = recognise(cls.example_url)
    assert found is cls
    assert keys == cls.entry_from_url(cls.example_url)


def test_readme_documents_sources_commands_and_every_kinds_keys():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "andon sources add URL" in readme and "andon sources check" in readme
    block = re.search(r"<!-- kinds:begin -->\n(.*?)<!-- kinds:end -->", readme, re.S)
    assert block is not None
    assert block.group(1) == keys_table(), "regenerate with `uv run python -m spiders.registry`"
    for kind in SPIDERS:
        assert f"| `{kind}` |" in block.group(1)


KIND_AGNOSTIC = (
    "spiders/sources.py",
    "spiders/registry.py",
    "spiders/base.py",
    "spiders/probe.py",
    "spiders/addsource.py",
    "spiders/fields.py",
    "pipeline/salary.py",
    "pipeline/dates.py",
)


@pytest.mark.parametrize("name", KIND_AGNOSTIC)
def test_kind_agnostic_modules_name_no_kind(name):
    """The loader, registry, base, probes and the pipeline's readers work from the metadata only."""
    text = (PROJECT / name).read_text(encoding="utf-8")
    for kind in SPIDERS:
        if SPIDERS[kind].recognition_rank:
            continue  # "RSS" and "JSON-LD" are formats these modules may mention
        assert not re.search(rf"(?<![a-z0-9]){re.escape(kind)}(?![a-z0-9])", text, re.I), kind
