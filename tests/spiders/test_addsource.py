"""`andon sources add` / `andon sources check`: recognising URLs, duplicates, comments kept, probes."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from spiders.addsource import (
    AddSourceError,
    add_source,
    append_entry,
    duplicate_of,
    recognise,
)
from spiders.probe import ProbeResult
from spiders.sources import load_sources, parse_sources
from tests.spiders.mockserver import MockServer

PROJECT = Path(__file__).resolve().parents[2]

# A URL of every existing kind as a person copies it from the browser, the kind and its keys.
URLS = [
    (
        "https://hitachi.wd1.myworkdayjobs.com/en-US/hitachi/job/Zurich/Engineer_R1",
        "workday",
        {"url": "https://hitachi.wd1.myworkdayjobs.com/hitachi"},
    ),
    (
        "https://wd3.myworkdaysite.com/recruiting/acme/External/details/x",
        "workday",
        {"url": "https://wd3.myworkdaysite.com/recruiting/acme/External"},
    ),
    (
        "https://jobs.smartrecruiters.com/Knight/744000-cna",
        "smartrecruiters",
        {"company": "Knight"},
    ),
    ("https://boards.greenhouse.io/amplitude/jobs/123", "greenhouse", {"board": "amplitude"}),
    ("https://job-boards.greenhouse.io/anduril", "greenhouse", {"board": "anduril"}),
    (
        "https://boards.greenhouse.io/embed/job_board?for=acme",
        "greenhouse",
        {"board": "acme"},
    ),
    ("https://jobs.lever.co/idealistconsulting/abc", "lever", {"site": "idealistconsulting"}),
    ("https://jobs.eu.lever.co/acme", "lever", {"site": "acme", "eu": True}),
    ("https://jobs.ashbyhq.com/HighlightTA/x", "ashby", {"board": "HighlightTA"}),
    ("https://himalayas.app/jobs?q=plant+manager", "himalayas", {"search": "plant manager"}),
    ("https://himalayas.app/jobs/rss", "rss", {"feed": "https://himalayas.app/jobs/rss"}),
    (
        "https://weworkremotely.com/remote-jobs.rss",
        "rss",
        {"feed": "https://weworkremotely.com/remote-jobs.rss"},
    ),
    ("https://acme.example/careers/feed", "rss", {"feed": "https://acme.example/careers/feed"}),
    (
        "https://careers.acmefoods.example/careers",
        "jsonld",
        {"start_urls": ["https://careers.acmefoods.example/careers"]},
    ),
    (
        "https://careers.acmefoods.example/sitemap.xml",
        "jsonld",
        {"sitemap": "https://careers.acmefoods.example/sitemap.xml"},
    ),
]


@pytest.mark.parametrize(("url", "kind", "keys"), URLS)
def test_recognise_every_kind(url, kind, keys):
    cls, found = recognise(url)
    assert (cls.kind, found) == (kind, keys)


@pytest.mark.parametrize("url", ["ftp://x.example/jobs", "not a url", "file:///etc/passwd"])
def test_recognise_refuses_non_http(url):
    with pytest.raises(AddSourceError, match="https://"):
        recognise(url)


def test_duplicates_compare_kind_and_normalized_board():
    existing = parse_sources(
        {
            "sources": [
                {"name": "a", "kind": "greenhouse", "board": "Amplitude"},
                {
                    "name": "w",
                    "kind": "workday",
                    "url": "https://hitachi.wd1.myworkdayjobs.com/en-US/hitachi/",
                },
                {"name": "h", "kind": "himalayas", "search": "plant manager"},
            ]
        }
    )
    assert duplicate_of("greenhouse", {"board": "amplitude"}, existing).name == "a"
    assert duplicate_of("greenhouse", {"board": "amplitude2"}, existing) is None
    assert duplicate_of("ashby", {"board": "amplitude"}, existing) is None
    wd = {"url": "http://hitachi.wd1.myworkdayjobs.com/hitachi"}
    assert duplicate_of("workday", wd, existing).name == "w"
    assert duplicate_of("himalayas", {}, existing, search="Plant Manager").name == "h"
    assert duplicate_of("himalayas", {}, existing, search=None) is None


COMMENTED = """\
# Our boards — keep this header
title = "plants"

[[sources]]
# the first one, verified by hand
name = "gh-amplitude"
kind = "greenhouse"
board = "amplitude"  # from boards.greenhouse.io/amplitude

# a note between entries
[[sources]]
name = "knight"
kind = "smartrecruiters"
company = "Knight"
"""


def test_append_keeps_comments_and_order(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    entry = {"name": "idealist", "kind": "lever", "site": "idealistconsulting", "company": "I"}
    append_entry(path, entry, "added from https://jobs.lever.co/idealistconsulting")
    text = path.read_text(encoding="utf-8")
    assert text.startswith(COMMENTED)
    assert text[len(COMMENTED) :].lstrip("\n").startswith("[[sources]]\n# added from https://")
    assert [s.name for s in load_sources(path)] == ["gh-amplitude", "knight", "idealist"]


def fake_prober(result: ProbeResult | None = None, error: str | None = None):
    calls = []

    def prober(sources):
        calls.extend(sources)
        [source] = sources
        r = result or ProbeResult(name=source.name, kind=source.kind, total=4, titles=["A"])
        if error:
            r.errors.append(f"{source.name} ({source.kind}): {error}")
        return [r]

    prober.calls = calls  # type: ignore[attr-defined]
    return prober


def test_add_source_probes_once_then_appends(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    prober = fake_prober()
    added = add_source(
        "https://jobs.ashbyhq.com/VoltaDrive",
        path=path,
        prober=prober,
        company="Volta Drive",
        base_url="http://127.0.0.1:9",
    )
    assert added.entry == {
        "name": "voltadrive",
        "kind": "ashby",
        "company": "Volta Drive",
        "board": "VoltaDrive",
    }
    [probed] = prober.calls
    assert probed.base_url == "http://127.0.0.1:9" and probed.allow_private
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["sources"][-1] == added.entry  # the probe's base_url is not written
    assert "4 postings" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("url", "kwargs", "message"),
    [
        (
            "https://boards.greenhouse.io/AMPLITUDE/",
            {},
            "already reads this board as 'gh-amplitude'",
        ),
        ("https://jobs.lever.co/acme", {}, "needs `company`"),
        ("https://jobs.lever.co/acme", {"name": "knight", "company": "A"}, "another --name"),
        ("https://jobs.ashbyhq.com/acme", {"company": "A", "base_url": "ftp://x"}, "--base-url"),
    ],
)
def test_add_source_refusals_say_what_to_try(tmp_path, url, kwargs, message):
    path = tmp_path / "s.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    prober = fake_prober()
    with pytest.raises(AddSourceError, match=message.replace("(", r"\(").replace("[", r"\[")):
        add_source(url, path=path, prober=prober, **kwargs)
    assert not prober.calls
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_add_source_refuses_an_unreadable_board(tmp_path):
    path = tmp_path / "s.toml"
    prober = fake_prober(error="board 'x' not found (404) — check `board` in the sources file")
    with pytest.raises(AddSourceError, match=r"cannot read .* not found \(404\).*browser"):
        add_source("https://boards.greenhouse.io/x", path=path, prober=prober)
    assert not path.exists()


# -- the real commands, through Scrapy's downloader, against the loopback server ---------------

FAST = '{"AUTOTHROTTLE_ENABLED": false, "DOWNLOAD_DELAY": 0, "ANDON_RETRY_BACKOFF_BASE": 0.05}'

# One board of every existing kind the mock server answers: URL, extra options, what it shows.
LIVE = [
    ("https://hitachi.wd1.myworkdayjobs.com/en-US/hitachi", ["--company", "Hitachi"], "workday"),
    ("https://jobs.smartrecruiters.com/Knight", [], "smartrecruiters"),
    ("https://boards.greenhouse.io/amplitude", [], "greenhouse"),
    ("https://jobs.lever.co/idealistconsulting", ["--company", "Idealist"], "lever"),
    ("https://jobs.ashbyhq.com/HighlightTA", ["--company", "HighlightTA"], "ashby"),
    ("https://himalayas.app/jobs", [], "himalayas"),
    ("https://weworkremotely.com/remote-jobs.rss", [], "rss"),
    ("https://careers.acmefoods.example/careers", [], "jsonld"),
]


def andon_popen(*args: str) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env = {**base, "PYTHONPATH": str(PROJECT), "ANDON_SCRAPY_OVERRIDES": FAST}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=240)
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def server():
    with MockServer() as s:
        yield s


def test_sources_add_and_check_every_kind_on_loopback(tmp_path, server):
    files = {}
    procs = []
    for url, extra, kind in LIVE:
        path = tmp_path / f"{kind}.toml"
        path.write_text(f"# {kind} boards\n", encoding="utf-8")
        files[kind] = path
        args = ("sources", "add", url, "--sources", str(path), "--base-url", server.url, *extra)
        procs.append((kind, andon_popen(*args)))
    for kind, proc in procs:
        code, out, err = finish(proc)
        assert code == 0, (kind, out, err[-2000:])
        assert f"kind: {kind} · " in out
        assert "postings seen" in out or "1 posting seen" in out
        assert "  - " in out  # the first titles
        assert "added " in out
        text = files[kind].read_text(encoding="utf-8")
        assert text.startswith(f"# {kind} boards\n")
        [source] = load_sources(files[kind])
        assert source.kind == kind and source.base_url is None
    combined = tmp_path / "all.toml"
    combined.write_text(
        "# all kinds — this comment must survive\n"
        + "\n".join(p.read_text(encoding="utf-8").split("\n", 1)[1] for p in files.values()),
        encoding="utf-8",
    )
    names = [s.name for s in load_sources(combined)]
    code, out, err = finish(
        andon_popen("sources", "check", "--sources", str(combined), "--base-url", server.url)
    )
    assert code == 0, (out, err[-2000:])
    for name, kind in zip(names, [k for _, _, k in LIVE], strict=True):
        assert any(name in line and kind in line and " ok " in line for line in out.splitlines())


def test_sources_add_refuses_duplicate_and_unreadable(tmp_path, server):
    path = tmp_path / "s.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    dup = andon_popen(
        "sources", "add", "https://boards.greenhouse.io/amplitude", "--sources", str(path)
    )
    gone = andon_popen(
        "sources", "add", "https://boards.greenhouse.io/nosuchboard",
        "--sources", str(path), "--base-url", server.url,
    )  # fmt: skip
    code, _, err = finish(dup)
    assert code == 2 and "already reads this board as 'gh-amplitude'" in err
    code, _, err = finish(gone)
    assert code == 2
    assert "not found (404)" in err and "check `board`" in err
    assert len(err.strip().splitlines()) == 1
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_sources_check_reports_errors(tmp_path, server):
    path = tmp_path / "s.toml"
    path.write_text(
        COMMENTED + '\n[[sources]]\nname = "gone"\nkind = "greenhouse"\nboard = "nosuchboard"\n',
        encoding="utf-8",
    )
    code, out, _ = finish(
        andon_popen(
            "sources", "check", "gone", "knight", "--sources", str(path), "--base-url", server.url
        )
    )
    assert code == 1
    gone = next(line for line in out.splitlines() if "gone" in line)
    assert "error" in gone
    assert "not found (404)" in " ".join(out.replace("│", " ").split())
    knight = next(line for line in out.splitlines() if "knight" in line)
    assert " ok " in knight
    assert "gh-amplitude" not in out
