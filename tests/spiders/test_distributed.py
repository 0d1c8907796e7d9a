"""A source's crawl shared by two `andon crawl` processes through scrapy-redis.

Needs the Redis server named by `ANDON_TEST_REDIS_URL` (a database this test may flush, e.g.
`redis://127.0.0.1:6379/15`); the unit tests below it need nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import db
from config import Settings
from spiders.distributed import redis_keys
from spiders.settings import scrapy_settings
from tests.spiders.mockserver import MockServer

PROJECT = Path(__file__).resolve().parents[2]
REDIS_ENV = "ANDON_TEST_REDIS_URL"

# Workday with pagination and one detail request per posting, and a second source crawled along.
# (Not JSON-LD: its "found no JobPosting on any page" verdict is judged per process.)
SOURCES = """
[[sources]]
name = "wd-hitachi"
kind = "workday"
url = "https://hitachi.wd1.myworkdayjobs.com/hitachi"
company = "Hitachi Energy"

[[sources]]
name = "gh-amplitude"
kind = "greenhouse"
board = "amplitude"
"""
KEEP_ALL_PROFILE = "[include]\npatterns = ['\\w.*\\w']\n"
FAST = '{"AUTOTHROTTLE_ENABLED": false, "DOWNLOAD_DELAY": 0, "ANDON_RETRY_BACKOFF_BASE": 0.05}'
EARLY_END = "pagination ended early: an empty page at offset 40 of 62"
DETAIL_PREFIXES = ("/wday/cxs/hitachi/hitachi/job/",)


def _env(tmp_path: Path, server: MockServer, db_url: str, redis_url: str | None) -> dict[str, str]:
    sources = SOURCES.replace(
        "[[sources]]\n", f'[[sources]]\nbase_url = "{server.url}"\nallow_private = true\n'
    )
    (tmp_path / "sources.toml").write_text(sources)
    (tmp_path / "profile.toml").write_text(KEEP_ALL_PROFILE)
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env = {
        **base,
        "PYTHONPATH": str(PROJECT),
        "ANDON_DATABASE_URL": db_url,
        "ANDON_SCRAPY_OVERRIDES": FAST,
        "ANDON_SOURCES": str(tmp_path / "sources.toml"),
        "ANDON_ROLE_PROFILE": str(tmp_path / "profile.toml"),
    }
    if redis_url:
        env["ANDON_REDIS_URL"] = redis_url
    return env


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _listing(cwd: Path, env: dict[str, str]) -> list[tuple[str, str]]:
    res = subprocess.run(
        [sys.executable, "-m", "cli", "listings", "--format", "json", "--limit", "1000"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return sorted(
        (s["source"], row["title"]) for row in json.loads(res.stdout) for s in row["sources"]
    )


def _details(log: list[tuple[str, str, dict[str, str], bytes]]) -> Counter[str]:
    return Counter(path for method, path, _, _ in log if path.startswith(DETAIL_PREFIXES))


@pytest.mark.redis
def test_two_processes_share_one_crawl(tmp_path, db_url):
    redis_url = os.environ.get(REDIS_ENV)
    if not redis_url:
        pytest.skip(f"needs a Redis database this test may flush: set {REDIS_ENV}")
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()

    # The reference: one process, no Redis, its own database.
    single_dir = tmp_path / "single"
    single_dir.mkdir()
    single_db = f"sqlite:///{single_dir / 'andon.db'}"
    eng = db.make_engine(single_db)
    db.migrate(eng)
    eng.dispose()
    with MockServer() as server:
        env = _env(single_dir, server, single_db, None)
        single = _start(["crawl"], single_dir, env)
        _, err = single.communicate(timeout=180)
        # The recorded Hitachi board announces 62 postings and ends at 40: one source error.
        assert single.returncode == 1 and EARLY_END in err, err
        expected = _listing(single_dir, env)
        expected_details = _details(server.log)
    assert expected and len(expected_details) >= 5
    assert {src for src, _ in expected} == {"wd-hitachi", "gh-amplitude"}

    # Two processes at once, one Redis queue and duplicate filter, one database.
    shared_dir = tmp_path / "shared"
    shared_dir.mkdir()
    with MockServer() as server:
        env = _env(shared_dir, server, db_url, redis_url)
        procs = [_start(["crawl", "--verbose"], shared_dir, env) for _ in range(2)]
        results = [p.communicate(timeout=180) for p in procs]
        for proc, (_out, err) in zip(procs, results, strict=True):
            assert "Traceback" not in err
            assert "crawl shared through Redis" in err
            assert proc.returncode in (0, 1), err  # 1: a source error, as in the single run
        # Workday's list requests are `dont_filter=True` (same URL, other bodies), which the
        # shared filter honours: the first page is fetched by both processes and the later ones
        # by whichever pops them, so one or both report the early end. Details are filtered:
        # each is fetched by one process only (checked below).
        assert any(EARLY_END in err for _, err in results)
        assert 1 in {p.returncode for p in procs}
        assert _listing(shared_dir, env) == expected  # every posting stored, exactly once
        details = _details(server.log)
    assert details == expected_details  # each detail fetched once across both processes
    assert set(details.values()) == {1}
    client.flushdb()
    client.close()


def test_sources_of_one_kind_get_their_own_redis_keys():
    a, b = redis_keys("gh-amplitude"), redis_keys("gh-other")
    assert a["queue"] != b["queue"] and a["dupefilter"] != b["dupefilter"]
    assert a["queue"] != a["dupefilter"]
    assert "gh-amplitude" in a["queue"]


def test_scheduler_opens_with_the_source_keys():
    from types import SimpleNamespace

    from scrapy.settings import Settings as ScrapySettings

    from spiders.distributed import SourceScheduler

    class FakeRedis:
        def scard(self, key: str) -> int:
            return 0

        def zcard(self, key: str) -> int:
            return 0

    settings = ScrapySettings(scrapy_settings(Settings(redis_url="redis://x")))
    keys = []
    for name in ("gh-one", "gh-two"):
        scheduler = SourceScheduler(FakeRedis(), persist=True)
        spider = SimpleNamespace(
            name="greenhouse", source=SimpleNamespace(name=name), settings=settings
        )
        scheduler.open(spider)
        keys.append((scheduler.queue.key, scheduler.df.key))
    assert keys == [
        ("andon:gh-one:requests", "andon:gh-one:dupefilter"),
        ("andon:gh-two:requests", "andon:gh-two:dupefilter"),
    ]


def test_without_redis_url_nothing_of_scrapy_redis_is_set():
    plain = scrapy_settings(Settings(redis_url=None))
    assert "SCHEDULER" not in plain and "DUPEFILTER_CLASS" not in plain
    assert not any("REDIS" in k or "scrapy_redis" in str(v) for k, v in plain.items())
    shared = scrapy_settings(Settings(redis_url="redis://127.0.0.1:6379/0"))
    assert shared["SCHEDULER"] == "spiders.distributed.SourceScheduler"
    assert shared["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert shared["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert shared["SCHEDULER_PERSIST"] is True
